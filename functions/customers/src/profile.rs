//! The customers themselves: the tree, reading and changing a customer.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use shared::api::customers::{CustomerInfo, CustomerSummary};
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::catalogue::Catalogue;
use shared::domain::customer::{Customer, CustomerStatus, RawCustomerUpdate};
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, JsonBody, QueryParams};
use shared::http::paging::{Page, PageRequest};
use shared::repositories::customers::Customers;

const NAME: &str = "name";
const EXCLUDE_USER_PK: &str = "excludeUserPk";

/// The query of the customer lists: paging, a name filter, and a user whose customers to leave out.
struct ListQuery {
    page: PageRequest,
    name: Option<String>,
    excluded: BTreeSet<GroupPk>,
}

impl ListQuery {
    /// Reads the query; naming a user other than the caller needs admin(u), so that
    /// the list cannot reveal another tenant's associations.
    async fn read(state: &AppState, caller: &Caller, query: &QueryParams) -> AppResult<Self> {
        let page = PageRequest::from_query(query)?;
        let name = match query.one(NAME)? {
            Some("") => return Err(AppError::field(FieldError::query(NAME, "must not be empty"))),
            name => name.map(str::to_lowercase),
        };
        let excluded = match query.int_in(EXCLUDE_USER_PK, 1, i64::MAX)?.map(UserPk) {
            None => Vec::new(),
            Some(user) if user == caller.user_pk() => caller.account.associations.clone(),
            Some(user) => match caller.require(state, Access::ADMIN_OF_USER, user).await {
                // Only care learns that a user does not exist: it is associated with nothing,
                // so nothing is left out.
                Err(AppError::NotFound(_)) => Vec::new(),
                target => target?.account.associations,
            },
        };
        Ok(Self {
            page,
            name,
            excluded: excluded.into_iter().collect(),
        })
    }

    /// The page of `customers` (in the order given) that pass the filters.
    fn page(&self, customers: Vec<Customer>) -> Page<CustomerSummary> {
        let kept = customers
            .iter()
            .filter(|c| !self.excluded.contains(&c.group_pk))
            .filter(|c| self.name.as_ref().is_none_or(|name| c.name.to_lowercase().contains(name)))
            .map(CustomerSummary::from)
            .collect();
        Page::slice(self.page, kept)
    }
}

/// Every customer the caller reaches: those it is associated with and their subtrees,
/// or all of them for platform staff.
async fn reachable(state: &AppState, caller: &Caller) -> AppResult<Vec<Customer>> {
    let customers = Customers::new(state.store.as_ref());
    if caller.grants().is_staff() {
        return Ok(customers.all().await?);
    }
    let associated = customers.get_many(caller.grants().associations().iter().copied()).await?;
    let found: BTreeSet<GroupPk> = associated.iter().map(|c| c.group_pk).collect();
    let mut reached = Vec::new();
    for customer in &associated {
        // An associated ancestor's subtree holds this one already: the subtrees read are disjoint.
        if !customer.ancestors.iter().any(|a| found.contains(a)) {
            reached.extend(customers.subtree(customer).await?);
        }
    }
    Ok(reached)
}

pub(crate) async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> AppResult<Json<Page<CustomerSummary>>> {
    let list = ListQuery::read(&state, &caller, &query).await?;
    let mut customers = reachable(&state, &caller).await?;
    customers.sort_by_cached_key(|c| (c.name.to_lowercase(), c.group_pk));
    Ok(Json(list.page(customers)))
}

pub(crate) async fn list_customer_parents(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<CustomerSummary>>> {
    let customer = caller.require(&state, Access::MEMBER, group).await?.value;
    let list = ListQuery::read(&state, &caller, &query).await?;
    let mut parents = Customers::new(state.store.as_ref())
        .get_many(customer.ancestors.iter().copied())
        .await?;
    // The batch comes back by key: restore the chain's order, nearest first.
    parents.sort_by_key(|p| customer.ancestors.iter().position(|a| *a == p.group_pk));
    Ok(Json(list.page(parents)))
}

pub(crate) async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
) -> AppResult<Json<CustomerInfo>> {
    let customer = caller.require(&state, Access::MEMBER, group).await?;
    Ok(Json(CustomerInfo::from(&customer.value)))
}

pub(crate) async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(input): JsonBody<RawCustomerUpdate>,
) -> AppResult<Json<CustomerInfo>> {
    let before = caller.require(&state, Access::ADMIN, group).await?;
    let changes = input.validate(&before.value, caller.grants().is_care(), Catalogue::get())?;
    let mut after = before.value.clone();
    after.apply(changes);
    Customers::new(state.store.as_ref()).update(&before, &after).await?;
    Ok(Json(CustomerInfo::from(&after)))
}

#[derive(Deserialize)]
pub(crate) struct StatusUpdate {
    status: CustomerStatus,
}

pub(crate) async fn patch_customer_status(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(input): JsonBody<StatusUpdate>,
) -> AppResult<Json<CustomerInfo>> {
    let before = caller.require(&state, Access::CARE, group).await?;
    let mut after = before.value.clone();
    after.status = input.status;
    Customers::new(state.store.as_ref()).update(&before, &after).await?;
    Ok(Json(CustomerInfo::from(&after)))
}
