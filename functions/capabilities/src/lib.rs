//! The `capabilities` function: what the authorization server puts in a user's token.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use shared::app::{AppState, wiring};
use shared::domain::access::Access;
use shared::domain::capability::Capability;
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::QueryParams;
use shared::repositories::accounts::Accounts;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/internal/capabilities", get(get_auth_server_capabilities))
}

/// One application's capabilities of a user.
#[derive(Debug, Default, Serialize)]
struct ApplicationCapabilities {
    version: u32,
    capabilities: Vec<CapabilityEntry>,
}

#[derive(Debug, Serialize)]
struct CapabilityEntry {
    resource: Vec<String>,
    role: String,
}

/// Groups capabilities by application, with the newest schema version among them.
fn by_application(capabilities: &[Capability]) -> BTreeMap<String, ApplicationCapabilities> {
    let mut grouped: BTreeMap<String, ApplicationCapabilities> = BTreeMap::new();
    for capability in capabilities {
        let application = grouped.entry(capability.application.clone()).or_default();
        application.version = application.version.max(capability.version);
        application.capabilities.push(CapabilityEntry {
            resource: capability.resource.clone(),
            role: capability.role.clone(),
        });
    }
    grouped
}

/// The capabilities of the user `username`, for the authorization server only: an
/// APPLICATION user holding SERVICE.
async fn get_auth_server_capabilities(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> AppResult<Json<BTreeMap<String, ApplicationCapabilities>>> {
    caller.require(&state, Access::SERVICE, ()).await?;
    let username: String = query.required("username", "a username")?;
    if username.trim().is_empty() {
        return Err(AppError::field(FieldError::query("username", "must not be empty")));
    }
    let accounts = Accounts::new(state.store.as_ref());
    let not_found = || AppError::NotFound(format!("user {username}"));
    let user = accounts.find_by_username(&username).await?.ok_or_else(not_found)?;
    let account = accounts.load(user).await?.ok_or_else(not_found)?;
    Ok(Json(by_application(&account.capabilities)))
}
