//! A customer's team: the users of its subtree, its application users, and new users.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use jiff::Timestamp;
use serde::Serialize;

use shared::api::action::ActionResult;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::capability::{ACCOUNTCENTRAL, Capability, Resource};
use shared::domain::catalogue::Catalogue;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::preferences::Preferences;
use shared::domain::search::{contains_lowercase, lowercase};
use shared::domain::user::{RawNewUser, User, UserStatus, UserType};
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, JsonBody, QueryParams};
use shared::http::paging::{Direction, Page, PageRequest, SortKey, sort_by_keys, sort_keys};
use shared::repositories::accounts::{Accounts, NewAccount, RosterEntry, RosterRow};
use shared::repositories::customers::Customers;

/// A user in a customer's user list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserSummary {
    user_pk: UserPk,
    username: String,
    name: String,
    surname: String,
    email: String,
    group_pk: GroupPk,
    group_name: String,
    status: UserStatus,
    user_type: UserType,
}

/// The names of the customers `groups`, for the summaries of one page.
async fn group_names(state: &AppState, groups: impl IntoIterator<Item = GroupPk>) -> AppResult<BTreeMap<GroupPk, String>> {
    let groups: BTreeSet<GroupPk> = groups.into_iter().collect();
    Ok(Customers::new(state.store.as_ref())
        .get_many(groups)
        .await?
        .into_iter()
        .map(|c| (c.group_pk, c.name))
        .collect())
}

/// A query parameter that must be one of an enumeration's SCREAMING_SNAKE_CASE names.
fn enum_param<T: serde::de::DeserializeOwned>(query: &QueryParams, name: &str, allowed: &str) -> AppResult<Option<T>> {
    query
        .one(name)?
        .map(|raw| {
            serde_json::from_value(serde_json::Value::String(raw.to_owned()))
                .map_err(|_| AppError::field(FieldError::query(name, format!("must be one of {allowed}"))))
        })
        .transpose()
}

const USER_SORTS: [&str; 7] = ["name", "surname", "username", "email", "groupName", "status", "userType"];

/// The users of the customer and its subtree, read from the customer's roster. Without
/// search or filters, in username order, the page is read straight from the roster's
/// key order; otherwise the roster is filtered and sorted whole.
pub(crate) async fn list_customer_users(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<UserSummary>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let request = PageRequest::from_query(&query)?;
    let sorts = sort_keys(&query, &USER_SORTS)?;
    let search = query.one("search")?.map(|s| s.trim().to_lowercase());
    if search.as_deref() == Some("") {
        return Err(AppError::field(FieldError::query("search", "must not be empty")));
    }
    let user_type: Option<UserType> = enum_param(&query, "userType", "INTERACTIVE, APPLICATION")?;
    let status: Option<UserStatus> = enum_param(&query, "status", "ACTIVE, SUSPENDED, DISABLED")?;

    let accounts = Accounts::new(state.store.as_ref());
    let by_username = match sorts.as_slice() {
        [] => Some(true),
        [SortKey { property, direction }] if property == "username" => Some(*direction == Direction::Asc),
        _ => None,
    };
    let (entries, total, sorted_names) = match by_username {
        Some(ascending) if search.is_none() && user_type.is_none() && status.is_none() => {
            let (entries, total) = accounts.roster_page(group, ascending, request.offset(), request.size).await?;
            (entries, total, None)
        }
        _ => {
            let roster = accounts.roster_rows(group).await?;
            let mut matching = Vec::new();
            for row in roster.rows() {
                let row = row?;
                if user_type.is_none_or(|t| row.user_type == t)
                    && status.is_none_or(|s| row.status == s)
                    && search.as_deref().is_none_or(|needle| matches_search(&row, needle))
                {
                    matching.push(row);
                }
            }
            let names = if sorts.iter().any(|key| key.property == "groupName") {
                Some(group_names(&state, matching.iter().map(|u| u.group_pk)).await?)
            } else {
                None
            };
            let lowered_names: BTreeMap<GroupPk, String> =
                names.iter().flatten().map(|(group, name)| (*group, name.to_lowercase())).collect();
            // The sort values borrow from the rows, which stay in place while references to them are sorted.
            let sorted = sort_by_keys(
                matching.iter().collect(),
                &sorts,
                |&user: &&RosterRow<'_>, property| match property {
                    "name" => lowercase(&user.name),
                    "surname" => lowercase(&user.surname),
                    "email" => lowercase(&user.email),
                    "groupName" => Cow::Borrowed(lowered_names.get(&user.group_pk).map_or("", String::as_str)),
                    "status" => Cow::Borrowed(user.status.name()),
                    "userType" => Cow::Borrowed(user.user_type.name()),
                    _ => lowercase(&user.username),
                },
            );
            let total = sorted.len() as u64;
            let page = sorted
                .into_iter()
                .skip(request.offset())
                .take(request.size)
                .map(|row| row.to_entry())
                .collect();
            (page, total, names)
        }
    };
    let names = match sorted_names {
        Some(names) => names,
        None => group_names(&state, entries.iter().map(|u| u.group_pk)).await?,
    };
    let summaries = entries
        .into_iter()
        .map(|user| UserSummary {
            group_name: names.get(&user.group_pk).cloned().unwrap_or_default(),
            user_pk: user.user_pk,
            username: user.username,
            name: user.name,
            surname: user.surname,
            email: user.email,
            group_pk: user.group_pk,
            status: user.status,
            user_type: user.user_type,
        })
        .collect();
    Ok(Json(Page::new(request, total, summaries)))
}

