//! The `status` function: whether each application of the platform is UP or DOWN, as
//! customer care and platform services set it. Every change is kept (who, when, in
//! order) and wakes the status streams (`subscribeApplicationStatus`).

use axum::extract::{RawPathParams, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use shared::api::action::ActionResult;
use shared::app::{AppState, wiring};
use shared::changes::Topic;
use shared::domain::access::Access;
use shared::domain::status::{AppStatus, RawStatusUpdate};
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, application_path};
use shared::repositories::RepositoryError;
use shared::repositories::status::Statuses;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/status/{application}", get(get_application_status).put(set_application_status))
}

/// `{status}`, as the API spells it (`ApplicationStatus`).
#[derive(Debug, Serialize)]
struct StatusView {
    status: AppStatus,
}

/// The application's status: UP unless it was last set DOWN.
async fn get_application_status(State(state): State<AppState>, _caller: Caller, params: RawPathParams) -> AppResult<Json<StatusView>> {
    let application = application_path(state.stage, &params)?;
    let current = Statuses::new(state.store.as_ref()).current(&application).await?;
    Ok(Json(StatusView { status: current.status }))
}

/// Sets the application's status, recording who changed it and when (setting the status
/// it has changes nothing), then wakes the streams that follow it.
async fn set_application_status(
    State(state): State<AppState>,
    caller: Caller,
    params: RawPathParams,
    JsonBody(body): JsonBody<RawStatusUpdate>,
) -> AppResult<Json<ActionResult>> {
    caller.require(&state, Access::CARE | Access::SERVICE, ()).await?;
    let application = application_path(state.stage, &params)?;
    let status = body.validate()?;
    let statuses = Statuses::new(state.store.as_ref());
    // Of changes racing, each is applied on the one before it, in turn.
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    let now = loop {
        let now = state.clock.now();
        let current = statuses.current(&application).await?;
        let Some(change) = current.change_to(&application, status, caller.user_pk(), now) else {
            return Ok(Json(ActionResult::ok(now, "STATUS_UNCHANGED")));
        };
        match statuses.record(&change).await {
            Ok(()) => break now,
            Err(RepositoryError::ChangedMeanwhile(_)) if attempt < ATTEMPTS => attempt += 1,
            Err(error) => return Err(error.into()),
        }
    };
    state.changes.publish(Topic::ApplicationStatus(application));
    Ok(Json(ActionResult::ok(now, "STATUS_SET")))
}
