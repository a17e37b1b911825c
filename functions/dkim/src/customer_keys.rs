//! A customer's DKIM keys, its default key, and the key that signs for a sender domain.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use dkim_engine::names::{self, Alignment};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use shared::api::action::ActionResult;
use shared::api::dkim::KeyView;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::dkim::records::{CustomerDkim, KeyInput, SecretText, ensure_unique};
use shared::domain::dkim::selection::{Selection, select};
use shared::domain::ids::{DkimId, GroupPk};
use shared::domain::validation::{FieldError, Violations, present};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::created;
use shared::http::extract::{DkimIdPath, GroupPkPath, JsonBody, QueryParams};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::Versioned;
use shared::repositories::dkims::{CustomerKeys, Dkims};

/// A customer key as shown (`Dkim`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DkimInfo {
    id: DkimId,
    group_pk: GroupPk,
    #[serde(flatten)]
    key: KeyView,
    alignment: Alignment,
    default: bool,
    active: bool,
    creation_date: Timestamp,
    update_date: Timestamp,
}

impl DkimInfo {
    /// `key` as the caller may see it; a stored key aligns EXACT with its own domain.
    pub(crate) fn of(key: &CustomerDkim, default: bool, caller: &Caller) -> Self {
        Self {
            id: key.id,
            group_pk: key.group_pk,
            key: KeyView::of(&key.key, caller.grants().is_dkim()),
            alignment: Alignment::Exact,
            default,
            active: key.active,
            creation_date: key.created_at,
            update_date: key.updated_at,
        }
    }
}

/// `DkimRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DkimRequest {
    domain: String,
    selector: String,
    public_key: String,
    #[serde(default, deserialize_with = "present")]
    private_key: Option<Option<SecretText>>,
    active: bool,
}

impl DkimRequest {
    fn split(self) -> (KeyInput, bool) {
        let key = KeyInput {
            domain: self.domain,
            selector: self.selector,
            public_key: self.public_key,
            private_key: self.private_key,
        };
        (key, self.active)
    }
}

/// The key `id` among `keys`, or 404.
fn key_of(keys: &CustomerKeys, group: GroupPk, id: DkimId) -> AppResult<&Versioned<CustomerDkim>> {
    keys.get(id)
        .ok_or_else(|| AppError::NotFound(format!("key {id} of customer {group}")))
}

pub(crate) async fn list_customer_dkims(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<DkimInfo>>> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let request = PageRequest::from_query(&query)?;
    let domain = query
        .one("domain")?
        .map(|domain| names::domain_name(domain).map_err(|reason| AppError::field(FieldError::query("domain", reason))))
        .transpose()?;
    let default = query.parsed::<bool>("default", "true or false")?;
    let active = query.parsed::<bool>("active", "true or false")?;
    let keys = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .customer_keys(group)
        .await?;
    let default_id = keys.default_id();
    let mut listed: Vec<&CustomerDkim> = keys
        .keys
        .iter()
        .map(|key| &key.value)
        .filter(|key| domain.as_ref().is_none_or(|domain| key.key.domain == *domain))
        .filter(|key| default.is_none_or(|default| (default_id == Some(key.id)) == default))
        .filter(|key| active.is_none_or(|active| key.active == active))
        .collect();
    listed.sort_by(|a, b| (&a.key.domain, &a.key.selector, a.id).cmp(&(&b.key.domain, &b.key.selector, b.id)));
    let infos = listed
        .into_iter()
        .map(|key| DkimInfo::of(key, default_id == Some(key.id), &caller))
        .collect();
    Ok(Json(Page::slice(request, infos)))
}

pub(crate) async fn create_customer_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(request): JsonBody<DkimRequest>,
) -> AppResult<Response> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let keys = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .customer_keys(group)
        .await?;
    keys.header().check_room()?;
    let (input, active) = request.split();
    let valid = input.validate("", None, Violations::new())?;
    ensure_unique(keys.records(), None, &valid.domain, &valid.selector)?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let (record, default) = dkims.create(group, valid, active, state.clock.now()).await?;
    created(
        &format!("/v1/customers/{group}/dkims/{}", record.id),
        DkimInfo::of(&record, default, &caller),
    )
}