/// Whether `needle`, lowercase, is in the user's name, surname, username or e-mail, whatever their case.
fn matches_search(user: &RosterRow<'_>, needle: &str) -> bool {
    [&user.name, &user.surname, &user.username, &user.email]
        .iter()
        .any(|field| contains_lowercase(field, needle))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Created {
    user_pk: UserPk,
}

/// Creates an ACTIVE, INTERACTIVE user in the customer, with the roles asked for (and
/// the accountcentral USER role there). The user has no usable password until an
/// administrator resets it.
pub(crate) async fn create_customer_user(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    JsonBody(raw): JsonBody<RawNewUser>,
) -> AppResult<(StatusCode, HeaderMap, Json<ActionResult<Created>>)> {
    caller.require(&state, Access::ADMIN, group).await?;
    let now = state.clock.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let new = raw.validate(Catalogue::get(), today)?;
    let accounts = Accounts::new(state.store.as_ref());
    let user_pk = accounts.next_user_pk().await?;
    let mut capabilities = Vec::new();
    let roles = std::iter::once((ACCOUNTCENTRAL.to_owned(), "USER".to_owned())).chain(new.roles);
    for (application, role) in roles {
        capabilities.push(Capability {
            id: accounts.next_capability_id().await?,
            application,
            version: 1,
            resource: Resource::customer(group),
            role,
            granted_at: now,
            granted_by: Some(caller.user_pk()),
        });
    }
    let profile = new.profile;
    let user = User {
        sex: profile.sex,
        ..User::new(user_pk, new.username, profile.name, profile.surname, profile.email, group, now)
    };
    accounts
        .create(NewAccount {
            user,
            preferences: Preferences {
                language: new.language,
                ..Preferences::defaults()
            },
            password: None,
            associations: vec![group],
            capabilities,
        })
        .await?;
    let mut headers = HeaderMap::new();
    let location = HeaderValue::from_str(&format!("/v1/users/{user_pk}")).map_err(AppError::internal)?;
    headers.insert(header::LOCATION, location);
    Ok((
        StatusCode::CREATED,
        headers,
        Json(ActionResult::with(now, "USER_CREATED", Created { user_pk })),
    ))
}

/// An APPLICATION user with the creation date of its client secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationUser {
    user_pk: UserPk,
    username: String,
    name: String,
    group_pk: GroupPk,
    group_name: String,
    status: UserStatus,
    secret_creation_date: Option<Timestamp>,
}

const APPLICATION_USER_SORTS: [&str; 4] = ["username", "name", "groupName", "secretCreationDate"];

/// The APPLICATION users of the customer's subtree, by username unless sorted otherwise.
pub(crate) async fn list_customer_application_users(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<ApplicationUser>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let request = PageRequest::from_query(&query)?;
    let sorts = sort_keys(&query, &APPLICATION_USER_SORTS)?;
    let accounts = Accounts::new(state.store.as_ref());
    let applications: Vec<RosterEntry> = accounts
        .roster(group)
        .await?
        .into_iter()
        .filter(|u| u.user_type == UserType::Application)
        .collect();
    let secrets = accounts
        .password_dates(&applications.iter().map(|u| u.user_pk).collect::<Vec<_>>())
        .await?;
    let names = group_names(&state, applications.iter().map(|u| u.group_pk)).await?;
    let users: Vec<ApplicationUser> = applications
        .into_iter()
        .map(|user| ApplicationUser {
            group_name: names.get(&user.group_pk).cloned().unwrap_or_default(),
            secret_creation_date: secrets.get(&user.user_pk).copied(),
            user_pk: user.user_pk,
            username: user.username,
            name: user.name,
            group_pk: user.group_pk,
            status: user.status,
        })
        .collect();
    let sorted = sort_by_keys(users, &sorts, |user, property| match property {
        "name" => user.name.to_lowercase(),
        "groupName" => user.group_name.to_lowercase(),
        "secretCreationDate" => user
            .secret_creation_date
            .map(|d| format!("{:020}", d.as_millisecond()))
            .unwrap_or_default(),
        _ => user.username.to_lowercase(),
    });
    Ok(Json(Page::slice(request, sorted)))
}
