//! The `signing` function: `signMessage` alone, sized for CPU. It parses a message
//! once, selects the customer's key for the sender domain (or the platform key) and
//! the FBL of the recipient domain, and adds their DKIM signatures.

mod bounded;
pub mod keys;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Extension, Json, Router};
use dkim_engine::Algorithm;
use dkim_engine::header_set::HeaderSet;
use dkim_engine::message::{MAX_MESSAGE_BYTES, Message, MessageError};
use dkim_engine::names;
use dkim_engine::sign::SignatureSpec;
use serde::{Deserialize, Serialize};

use shared::app::{AppState, wiring};
use shared::domain::access::Access;
use shared::domain::dkim::records::StoredKey;
use shared::domain::dkim::selection::{Selection, select};
use shared::domain::ids::GroupPk;
use shared::domain::validation::{FieldError, object};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, JsonBody};

use crate::keys::{CachedCustomer, CustomerDirectory, KeyCache, SealedKey};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::KEY_VAULT;

/// The largest request body: a message of the largest size, JSON-escaped.
const MAX_BODY_BYTES: usize = 2 * MAX_MESSAGE_BYTES + 64 * 1024;

/// The function's routes, with the key cache of this process.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/customers/{groupPk}/sign", post(sign_message))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(Arc::new(KeyCache::from_env())))
}

/// `MessageSigningData`.
#[derive(Debug, Default, Deserialize)]
struct SigningData {
    sender: Option<String>,
    recipient: Option<String>,
}

/// `SignRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignRequest {
    message: String,
    #[serde(deserialize_with = "object")]
    data: SigningData,
    #[serde(default = "yes")]
    apply_dkim: bool,
    #[serde(default = "yes")]
    apply_fbl: bool,
}

fn yes() -> bool {
    true
}

/// `DkimSignatureInfo`.
#[derive(Debug, Serialize)]
struct SignatureInfo {
    domain: String,
    selector: String,
    algorithm: Algorithm,
}

impl SignatureInfo {
    fn of(key: &StoredKey) -> Self {
        Self {
            domain: key.domain.clone(),
            selector: key.selector.clone(),
            algorithm: key.algorithm,
        }
    }
}

/// `FblSignatureInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FblSignatureInfo {
    #[serde(flatten)]
    signature: SignatureInfo,
    recipient_domain: String,
}

/// `SignResponse`.
#[derive(Debug, Serialize)]
struct SignResponse {
    message: String,
    dkim: Option<SignatureInfo>,
    fbl: Option<FblSignatureInfo>,
}

/// The domain of an address or bare domain in `data`, or 400 naming it.
fn domain_in(value: &str, pointer: &str) -> AppResult<String> {
    names::domain_of(value).map_err(|reason| AppError::field(FieldError::body(pointer, reason)))
}

fn message_error(error: MessageError) -> AppError {
    match error {
        MessageError::TooLarge => AppError::TooLarge(format!("a message may have at most {MAX_MESSAGE_BYTES} bytes")),
        error => AppError::field(FieldError::body("/message", error.to_string())),
    }
}

/// The key that signs for `sender_domain` (when there is one) among the customer's (the
/// selection rule of `domain::dkim::selection`), else the platform's.
async fn dkim_key(
    state: &AppState,
    keys: &KeyCache,
    customer: &CustomerDirectory,
    group: GroupPk,
    sender_domain: Option<&str>,
) -> AppResult<SealedKey> {
    let chosen = match select(&customer.keys.keys, customer.keys.default_id(), sender_domain) {
        Selection::Customer { key, .. } => customer.sealed(group, key.value.id),
        Selection::Platform => keys.platform(state).await?.as_deref().cloned(),
    };
    chosen.ok_or_else(|| AppError::NotFound("signing key: the customer has none and the platform key is not set".into()))
}

/// Signs a message for a customer: service(g), the platform's mail system or the customer's own.
async fn sign_message(
    State(state): State<AppState>,
    Extension(keys): Extension<Arc<KeyCache>>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(request): JsonBody<SignRequest>,
) -> AppResult<Json<SignResponse>> {
    let customer = caller
        .require(&state, Access::SERVICE_OF, CachedCustomer { keys: &keys, group })
        .await?;
    if let Some(sending) = &customer.customer {
        sending.check_sends_mail()?;
    }
    let message = Message::parse(request.message.as_bytes()).map_err(message_error)?;
    // Without a sender, the From header's domain; without either, the selection rule's
    // default key signs.
    let sender_domain = match &request.data.sender {
        Some(sender) => Some(domain_in(sender, "/data/sender")?),
        None => message.from_domain(),
    };
    let recipient_domain = request
        .data
        .recipient
        .as_deref()
        .map(|recipient| domain_in(recipient, "/data/recipient"))
        .transpose()?;
    let timestamp = state.clock.now().as_second();
    let mut fields = Vec::with_capacity(2);

    let dkim = if request.apply_dkim {
        let sealed = dkim_key(&state, &keys, &customer, group, sender_domain.as_deref()).await?;
        let signer = keys.signer(&state, &sealed).await?;
        let spec = SignatureSpec {
            domain: &sealed.key.domain,
            selector: &sealed.key.selector,
            timestamp,
            headers: HeaderSet::Recommended,
        };
        fields.push(message.sign(&signer, &spec).map_err(AppError::internal)?);
        Some(SignatureInfo::of(&sealed.key))
    } else {
        None
    };

    let fbl = match recipient_domain.filter(|_| request.apply_fbl) {
        Some(recipient_domain) => match keys.fbl(&state, &recipient_domain).await? {
            Some(entry) => {
                let signer = keys.signer(&state, &entry.sealed).await?;
                let spec = SignatureSpec {
                    domain: &entry.sealed.key.domain,
                    selector: &entry.sealed.key.selector,
                    timestamp,
                    headers: HeaderSet::Listed(&entry.fbl.signable_headers),
                };
                fields.push(message.sign(&signer, &spec).map_err(AppError::internal)?);
                Some(FblSignatureInfo {
                    signature: SignatureInfo::of(&entry.sealed.key),
                    recipient_domain,
                })
            }
            None => None,
        },
        None => None,
    };

    let signed = String::from_utf8(message.with_signatures(&fields)).map_err(|_| AppError::internal("a signed message is not UTF-8"))?;
    Ok(Json(SignResponse {
        message: signed,
        dkim,
        fbl,
    }))
}
