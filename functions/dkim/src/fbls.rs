//! Feedback-loop (FBL) configurations: a second signature, with the FBL's own key,
//! on messages to a recipient domain.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Serialize;
use uuid::Uuid;

use shared::api::dkim::KeyView;
use shared::app::AppState;
use shared::auth::caller::Caller;
use shared::domain::dkim::records::{Fbl, FblRequest};
use shared::error::{AppError, AppResult};
use shared::http::created;
use shared::http::extract::{JsonBody, QueryParams, UuidPath};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::Versioned;
use shared::repositories::dkims::Dkims;

use crate::platform::{ensure_dkim_operator, ensure_reads_platform};

/// The FBL routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/fbls", get(list_fbls).post(create_fbl))
        .route("/v1/fbls/{uuid}", put(update_fbl).delete(delete_fbl))
}

/// `Fbl`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FblInfo {
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
            dkim: KeyView::of(&fbl.dkim, caller.is_dkim_operator()),
        }
    }
}

async fn list_fbls(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Page<FblInfo>>> {
    let request = PageRequest::from_query(&query)?;
    ensure_reads_platform(&caller)?;
    let (fbls, total) = Dkims::new(state.store.as_ref(), state.cipher.as_ref())
        .fbls(request.offset(), request.size)
        .await?;
    let infos = fbls.iter().map(|fbl| FblInfo::of(fbl, &caller)).collect();
    Ok(Json(Page::new(request, total, infos)))
}

async fn create_fbl(State(state): State<AppState>, caller: Caller, JsonBody(request): JsonBody<FblRequest>) -> AppResult<Response> {
    ensure_dkim_operator(&caller)?;
    let valid = request.validate(None)?;
    let fbl = Dkims::new(state.store.as_ref(), state.cipher.as_ref())
        .create_fbl(Uuid::new_v4(), valid, state.clock.now())
        .await?;
    created(&format!("/v1/fbls/{}", fbl.id), FblInfo::of(&fbl, &caller))
}

/// The FBL `id`, or 404.
async fn fbl_of(dkims: &Dkims<'_>, id: Uuid) -> AppResult<Versioned<Fbl>> {
    dkims.fbl(id).await?.ok_or_else(|| AppError::NotFound(format!("FBL {id}")))
}

async fn update_fbl(
    State(state): State<AppState>,
    caller: Caller,
    UuidPath(id): UuidPath,
    JsonBody(request): JsonBody<FblRequest>,
) -> AppResult<Json<FblInfo>> {
    ensure_dkim_operator(&caller)?;
    let dkims = Dkims::new(state.store.as_ref(), state.cipher.as_ref());
    let current = fbl_of(&dkims, id).await?;
    let valid = request.validate(Some(&current.value))?;
    let fbl = dkims.update_fbl(&current, valid, state.clock.now()).await?;
    Ok(Json(FblInfo::of(&fbl, &caller)))
}

async fn delete_fbl(State(state): State<AppState>, caller: Caller, UuidPath(id): UuidPath) -> AppResult<StatusCode> {
    ensure_dkim_operator(&caller)?;
    let dkims = Dkims::new(state.store.as_ref(), state.cipher.as_ref());
    let current = fbl_of(&dkims, id).await?;
    dkims.delete_fbl(&current).await?;
    Ok(StatusCode::NO_CONTENT)
}