pub(crate) async fn get_customer_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    DkimIdPath(id): DkimIdPath,
) -> AppResult<Json<DkimInfo>> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let keys = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .customer_keys(group)
        .await?;
    let key = key_of(&keys, group, id)?;
    Ok(Json(DkimInfo::of(&key.value, keys.default_id() == Some(id), &caller)))
}

pub(crate) async fn update_customer_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    DkimIdPath(id): DkimIdPath,
    JsonBody(request): JsonBody<DkimRequest>,
) -> AppResult<Json<ActionResult>> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let keys = dkims.customer_keys(group).await?;
    let current = key_of(&keys, group, id)?;
    let (input, active) = request.split();
    let valid = input.validate("", Some(&current.value.key), Violations::new())?;
    keys.header().check_activity(id, active)?;
    ensure_unique(keys.records(), Some(id), &valid.domain, &valid.selector)?;
    let now = state.clock.now();
    dkims.update(&keys, current, valid, active, now).await?;
    Ok(Json(ActionResult::ok(now, "DKIM_UPDATED")))
}

pub(crate) async fn delete_customer_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    DkimIdPath(id): DkimIdPath,
) -> AppResult<Json<ActionResult>> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let keys = dkims.customer_keys(group).await?;
    let current = key_of(&keys, group, id)?;
    keys.header().check_removal(id)?;
    dkims.delete(&keys, current).await?;
    Ok(Json(ActionResult::ok(state.clock.now(), "DKIM_DELETED")))
}

/// `DefaultDkimRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct DefaultDkimRequest {
    id: DkimId,
}

pub(crate) async fn set_customer_default_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(request): JsonBody<DefaultDkimRequest>,
) -> AppResult<Json<ActionResult>> {
    caller.require(&state, Access::ADMIN | Access::DKIM, group).await?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let keys = dkims.customer_keys(group).await?;
    let key = key_of(&keys, group, request.id)?;
    key.value.check_may_be_default()?;
    dkims.set_default(&keys, key).await?;
    Ok(Json(ActionResult::ok(state.clock.now(), "DEFAULT_DKIM_SET")))
}

/// `SigningDkim`: the key that signs, customer's or platform's.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SigningDkim {
    id: Option<DkimId>,
    group_pk: Option<GroupPk>,
    #[serde(flatten)]
    key: KeyView,
    alignment: Alignment,
    default: bool,
    platform: bool,
}

pub(crate) async fn get_signing_dkim(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<SigningDkim>> {
    caller
        .require(&state, Access::ADMIN | Access::DKIM | Access::SERVICE_OF, group)
        .await?;
    let domain = query
        .one("domain")?
        .map(|domain| names::domain_name(domain).map_err(|reason| AppError::field(FieldError::query("domain", reason))))
        .transpose()?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let keys = dkims.customer_keys(group).await?;
    let reveal = caller.grants().is_dkim();
    let signing = match select(&keys.keys, keys.default_id(), domain.as_deref()) {
        Selection::Customer { key, alignment } => SigningDkim {
            id: Some(key.value.id),
            group_pk: Some(group),
            key: KeyView::of(&key.value.key, reveal),
            alignment,
            default: keys.default_id() == Some(key.value.id),
            platform: false,
        },
        Selection::Platform => {
            let platform = dkims
                .platform_key()
                .await?
                .ok_or_else(|| AppError::NotFound("signing key: the customer has none and the platform key is not set".into()))?;
            SigningDkim {
                id: None,
                group_pk: None,
                key: KeyView::of(&platform.value.key, reveal),
                alignment: Alignment::None,
                default: false,
                platform: true,
            }
        }
    };
    Ok(Json(signing))
}
