//! A customer's security reports on the users of its subtree: application usage, users
//! with issues, failed logins. Each reads the customer's roster (one partition), then
//! the few items of the report's users in batched gets, never a read per user.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{RawPathParams, State};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::reports::{DEFAULT_FAILED_LOGIN_DAYS, FAILED_LOGIN_DAYS, UsageApplication, UserIssue, issues};
use shared::domain::user::UserStatus;
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, QueryParams, path_param};
use shared::http::paging::{Direction, Page, PageRequest, SortKey, sort_by_keys, sort_keys};
use shared::repositories::accounts::{Accounts, RosterEntry, StateParts};
use shared::repositories::customers::Customers;
use shared::repositories::security::SecurityLog;

/// Who a report's row is about.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Member {
    user_pk: UserPk,
    username: String,
    name: String,
    surname: String,
    email: String,
    group_pk: GroupPk,
    group_name: String,
}

impl Member {
    fn new(entry: RosterEntry, names: &BTreeMap<GroupPk, String>) -> Self {
        Self {
            group_name: names.get(&entry.group_pk).cloned().unwrap_or_default(),
            user_pk: entry.user_pk,
            username: entry.username,
            name: entry.name,
            surname: entry.surname,
            email: entry.email,
            group_pk: entry.group_pk,
        }
    }
}

/// The names of the customers of `entries` (one batched read of the customers).
async fn group_names<'a>(state: &AppState, entries: impl IntoIterator<Item = &'a RosterEntry>) -> AppResult<BTreeMap<GroupPk, String>> {
    let groups: BTreeSet<GroupPk> = entries.into_iter().map(|entry| entry.group_pk).collect();
    if groups.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(Customers::new(state.store.as_ref())
        .get_many(groups)
        .await?
        .into_iter()
        .map(|customer| (customer.group_pk, customer.name))
        .collect())
}

/// `UserAppUsage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserAppUsage {
    #[serde(flatten)]
    member: Member,
    first_access: Timestamp,
    last_access: Timestamp,
}

pub async fn list_customer_app_usage(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<UserAppUsage>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let request = PageRequest::from_query(&query)?;
    app_usage(&state, group, None, request).await.map(Json)
}

pub async fn list_customer_app_usage_by_app(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    params: RawPathParams,
    query: QueryParams,
) -> AppResult<Json<Page<UserAppUsage>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let application: UsageApplication = path_param(&params, "application", UsageApplication::NAMES)?;
    let request = PageRequest::from_query(&query)?;
    app_usage(&state, group, Some(application), request).await.map(Json)
}

/// The users of the subtree who have used `application` (any, for `None`), with their
/// first and last access, most recent last access first; users who never have are left
/// out. Reads: the roster, one access item per user in batches, the page's customers.
async fn app_usage(
    state: &AppState,
    group: GroupPk,
    application: Option<UsageApplication>,
    request: PageRequest,
) -> AppResult<Page<UserAppUsage>> {
    let accounts = Accounts::new(state.store.as_ref());
    let roster = accounts.roster(group).await?;
    let users: Vec<UserPk> = roster.iter().map(|entry| entry.user_pk).collect();
    let parts = StateParts {
        access: Some(application.map(UsageApplication::as_str)),
        ..StateParts::default()
    };
    let mut states = accounts.security_states(&users, &parts).await?;
    // The roster is in username order; the stable sort keeps it among equal last accesses.
    let mut used: Vec<_> = roster
        .into_iter()
        .filter_map(|entry| {
            let access = states.remove(&entry.user_pk)?.access?;
            Some((entry, access))
        })
        .collect();
    used.sort_by_key(|(_, access)| std::cmp::Reverse(access.last_access));
    let total = used.len() as u64;
    let page: Vec<_> = used.into_iter().skip(request.offset()).take(request.size).collect();
    let names = group_names(state, page.iter().map(|(entry, _)| entry)).await?;
    let elements = page
        .into_iter()
        .map(|(entry, access)| UserAppUsage {
            member: Member::new(entry, &names),
            first_access: access.first_access,
            last_access: access.last_access,
        })
        .collect();
    Ok(Page::new(request, total, elements))
}

/// `UserWithIssues`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserWithIssues {
    #[serde(flatten)]
    member: Member,
    status: UserStatus,
    issues: Vec<UserIssue>,
}

const ISSUE_SORTS: [&str; 4] = ["username", "name", "surname", "groupName"];

