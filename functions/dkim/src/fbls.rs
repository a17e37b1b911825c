//! Feedback-loop (FBL) configurations: a second signature, with the FBL's own key,
//! on messages to a recipient domain.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dkim_engine::names;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use shared::api::dkim::{KeyInput, KeyView};
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::validation::{FieldError, Violations};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::created;
use shared::http::extract::{JsonBody, QueryParams, UuidPath};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::Versioned;
use shared::repositories::dkims::{Dkims, Fbl, fbl_key_context};

/// The longest ESP name accepted.
const MAX_ESP_LEN: usize = 100;

/// `Fbl`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FblInfo {
    id: Uuid,
    esp: String,
    recipient_domain: String,
    signable_headers: Vec<String>,
    dkim: KeyView,
}

impl FblInfo {
    fn of(fbl: &Fbl, caller: &Caller) -> Self {
        Self {
            id: fbl.id,
            esp: fbl.esp.clone(),
            recipient_domain: fbl.recipient_domain.clone(),
            signable_headers: fbl.signable_headers.clone(),
            dkim: KeyView::of(&fbl.dkim, caller.grants().is_dkim()),
        }
    }
}

/// `FblRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FblRequest {
    esp: String,
    recipient_domain: String,
    signable_headers: Vec<String>,
    dkim: KeyInput,
}

/// A valid `FblRequest`, the key not yet sealed.
struct ValidFbl {
    esp: String,
    recipient_domain: String,
    signable_headers: Vec<String>,
    dkim: shared::api::dkim::ValidKey,
}

/// A header field name (RFC 5322 `ftext`: printable ASCII but the colon).
fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

impl FblRequest {
    /// Validates every field; `stored` is the FBL being replaced.
    fn validate(self, stored: Option<&Fbl>) -> Result<ValidFbl, Vec<FieldError>> {
        let mut violations = Violations::new();
        let esp = self.esp.trim().to_owned();
        if esp.is_empty() || esp.chars().count() > MAX_ESP_LEN {
            violations.body("/esp", format!("must be 1 to {MAX_ESP_LEN} characters"));
        }
        let recipient_domain = names::domain_name(&self.recipient_domain).unwrap_or_else(|reason| {
            violations.body("/recipientDomain", reason);
            String::new()
        });
        let mut signable_headers: Vec<String> = Vec::with_capacity(self.signable_headers.len());
        for (index, name) in self.signable_headers.iter().enumerate() {
            if !is_header_name(name) {
                violations.body(format!("/signableHeaders/{index}"), "is not a header field name");
            } else if signable_headers.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                violations.body(format!("/signableHeaders/{index}"), "is listed twice");
            } else {
                signable_headers.push(name.clone());
            }
        }
        if !signable_headers.iter().any(|name| name.eq_ignore_ascii_case("From")) {
            violations.body("/signableHeaders", "must include From: every DKIM signature covers it");
        }
        let dkim = self.dkim.validate("/dkim", stored.map(|fbl| &fbl.dkim), violations)?;
        Ok(ValidFbl {
            esp,
            recipient_domain,
            signable_headers,
            dkim,
        })
    }
}

impl ValidFbl {
    /// The FBL `id` to store, its key sealed.
    async fn seal(self, state: &AppState, id: Uuid, stored: Option<&Fbl>) -> AppResult<Fbl> {
        let now = state.clock.now();
        Ok(Fbl {
            id,
            esp: self.esp,
            recipient_domain: self.recipient_domain,
            signable_headers: self.signable_headers,
            dkim: self.dkim.seal(state.key_vault.as_ref(), &fbl_key_context(id)).await?,
            created_at: stored.map_or(now, |fbl| fbl.created_at),
            updated_at: now,
        })
    }
}

pub(crate) async fn list_fbls(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Page<FblInfo>>> {
    caller.require(&state, Access::CARE | Access::DKIM, ()).await?;
    let request = PageRequest::from_query(&query)?;
    let (fbls, total) = Dkims::new(state.store.as_ref()).fbls(request.offset(), request.size).await?;
    let infos = fbls.iter().map(|fbl| FblInfo::of(fbl, &caller)).collect();
    Ok(Json(Page::new(request, total, infos)))
}

pub(crate) async fn create_fbl(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<FblRequest>,
) -> AppResult<Response> {
    caller.require(&state, Access::DKIM, ()).await?;
    let valid = request.validate(None)?;
    let fbl = valid.seal(&state, Uuid::new_v4(), None).await?;
    Dkims::new(state.store.as_ref()).create_fbl(&fbl).await?;
    created(&format!("/v1/fbls/{}", fbl.id), FblInfo::of(&fbl, &caller))
}

/// The FBL `id`, or 404.
async fn fbl_of(dkims: &Dkims<'_>, id: Uuid) -> AppResult<Versioned<Fbl>> {
    dkims.fbl(id).await?.ok_or_else(|| AppError::NotFound(format!("FBL {id}")))
}

pub(crate) async fn update_fbl(
    State(state): State<AppState>,
    caller: Caller,
    UuidPath(id): UuidPath,
    JsonBody(request): JsonBody<FblRequest>,
) -> AppResult<Json<FblInfo>> {
    caller.require(&state, Access::DKIM, ()).await?;
    let dkims = Dkims::new(state.store.as_ref());
    let current = fbl_of(&dkims, id).await?;
    let valid = request.validate(Some(&current.value))?;
    let fbl = valid.seal(&state, id, Some(&current.value)).await?;
    dkims.update_fbl(&current, &fbl).await?;
    Ok(Json(FblInfo::of(&fbl, &caller)))
}

pub(crate) async fn delete_fbl(State(state): State<AppState>, caller: Caller, UuidPath(id): UuidPath) -> AppResult<StatusCode> {
    caller.require(&state, Access::DKIM, ()).await?;
    let dkims = Dkims::new(state.store.as_ref());
    let current = fbl_of(&dkims, id).await?;
    dkims.delete_fbl(&current).await?;
    Ok(StatusCode::NO_CONTENT)
}
