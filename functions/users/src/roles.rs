//! A team member's roles per application, capabilities and capability log.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{RawPathParams, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use shared::api::action::ActionResult;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::capability::{
    Capability, CapabilityRequest, MAX_RESOURCE_SEGMENTS, Resource, check_association, may_delegate, roles_by_application,
};
use shared::domain::catalogue::Catalogue;
use shared::domain::customer::Customer;
use shared::domain::ids::{CapabilityId, GroupPk};
use shared::domain::roles::{diff_roles, parse_assignment};
use shared::domain::validation::{Bounded, FieldError};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, QueryParams, UserPkPath, key_path_param};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::accounts::{Account, AccountChange, Accounts, CapabilityLogEntry};
use shared::repositories::customers::Customers;

/// Version of the capabilities schema that role assignments write.
const ROLE_SCHEMA_VERSION: u32 = 1;

/// The user's roles per application, on what the caller reaches.
pub async fn get_user_roles(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
) -> AppResult<Json<BTreeMap<String, Vec<String>>>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let capabilities = &target.account.capabilities;
    let customers = named_customers(&state, capabilities.iter().map(|c| c.resource.as_slice())).await?;
    Ok(Json(roles_by_application(
        capabilities.iter().filter(|c| caller.grants().reaches(&c.resource, &customers)),
    )))
}

/// Sets the user's role per application, on the customer the user was created in:
/// the application's capabilities there are replaced by the new role (or removed for null).
pub async fn assign_user_roles(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> AppResult<Json<BTreeMap<String, Vec<String>>>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let changes = parse_assignment(&body, Catalogue::get())?;
    let home = caller
        .require(&state, Access::ADMIN, target.account.user.value.creation_group_pk)
        .await?;
    let account = &target.account;
    let resource = Resource::customer(home.value.group_pk);
    let diff = diff_roles(&account.capabilities, &resource, changes);
    let accounts = Accounts::new(state.store.as_ref());
    let mut change = AccountChange::of(account, Some(caller.user_pk()), state.clock.now());
    change.revoked = diff.revoked;
    for (application, role) in diff.granted {
        change.granted.push(Capability {
            id: accounts.next_capability_id().await?,
            application,
            version: ROLE_SCHEMA_VERSION,
            resource: resource.clone(),
            role,
            granted_at: change.at,
            granted_by: change.by,
        });
    }
    let mut capabilities = account.capabilities.clone();
    if !change.granted.is_empty() || !change.revoked.is_empty() {
        capabilities.retain(|c| !change.revoked.iter().any(|r| r.id == c.id));
        capabilities.extend(change.granted.iter().cloned());
        accounts.save(change).await?;
    }
    Ok(Json(roles_by_application(&capabilities)))
}

/// The body of `grantCapability`.
#[derive(Deserialize)]
pub struct CapabilityGrant {
    application: String,
    version: u32,
    resource: Bounded<String, MAX_RESOURCE_SEGMENTS>,
    role: String,
}

#[derive(Serialize)]
pub struct Granted {
    id: CapabilityId,
}

/// Grants a capability the caller itself holds (see `may_delegate`) on a customer the
/// user reaches; a capability the user already has is a conflict.
pub async fn grant_capability(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(body): JsonBody<CapabilityGrant>,
) -> AppResult<(StatusCode, Json<ActionResult<Granted>>)> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let request = CapabilityRequest {
        application: body.application,
        version: body.version,
        resource: body.resource.into_inner(),
        role: body.role,
    };
    let resource = request.validate(Catalogue::get())?;
    let holder = request.check_holder(target.account.user.value.user_type);
    let account = &target.account;
    let accounts = Accounts::new(state.store.as_ref());
    let now = state.clock.now();
    let mut wanted = Capability {
        id: CapabilityId(0),
        application: request.application,
        version: request.version,
        resource: request.resource,
        role: request.role,
        granted_at: now,
        granted_by: Some(caller.user_pk()),
    };
    let on = resource_customer(&state, &caller, &resource).await?;
    if let Some(customer) = &on {
        check_association(user, &account.associations, customer)?;
    }
    if !may_delegate(&caller.account.capabilities, caller.grants(), &wanted, on.as_ref()) {
        return Err(AppError::Forbidden);
    }
    holder.map_err(AppError::field)?;
    if account.capabilities.iter().any(|held| held.same_grant(&wanted)) {
        return Err(AppError::Conflict(format!("user {user} already holds this capability")));
    }
    wanted.id = accounts.next_capability_id().await?;
    let id = wanted.id;
    let mut change = AccountChange::of(account, Some(caller.user_pk()), now);
    change.granted.push(wanted);
    accounts.save(change).await?;
    Ok((
        StatusCode::CREATED,
        Json(ActionResult::with(now, "CAPABILITY_GRANTED", Granted { id })),
    ))
}