/// The users of the subtree with at least one issue, each with its issues. Reads: the
/// roster, then the profile, lock and password of every user in batches (three items a
/// user), then the customers of the users with issues.
pub async fn list_customer_users_with_issues(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<UserWithIssues>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let request = PageRequest::from_query(&query)?;
    let sorts = sort_keys(&query, &ISSUE_SORTS)?;
    let now = state.clock.now();
    let accounts = Accounts::new(state.store.as_ref());
    let roster = accounts.roster(group).await?;
    let users: Vec<UserPk> = roster.iter().map(|entry| entry.user_pk).collect();
    let parts = StateParts {
        profile: true,
        lock: true,
        password: true,
        ..StateParts::default()
    };
    let mut states = accounts.security_states(&users, &parts).await?;
    let troubled: Vec<(RosterEntry, UserStatus, Vec<UserIssue>)> = roster
        .into_iter()
        .filter_map(|entry| {
            let state = states.remove(&entry.user_pk)?;
            // A user deleted since the roster was read has no profile: no row.
            let user = state.user?;
            let issues = issues(&user, &state.lockout, state.password_expires_at, now);
            (!issues.is_empty()).then_some((entry, user.status, issues))
        })
        .collect();
    let names = group_names(&state, troubled.iter().map(|(entry, _, _)| entry)).await?;
    let sorted = sort_by_keys(troubled, &sorts, |(entry, _, _), property| match property {
        "name" => entry.name.to_lowercase(),
        "surname" => entry.surname.to_lowercase(),
        "groupName" => names.get(&entry.group_pk).map(|n| n.to_lowercase()).unwrap_or_default(),
        _ => entry.username.to_lowercase(),
    });
    let rows = sorted
        .into_iter()
        .map(|(entry, status, issues)| UserWithIssues {
            member: Member::new(entry, &names),
            status,
            issues,
        })
        .collect();
    Ok(Json(Page::slice(request, rows)))
}

/// `FailedLoginUser`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailedLoginUser {
    #[serde(flatten)]
    member: Member,
    failed_logins: u64,
    consecutive_failed_logins: u64,
    last_failed_login: Timestamp,
    locked_out: bool,
}

const FAILED_LOGIN_SORTS: [&str; 4] = ["failedLogins", "consecutiveFailedLogins", "lastFailedLogin", "username"];

/// The users of the subtree with failed logins in the last `days` days: how many there,
/// the last one, the current streak and lockout. Reads: the roster, the day index of
/// failed logins for each day of the range (`days` + 1 queries), then the streak and
/// lockout of the users who failed in batches (two items a user), and their customers.
pub async fn list_customer_failed_logins(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<FailedLoginUser>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let request = PageRequest::from_query(&query)?;
    let mut sorts = sort_keys(&query, &FAILED_LOGIN_SORTS)?;
    if sorts.is_empty() {
        sorts.push(SortKey {
            property: "failedLogins".into(),
            direction: Direction::Desc,
        });
    }
    let days = query
        .int_in("days", *FAILED_LOGIN_DAYS.start(), *FAILED_LOGIN_DAYS.end())?
        .unwrap_or(DEFAULT_FAILED_LOGIN_DAYS);
    let now = state.clock.now();
    let accounts = Accounts::new(state.store.as_ref());
    let roster = accounts.roster(group).await?;
    let mut failures = if roster.is_empty() {
        BTreeMap::new()
    } else {
        SecurityLog::new(state.store.as_ref(), &state.security)
            .failures_between(now - SignedDuration::from_hours(24 * days), now)
            .await?
    };
    let failing: Vec<_> = roster
        .into_iter()
        .filter_map(|entry| failures.remove(&entry.user_pk).map(|f| (entry, f)))
        .collect();
    let users: Vec<UserPk> = failing.iter().map(|(entry, _)| entry.user_pk).collect();
    let parts = StateParts {
        streak: true,
        lock: true,
        ..StateParts::default()
    };
    let states = accounts.security_states(&users, &parts).await?;
    let names = group_names(&state, failing.iter().map(|(entry, _)| entry)).await?;
    let rows: Vec<FailedLoginUser> = failing
        .into_iter()
        .map(|(entry, failures)| {
            let lockout = states.get(&entry.user_pk).map(|s| s.lockout).unwrap_or_default();
            FailedLoginUser {
                member: Member::new(entry, &names),
                failed_logins: failures.count,
                consecutive_failed_logins: lockout.consecutive_failures,
                last_failed_login: failures.last,
                locked_out: lockout.is_locked(now),
            }
        })
        .collect();
    // Numbers compare as zero-padded text; the roster's username order breaks ties.
    let sorted = sort_by_keys(rows, &sorts, |row, property| match property {
        "failedLogins" => format!("{:020}", row.failed_logins),
        "consecutiveFailedLogins" => format!("{:020}", row.consecutive_failed_logins),
        "lastFailedLogin" => format!("{:020}", row.last_failed_login.as_millisecond().max(0)),
        _ => row.member.username.to_lowercase(),
    });
    Ok(Json(Page::slice(request, sorted)))
}
