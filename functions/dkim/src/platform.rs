//! The platform's view: every customer's keys, and the platform key.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Serialize;

use shared::api::dkim::KeyView;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::dkim::records::{KeyInput, PlatformDkim};
use shared::domain::validation::Violations;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, QueryParams};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::dkims::Dkims;

use crate::customer_keys::DkimInfo;

pub(crate) async fn list_all_dkims(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Page<DkimInfo>>> {
    caller.require(&state, Access::CARE | Access::DKIM, ()).await?;
    let request = PageRequest::from_query(&query)?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let (keys, total) = dkims.all_keys(request.offset(), request.size).await?;
    let defaults = dkims.default_ids(keys.iter().map(|key| key.group_pk)).await?;
    let infos = keys
        .iter()
        .map(|key| DkimInfo::of(key, defaults.get(&key.group_pk) == Some(&key.id), &caller))
        .collect();
    Ok(Json(Page::new(request, total, infos)))
}

/// `PlatformDkim`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlatformDkimInfo {
    #[serde(flatten)]
    key: KeyView,
    update_date: Timestamp,
}

impl PlatformDkimInfo {
    fn of(key: &PlatformDkim, caller: &Caller) -> Self {
        Self {
            key: KeyView::of(&key.key, caller.grants().is_dkim()),
            update_date: key.updated_at,
        }
    }
}

pub(crate) async fn get_platform_dkim(State(state): State<AppState>, caller: Caller) -> AppResult<Json<PlatformDkimInfo>> {
    caller.require(&state, Access::CARE | Access::DKIM, ()).await?;
    let key = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .platform_key()
        .await?
        .ok_or_else(|| AppError::NotFound("platform key".into()))?;
    Ok(Json(PlatformDkimInfo::of(&key.value, &caller)))
}

pub(crate) async fn update_platform_dkim(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<KeyInput>,
) -> AppResult<Json<PlatformDkimInfo>> {
    caller.require(&state, Access::DKIM, ()).await?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let current = dkims.platform_key().await?;
    let valid = input.validate("", None, Violations::new())?;
    let key = dkims
        .put_platform_key(valid, current.map(|current| current.version), state.clock.now())
        .await?;
    Ok(Json(PlatformDkimInfo::of(&key, &caller)))
}