/// Revokes a capability, under the same rule as granting it.
pub async fn revoke_capability(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    params: RawPathParams,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let id = CapabilityId(key_path_param(&params, "id")?);
    let capability = held(&target.account, id)?;
    let on = match capability.resource() {
        Some(resource) => resource_customer(&state, &caller, &resource).await?,
        None => None,
    };
    if !may_delegate(&caller.account.capabilities, caller.grants(), &capability, on.as_ref()) {
        return Err(AppError::Forbidden);
    }
    let now = state.clock.now();
    let mut change = AccountChange::of(&target.account, Some(caller.user_pk()), now);
    change.revoked.push(capability);
    Accounts::new(state.store.as_ref()).save(change).await?;
    Ok(Json(ActionResult::ok(now, "CAPABILITY_REVOKED")))
}

fn held(account: &Account, id: CapabilityId) -> AppResult<Capability> {
    account
        .capabilities
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("capability {id} of user {}", account.user.value.user_pk)))
}

/// The customer a resource names (`None` platform-wide). One the caller cannot see is
/// 403 whether or not it exists; care, who sees all, is told it does not exist.
async fn resource_customer(state: &AppState, caller: &Caller, resource: &Resource) -> AppResult<Option<Customer>> {
    let Resource::Customer { group, .. } = resource else {
        return Ok(None);
    };
    match Customers::new(state.store.as_ref()).get(*group).await? {
        Some(customer) if caller.grants().is_member_of(&customer) => Ok(Some(customer)),
        None if caller.grants().is_care() => Err(AppError::field(FieldError::body(
            "/resource",
            format!("there is no customer {group}"),
        ))),
        _ => Err(AppError::Forbidden),
    }
}

/// The user's capability history, newest first, of what the caller reaches.
pub async fn list_capability_log(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<CapabilityLogEntry>>> {
    caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let request = PageRequest::from_query(&query)?;
    let accounts = Accounts::new(state.store.as_ref());
    if caller.grants().is_care() {
        let (entries, total) = accounts.capability_log(user, request.offset(), request.size).await?;
        return Ok(Json(Page::new(request, total, entries)));
    }
    let history = accounts.capability_history(user).await?;
    let customers = named_customers(&state, history.iter().map(|entry| entry.resource.as_slice())).await?;
    let in_reach = history
        .into_iter()
        .filter(|entry| caller.grants().reaches(&entry.resource, &customers))
        .collect();
    Ok(Json(Page::slice(request, in_reach)))
}

/// The customers that capability resources name, by key.
async fn named_customers<'a>(state: &AppState, resources: impl Iterator<Item = &'a [String]>) -> AppResult<BTreeMap<GroupPk, Customer>> {
    let groups: BTreeSet<GroupPk> = resources
        .filter_map(|resource| match Resource::parse(resource) {
            Some(Resource::Customer { group, .. }) => Some(group),
            _ => None,
        })
        .collect();
    let customers = Customers::new(state.store.as_ref()).get_many(groups).await?;
    Ok(customers.into_iter().map(|customer| (customer.group_pk, customer)).collect())
}
