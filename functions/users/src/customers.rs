//! The customers a team member is associated with.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;

use shared::actions::associations::lost_capabilities;
use shared::api::action::ActionResult;
use shared::api::customers::CustomerSummary;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::customer::Customer;
use shared::domain::ids::GroupPk;
use shared::domain::validation::{Bounded, FieldError, Violations};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{JsonArray, QueryParams, UserPkPath};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::accounts::{AccountChange, Accounts};

/// Most customers one request may name.
const MAX_CUSTOMERS: usize = 100;

/// The user's customers that the caller reaches, by name; `groupName` filters on the
/// name (`groupNameMode` `contains`, the default, or `startsWith`; case-insensitive).
pub async fn list_user_customers(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<CustomerSummary>>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let request = PageRequest::from_query(&query)?;
    let name = query.one("groupName")?.map(str::to_lowercase);
    if name.as_deref() == Some("") {
        return Err(AppError::field(FieldError::query("groupName", "must not be empty")));
    }
    let starts_with = match query.one("groupNameMode")? {
        None | Some("contains") => false,
        Some("startsWith") => true,
        Some(_) => {
            return Err(AppError::field(FieldError::query(
                "groupNameMode",
                "must be startsWith or contains",
            )));
        }
    };
    let mut customers: Vec<Customer> = target
        .facts
        .associated
        .into_iter()
        .filter(|customer| caller.grants().is_member_of(customer))
        .filter(|customer| {
            let candidate = customer.name.to_lowercase();
            name.as_deref().is_none_or(|name| {
                if starts_with {
                    candidate.starts_with(name)
                } else {
                    candidate.contains(name)
                }
            })
        })
        .collect();
    customers.sort_by_cached_key(|c| (c.name.to_lowercase(), c.group_pk));
    Ok(Json(Page::slice(request, customers.iter().map(CustomerSummary::from).collect())))
}

/// Associates the customers with the user; those already associated stay as they are.
pub async fn associate_user_customers(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonArray(groups): JsonArray<Bounded<i64, MAX_CUSTOMERS>>,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let groups = distinct_groups(&groups)?;
    caller.require(&state, Access::ADMIN, groups.clone()).await?;
    let account = &target.account;
    let now = state.clock.now();
    let mut change = AccountChange::of(account, Some(caller.user_pk()), now);
    change.associations.extend(groups);
    if change.associations.len() != account.associations.len() {
        Accounts::new(state.store.as_ref()).save(change).await?;
    }
    Ok(Json(ActionResult::ok(now, "CUSTOMERS_ASSOCIATED")))
}

/// Removes the associations; a user keeps at least one customer. Capabilities on
/// customers the user no longer reaches go with them (recorded in the log).
pub async fn remove_user_customers(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    query: QueryParams,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let raw = query.all("groupPk");
    if raw.is_empty() {
        return Err(AppError::field(FieldError::query("groupPk", "is required, at least once")));
    }
    let groups: BTreeSet<GroupPk> = raw
        .iter()
        .map(|value| value.trim().parse::<i64>().ok().filter(|g| *g >= 1).map(GroupPk))
        .collect::<Option<_>>()
        .ok_or_else(|| AppError::field(FieldError::query("groupPk", "each must be a positive integer")))?;
    caller.require(&state, Access::ADMIN, groups.clone()).await?;
    let account = &target.account;
    let now = state.clock.now();
    let mut change = AccountChange::of(account, Some(caller.user_pk()), now);
    change.associations.retain(|g| !groups.contains(g));
    if change.associations.is_empty() {
        return Err(AppError::Conflict(format!("user {user} must keep at least one customer")));
    }
    if change.associations.len() != account.associations.len() {
        change.revoked = lost_capabilities(state.store.as_ref(), account, &change.associations, &BTreeSet::new()).await?;
        Accounts::new(state.store.as_ref()).save(change).await?;
    }
    Ok(Json(ActionResult::ok(now, "CUSTOMERS_REMOVED")))
}

/// The body's customers: at least one, distinct positive keys, each bad one named (at
/// most [`MAX_CUSTOMERS`], which reading the body checks).
fn distinct_groups(groups: &[i64]) -> AppResult<BTreeSet<GroupPk>> {
    let mut violations = Violations::new();
    if groups.is_empty() {
        violations.body("", format!("must list 1 to {MAX_CUSTOMERS} customers"));
    }
    let mut distinct = BTreeSet::new();
    for (index, group) in groups.iter().enumerate() {
        if *group < 1 {
            violations.body(format!("/{index}"), "must be a positive customer key");
        } else if !distinct.insert(GroupPk(*group)) {
            violations.body(format!("/{index}"), "is listed twice");
        }
    }
    Ok(violations.into_result(distinct)?)
}
