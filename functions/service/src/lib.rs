//! The `service` function: what other platform services ask about the caller —
//! basic info with roles, the platform view (groups, workspaces, nodes), and its customers.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use shared::api::customers::CustomerSummary;
use shared::app::{AppState, wiring};
use shared::domain::access::Access;
use shared::domain::capability::roles_by_application;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::preferences::Preferences;
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, QueryParams};
use shared::repositories::configuration::Configurations;
use shared::repositories::customers::Customers;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/service/user", get(get_service_user))
        .route("/v1/service/user-info", get(get_service_user_info))
        .route("/v1/service/customers", get(list_service_customers))
        .route("/v1/service/customers/{groupPk}", get(check_service_customer))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceUser {
    user_pk: UserPk,
    name: String,
    surname: String,
    username: String,
    email: String,
    picture: Option<String>,
    lang: String,
    timezone: String,
    creation_group_pk: GroupPk,
    creation_group_name: String,
    external: bool,
    roles: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Platform {
    groups: Vec<PlatformGroup>,
    workspaces: Vec<PlatformWorkspace>,
    nodes: Vec<PlatformNode>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformGroup {
    group_pk: GroupPk,
    group_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformWorkspace {
    id: String,
    name: String,
    group_pk: GroupPk,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformNode {
    id: String,
    name: String,
    workspace_id: String,
}

/// The caller's basic info; with `platform`, the groups it is associated with and their hub workspaces and nodes.
async fn service_user(state: &AppState, caller: &Caller, with_platform: bool) -> AppResult<ServiceUser> {
    let user = &caller.account.user.value;
    let preferences = caller.account.preferences.clone().unwrap_or_else(Preferences::defaults);
    let customers = Customers::new(state.store.as_ref());
    let mut wanted: Vec<GroupPk> = caller.account.associations.clone();
    wanted.push(user.creation_group_pk);
    wanted.sort();
    wanted.dedup();
    let known = customers.get_many(wanted).await?;
    let creation_group_name = known
        .iter()
        .find(|c| c.group_pk == user.creation_group_pk)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let platform = if with_platform {
        let associated: Vec<_> = known.iter().filter(|c| caller.account.associations.contains(&c.group_pk)).collect();
        let mut platform = Platform {
            groups: associated
                .iter()
                .map(|c| PlatformGroup {
                    group_pk: c.group_pk,
                    group_name: c.name.clone(),
                })
                .collect(),
            workspaces: Vec::new(),
            nodes: Vec::new(),
        };
        for customer in associated {
            for workspace in Configurations::new(state.store.as_ref()).hub_workspaces(customer.group_pk).await? {
                platform.nodes.extend(workspace.nodes.iter().map(|n| PlatformNode {
                    id: n.id.clone(),
                    name: n.name.clone(),
                    workspace_id: workspace.id.clone(),
                }));
                platform.workspaces.push(PlatformWorkspace {
                    id: workspace.id,
                    name: workspace.name,
                    group_pk: customer.group_pk,
                });
            }
        }
        Some(platform)
    } else {
        None
    };
    Ok(ServiceUser {
        user_pk: user.user_pk,
        name: user.name.clone(),
        surname: user.surname.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        picture: user.picture.clone(),
        lang: preferences.language,
        timezone: preferences.timezone,
        creation_group_pk: user.creation_group_pk,
        creation_group_name,
        external: user.external,
        roles: roles_by_application(&caller.account.capabilities),
        platform,
    })
}

async fn get_service_user(State(state): State<AppState>, caller: Caller) -> AppResult<Json<ServiceUser>> {
    Ok(Json(service_user(&state, &caller, false).await?))
}

async fn get_service_user_info(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<ServiceUser>> {
    let with_platform = match query.one("expand")? {
        None => false,
        Some("platform") => true,
        Some(_) => return Err(AppError::field(FieldError::query("expand", "must be platform"))),
    };
    Ok(Json(service_user(&state, &caller, with_platform).await?))
}

async fn list_service_customers(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<CustomerSummary>>> {
    let customers = Customers::new(state.store.as_ref())
        .get_many(caller.account.associations.iter().copied())
        .await?;
    Ok(Json(customers.iter().map(CustomerSummary::from).collect()))
}

async fn check_service_customer(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
) -> AppResult<Json<CustomerSummary>> {
    let customer = caller.require(&state, Access::ASSOCIATE, group).await?;
    Ok(Json(CustomerSummary::from(&customer.value)))
}
