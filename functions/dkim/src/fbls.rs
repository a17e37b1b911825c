//! Feedback-loop (FBL) configurations: a second signature, with the FBL's own key,
//! on messages to a recipient domain.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use uuid::Uuid;

use shared::api::dkim::KeyView;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::dkim::records::{Fbl, FblRequest};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::created;
use shared::http::extract::{JsonBody, QueryParams, UuidPath};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::Versioned;
use shared::repositories::dkims::Dkims;

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

pub(crate) async fn list_fbls(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Page<FblInfo>>> {
    caller.require(&state, Access::CARE | Access::DKIM, ()).await?;
    let request = PageRequest::from_query(&query)?;
    let (fbls, total) = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .fbls(request.offset(), request.size)
        .await?;
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
    let fbl = Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
        .create_fbl(Uuid::new_v4(), valid, state.clock.now())
        .await?;
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
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let current = fbl_of(&dkims, id).await?;
    let valid = request.validate(Some(&current.value))?;
    let fbl = dkims.update_fbl(&current, valid, state.clock.now()).await?;
    Ok(Json(FblInfo::of(&fbl, &caller)))
}

pub(crate) async fn delete_fbl(State(state): State<AppState>, caller: Caller, UuidPath(id): UuidPath) -> AppResult<StatusCode> {
    caller.require(&state, Access::DKIM, ()).await?;
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    let current = fbl_of(&dkims, id).await?;
    dkims.delete_fbl(&current).await?;
    Ok(StatusCode::NO_CONTENT)
}
