//! Security reports over HTTP. Events are fed the way the authorization server reports
//! them (recordSecurityEvent, as the SERVICE user `mta`), then read back: a user's
//! events (listMySecurityEvents, listUserSecurityEvents), its first and last access per
//! application (getMyAppAccesses), and a customer's reports on its subtree
//! (listCustomerAppUsage, listCustomerAppUsageByApp, listCustomerFailedLogins,
//! listCustomerUsersWithIssues). Every expectation is computed from what the test fed;
//! rows of users the test did not make are left out of the comparisons.
//!
//! The users with issues are stored through the accounts repository (see `stored_user`),
//! so that each carries exactly the issues under test, including one no operation brings
//! about (two-factor without a verified phone).

use std::collections::{BTreeMap, BTreeSet};

use accountcentral_e2e::{TestApp, application_user, new_user, on_both_backends, unique};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use shared::domain::password::PasswordRecord;
use shared::domain::user::{User, UserStatus};

on_both_backends!(
    security_events_are_listed_newest_first_filtered_and_paged,
    app_accesses_keep_the_first_and_last_login_whatever_the_order,
    app_usage_lists_the_users_who_used_any_or_the_given_application,
    failed_logins_count_the_range_and_the_current_streak,
    users_with_issues_list_each_reason,
);

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// An RFC 3339 instant of an answer, in epoch milliseconds.
fn millis(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|text| text.parse::<Timestamp>().ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 instant: {value}"))
        .as_millisecond()
}

/// Reports an event about `user` (a userPk, or a username) as the authorization server
/// does: 201 and the stored event.
async fn record(app: &TestApp, user: &Value, event_type: &str, application: &str, at: i64) -> Value {
    let mut body = json!({"type": event_type, "application": application, "timestamp": at,
                          "ip": "192.0.2.10", "userAgent": "e2e/1.0"});
    let subject = if user.is_string() { "username" } else { "userPk" };
    body[subject] = user.clone();
    let (status, event) = app.post_as("mta", "/v1/internal/security-events", &body).await;
    assert_eq!(status, 201, "recording {body}: {event}");
    event
}

/// A new user of `group`, made by customer care: its userPk and username.
async fn member(app: &TestApp, group: i64, prefix: &str) -> (i64, String) {
    let username = unique(prefix);
    (app.create_user("care", group, &new_user(&username)).await, username)
}

/// A GET that must answer 200.
async fn read_ok(app: &TestApp, caller: &str, path: &str) -> Value {
    let (status, body) = app.get_as(caller, path).await;
    assert_eq!(status, 200, "{caller}: GET {path}: {body}");
    body
}

fn elements(page: &Value) -> Vec<Value> {
    page["elements"].as_array().unwrap_or_else(|| panic!("not a page: {page}")).clone()
}

/// The rows of `page` about `users`, in the order listed.
fn rows_of(page: &Value, users: &BTreeSet<i64>) -> Vec<Value> {
    elements(page)
        .into_iter()
        .filter(|row| row["userPk"].as_i64().is_some_and(|u| users.contains(&u)))
        .collect()
}

// ---------------------------------------------------------------------------
// Events

async fn security_events_are_listed_newest_first_filtered_and_paged(app: TestApp) {
    // The user is of 102; acme.admin administers it through 100, an ancestor.
    let (user, username) = member(&app, 102, "events").await;
    let now = now_ms();
    let fed = [
        ("LOGIN", "hub", now - 5 * HOUR),
        ("LOGOUT", "hub", now - 4 * HOUR),
        ("LOGIN_FAILED", "send", now - 3 * HOUR),
        ("LOGIN", "send", now - 150 * MINUTE),
        ("PASSWORD_CHANGED", "cplan", now - 2 * HOUR),
        ("LOGIN", "flow", now - 90 * MINUTE),
        ("PIN_CHANGED", "hub", now - HOUR),
        ("LOGIN_FAILED", "hub", now - 30 * MINUTE),
    ];
    // Reported out of order: the listing orders by when they happened.
    let mut stored = Vec::new();
    for index in [3, 0, 7, 5, 1, 6, 2, 4] {
        let (event_type, application, at) = fed[index];
        stored.push(record(&app, &json!(user), event_type, application, at).await);
    }
    let mut newest_first = stored.clone();
    newest_first.sort_by_key(|event| std::cmp::Reverse(event["timestamp"].as_i64().unwrap()));

    type Admits = Box<dyn Fn(&Value) -> bool>;
    let at = |event: &Value| event["timestamp"].as_i64().unwrap();
    let (from, to) = (fed[2].2, fed[5].2);
    let mut cases: Vec<(String, Admits)> = vec![
        (String::new(), Box::new(|_| true)),
        (
            "exclude-app=hub&exclude-app=send".into(),
            Box::new(|e| e["application"] != "hub" && e["application"] != "send"),
        ),
        ("exclude-app=cplan".into(), Box::new(|e| e["application"] != "cplan")),
        (format!("from={from}&to={to}"), Box::new(move |e| (from..=to).contains(&at(e)))),
        (format!("from={from}"), Box::new(move |e| at(e) >= from)),
        (format!("to={to}"), Box::new(move |e| at(e) <= to)),
        (format!("from={to}&to={to}"), Box::new(move |e| at(e) == to)),
        (
            format!("type=LOGIN&exclude-app=flow&from={from}"),
            Box::new(move |e| e["type"] == "LOGIN" && e["application"] != "flow" && at(e) >= from),
        ),
        ("type=UNLOCKED".into(), Box::new(|e| e["type"] == "UNLOCKED")),
    ];
    let types: BTreeSet<&str> = fed.iter().map(|(event_type, _, _)| *event_type).collect();
    for event_type in types {
        cases.push((format!("type={event_type}"), Box::new(move |e| e["type"] == event_type)));
    }
    for (query, admits) in &cases {
        let expected: Vec<Value> = newest_first.iter().filter(|e| admits(e)).cloned().collect();
        let path = format!("/v1/users/{user}/security-events?size=100&{query}");
        let page = read_ok(&app, "acme.admin", &path).await;
        assert_eq!(elements(&page), expected, "{path}");
        assert_eq!(page["page"]["totalElements"], expected.len(), "{path}");
        // The caller's own listing is the same listing, as a bare array.
        let mine = read_ok(&app, &username, &format!("/v1/user/security-events?size=100&{query}")).await;
        assert_eq!(mine, json!(expected), "the user's own events, {query}");
    }

    // Pages of 3: true totals, together the whole listing, past the end empty.
    let size = 3;
    let pages = newest_first.len().div_ceil(size);
    let mut together = Vec::new();
    for number in 0..=pages {
        let query = format!("size={size}&page={number}");
        let page = read_ok(&app, "care", &format!("/v1/users/{user}/security-events?{query}")).await;
        assert_eq!(
            page["page"],
            json!({"size": size, "number": number, "totalElements": newest_first.len(), "totalPages": pages}),
            "{query}"
        );
        let mine = read_ok(&app, &username, &format!("/v1/user/security-events?{query}")).await;
        assert_eq!(mine, json!(elements(&page)), "the user's own events, {query}");
        if number == pages {
            assert!(elements(&page).is_empty(), "past the end: {page}");
        }
        together.extend(elements(&page));
    }
    assert_eq!(together, newest_first);
}

// ---------------------------------------------------------------------------
// Accesses and usage

/// A first and a last access, in epoch milliseconds.
type Span = (i64, i64);

/// First and last login per application of `logins` (application, instant), and to any.
fn accesses(logins: &[(&str, i64)]) -> (BTreeMap<String, Span>, Option<Span>) {
    let mut per_app: BTreeMap<String, Span> = BTreeMap::new();
    let mut any: Option<Span> = None;
    for (application, at) in logins {
        let entry = per_app.entry((*application).to_owned()).or_insert((*at, *at));
        *entry = (entry.0.min(*at), entry.1.max(*at));
        any = Some(any.map_or((*at, *at), |(first, last)| (first.min(*at), last.max(*at))));
    }
    (per_app, any)
}

async fn app_accesses_keep_the_first_and_last_login_whatever_the_order(app: TestApp) {
    let (_, username) = member(&app, 101, "accesses").await;
    assert_eq!(read_ok(&app, &username, "/v1/user/app-accesses").await, json!({}));
    let now = now_ms();
    // In the order reported, which is not the order they happened in.
    let logins = [
        ("hub", now - 10 * MINUTE),
        ("hub", now - 3 * HOUR),
        ("send", now - HOUR),
        ("hub", now - 30 * MINUTE),
        ("send", now - 2 * HOUR),
    ];
    for (application, at) in logins {
        record(&app, &json!(username), "LOGIN", application, at).await;
    }
    // Neither a failed login nor a logout is an access.
    record(&app, &json!(username), "LOGIN_FAILED", "cplan", now - 5 * MINUTE).await;
    record(&app, &json!(username), "LOGOUT", "flow", now - 4 * MINUTE).await;

    let (expected, _) = accesses(&logins);
    let answer = read_ok(&app, &username, "/v1/user/app-accesses").await;
    let got: BTreeMap<String, (i64, i64)> = answer
        .as_object()
        .unwrap_or_else(|| panic!("not a map: {answer}"))
        .iter()
        .map(|(application, access)| (application.clone(), (millis(&access["firstAccess"]), millis(&access["lastAccess"]))))
        .collect();
    assert_eq!(got, expected, "{answer}");
}

async fn app_usage_lists_the_users_who_used_any_or_the_given_application(app: TestApp) {
    let (a, _) = member(&app, 102, "usage-a").await;
    let (b, _) = member(&app, 102, "usage-b").await;
    let (c, _) = member(&app, 102, "usage-c").await;
    let (d, _) = member(&app, 101, "usage-d").await;
    let now = now_ms();
    let logins: BTreeMap<i64, Vec<(&str, i64)>> = BTreeMap::from([
        (a, vec![("hub", now - 5 * HOUR), ("send", now - HOUR), ("hub", now - 3 * HOUR)]),
        (b, vec![("send", now - 2 * HOUR), ("send", now - 4 * HOUR)]),
        (c, vec![]),
        (d, vec![("hub", now - 30 * MINUTE)]),
    ]);
    for (user, user_logins) in &logins {
        for (application, at) in user_logins {
            record(&app, &json!(user), "LOGIN", application, *at).await;
        }
    }
    // C only ever failed: it has not used anything.
    record(&app, &json!(c), "LOGIN_FAILED", "hub", now - HOUR).await;

    let group_of = BTreeMap::from([(a, 102), (b, 102), (c, 102), (d, 101)]);
    let names: BTreeMap<i64, String> = BTreeMap::from([
        (
            101,
            read_ok(&app, "care", "/v1/customers/101").await["name"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        (
            102,
            read_ok(&app, "care", "/v1/customers/102").await["name"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
    ]);
    // (customer, application or any): the rows about the test's users, as computed.
    for group in [102, 100, 101] {
        let in_subtree: Vec<i64> = group_of
            .iter()
            .filter(|(_, home)| group == 100 || **home == group)
            .map(|(user, _)| *user)
            .collect();
        let mine: BTreeSet<i64> = in_subtree.iter().copied().collect();
        for application in [None, Some("hub"), Some("send"), Some("cdata")] {
            let mut expected: Vec<(i64, i64, i64)> = in_subtree
                .iter()
                .filter_map(|user| {
                    let user_logins: Vec<(&str, i64)> = logins[user]
                        .iter()
                        .filter(|(app_name, _)| application.is_none_or(|wanted| wanted == *app_name))
                        .copied()
                        .collect();
                    accesses(&user_logins).1.map(|(first, last)| (*user, first, last))
                })
                .collect();
            expected.sort_by_key(|(_, _, last)| std::cmp::Reverse(*last));
            let path = match application {
                None => format!("/v1/customers/{group}/app-usage?size=100"),
                Some(name) => format!("/v1/customers/{group}/app-usage/{name}?size=100"),
            };
            let page = read_ok(&app, "acme.admin", &path).await;
            let rows = rows_of(&page, &mine);
            let got: Vec<(i64, i64, i64)> = rows
                .iter()
                .map(|row| {
                    (
                        row["userPk"].as_i64().unwrap(),
                        millis(&row["firstAccess"]),
                        millis(&row["lastAccess"]),
                    )
                })
                .collect();
            assert_eq!(got, expected, "{path}: {page}");
            for row in &rows {
                let home = group_of[&row["userPk"].as_i64().unwrap()];
                assert_eq!(row["groupPk"], home, "{row}");
                assert_eq!(row["groupName"], names[&home], "{row}");
            }
            // Every row, the test's or not, is in order of last access, newest first.
            let lasts: Vec<i64> = elements(&page).iter().map(|row| millis(&row["lastAccess"])).collect();
            assert!(lasts.windows(2).all(|w| w[0] >= w[1]), "{path}: {lasts:?}");
        }
    }

    // Paged one at a time: true totals, together the whole listing.
    let whole = read_ok(&app, "care", "/v1/customers/100/app-usage?size=100").await;
    let total = elements(&whole).len();
    assert_eq!(whole["page"]["totalElements"], total);
    let mut together = Vec::new();
    for number in 0..=total {
        let page = read_ok(&app, "care", &format!("/v1/customers/100/app-usage?size=1&page={number}")).await;
        assert_eq!(page["page"]["totalElements"], total);
        assert_eq!(page["page"]["totalPages"], total);
        together.extend(elements(&page));
    }
    assert_eq!(together, elements(&whole));
}

// ---------------------------------------------------------------------------
// Failed logins and lockouts

/// What a user's reported logins amount to.
struct Streak {
    /// The instants of its failed logins.
    failures: Vec<i64>,
    /// Failed logins since the last successful one.
    consecutive: u64,
    locked_until: Option<i64>,
}

/// Replays `events` (type, instant), in the order reported, through the lockout policy.
fn replay(events: &[(&str, i64)], threshold: u64, period_ms: i64) -> Streak {
    let mut streak = Streak {
        failures: Vec::new(),
        consecutive: 0,
        locked_until: None,
    };
    for (event_type, at) in events {
        match *event_type {
            "LOGIN" => {
                streak.consecutive = 0;
                streak.locked_until = None;
            }
            "LOGIN_FAILED" => {
                streak.failures.push(*at);
                streak.consecutive += 1;
                let locked = streak.locked_until.is_some_and(|until| until > *at);
                if streak.consecutive >= threshold && !locked {
                    streak.locked_until = Some(at + period_ms);
                }
            }
            _ => {}
        }
    }
    streak
}

async fn failed_logins_count_the_range_and_the_current_streak(app: TestApp) {
    let policy = app.environment.state.security;
    let threshold = policy.lockout_threshold;
    let period = policy.lockout_period.as_millis() as i64;
    let (f1, _) = member(&app, 102, "failing-1").await;
    let (f2, _) = member(&app, 102, "failing-2").await;
    let (f3, _) = member(&app, 102, "failing-3").await;
    let now = now_ms();
    let mut reported: BTreeMap<i64, Vec<(&str, i64)>> = BTreeMap::new();
    // Failures over the month, then a login that ends the streak, then a new failure.
    reported.insert(
        f1,
        vec![
            ("LOGIN_FAILED", now - 10 * DAY),
            ("LOGIN_FAILED", now - 50 * HOUR),
            ("LOGIN_FAILED", now - 2 * HOUR),
            ("LOGIN_FAILED", now - HOUR),
            ("LOGIN", now - 40 * MINUTE),
            ("LOGIN_FAILED", now - 20 * MINUTE),
        ],
    );
    // As many failures in a row as lock an account, the last a minute ago.
    reported.insert(
        f2,
        (0..threshold as i64)
            .map(|i| ("LOGIN_FAILED", now - MINUTE - (threshold as i64 - 1 - i) * 10_000))
            .collect(),
    );
    reported.insert(f3, vec![("LOGIN", now - HOUR)]);
    for (user, events) in &reported {
        for (event_type, at) in events {
            record(&app, &json!(user), event_type, "hub", *at).await;
        }
    }
    let streaks: BTreeMap<i64, Streak> = reported.iter().map(|(u, e)| (*u, replay(e, threshold, period))).collect();
    let locked = |user: i64| streaks[&user].locked_until.is_some_and(|until| until > now_ms());
    assert!(locked(f2) && !locked(f1), "the fixture locks f2 out and not f1");
    for (user, want) in [(f1, false), (f2, true)] {
        let lockout = read_ok(&app, "care", &format!("/v1/users/{user}/lockout")).await;
        assert_eq!(lockout["lockedOut"], want, "user {user}: {lockout}");
    }

    let usernames: BTreeMap<i64, String> = {
        let mut names = BTreeMap::new();
        for user in streaks.keys() {
            let profile = read_ok(&app, "care", &format!("/v1/users/{user}")).await;
            names.insert(*user, profile["username"].as_str().unwrap().to_owned());
        }
        names
    };
    let mine: BTreeSet<i64> = streaks.keys().copied().collect();
    for days in [1, 3, 30] {
        let since = now - days * DAY;
        // (user, failures in range, consecutive, last failure, locked out)
        let mut expected: Vec<(i64, u64, u64, i64, bool)> = streaks
            .iter()
            .filter_map(|(user, streak)| {
                let in_range: Vec<i64> = streak.failures.iter().copied().filter(|at| *at > since).collect();
                let last = *in_range.iter().max()?;
                Some((*user, in_range.len() as u64, streak.consecutive, last, locked(*user)))
            })
            .collect();
        let by_username = |rows: &mut Vec<(i64, u64, u64, i64, bool)>| rows.sort_by_key(|row| usernames[&row.0].clone());
        let row_of = |row: &Value| {
            (
                row["userPk"].as_i64().unwrap(),
                row["failedLogins"].as_u64().unwrap(),
                row["consecutiveFailedLogins"].as_u64().unwrap(),
                millis(&row["lastFailedLogin"]),
                row["lockedOut"].as_bool().unwrap(),
            )
        };
        let list = async |group: i64, query: &str| -> Vec<(i64, u64, u64, i64, bool)> {
            let path = format!("/v1/customers/{group}/failed-logins?days={days}&size=100{query}");
            let page = read_ok(&app, "acme.admin", &path).await;
            rows_of(&page, &mine).iter().map(row_of).collect()
        };
        // The default order: most failures first, then by username.
        by_username(&mut expected);
        expected.sort_by_key(|row| std::cmp::Reverse(row.1));
        assert_eq!(list(102, "").await, expected, "days={days}");
        assert_eq!(list(100, "").await, expected, "days={days}, from the ancestor");
        assert!(list(101, "").await.is_empty(), "days={days}: 101 is another subtree");
        by_username(&mut expected);
        assert_eq!(list(102, "&sort=username").await, expected, "days={days} by username");
        expected.reverse();
        assert_eq!(list(102, "&sort=username,desc").await, expected, "days={days} by username desc");
        by_username(&mut expected);
        expected.sort_by_key(|row| std::cmp::Reverse(row.2));
        assert_eq!(
            list(102, "&sort=consecutiveFailedLogins,desc&sort=username").await,
            expected,
            "days={days} by streak"
        );
        by_username(&mut expected);
        expected.sort_by_key(|row| row.3);
        assert_eq!(list(102, "&sort=lastFailedLogin").await, expected, "days={days} by last failure");
    }
}

// ---------------------------------------------------------------------------
// Users with issues

/// Stores an INTERACTIVE user of `group` with a cell phone, in states set directly:
/// two-factor without a verified cell phone is one no operation brings about (only data
/// from before the rule, or imported, has it).
async fn stored_user(
    app: &TestApp,
    username: &str,
    name: &str,
    group: i64,
    edit: impl FnOnce(&mut User),
    password_expires_at: Option<Timestamp>,
) -> i64 {
    let yesterday = Timestamp::now() - SignedDuration::from_hours(24);
    let password = password_expires_at.map(|expires_at| PasswordRecord::new("not-a-real-hash".into(), yesterday, expires_at));
    let edit = |user: &mut User| {
        user.name = name.into();
        user.surname = "Stored".into();
        user.cell_phone = Some("+393330000000".into());
        edit(user);
    };
    accountcentral_e2e::stored_user(app, username, group, edit, password).await
}

/// What the test did to a user.
#[derive(Default, Clone, Copy)]
struct Trouble {
    suspended: bool,
    disabled: bool,
    locked: bool,
    password_expired: bool,
    two_factor_unverified: bool,
}

impl Trouble {
    /// The issues the contract names for it, in the order of `UserIssue`.
    fn issues(self) -> Vec<&'static str> {
        [
            (self.suspended, "SUSPENDED"),
            (self.disabled, "DISABLED"),
            (self.locked, "LOCKED_OUT"),
            (self.password_expired, "PASSWORD_EXPIRED"),
            (self.two_factor_unverified, "UNVERIFIED_PHONE_WITH_TWO_FACTOR"),
        ]
        .into_iter()
        .filter_map(|(has, issue)| has.then_some(issue))
        .collect()
    }

    fn status(self) -> &'static str {
        match (self.suspended, self.disabled) {
            (true, _) => "SUSPENDED",
            (_, true) => "DISABLED",
            _ => "ACTIVE",
        }
    }
}

async fn users_with_issues_list_each_reason(app: TestApp) {
    let threshold = app.environment.state.security.lockout_threshold as i64;
    let now = Timestamp::now();
    let past = now - SignedDuration::from_hours(24);
    let future = now + SignedDuration::from_hours(24 * 30);
    // (user, name, what was done): names in another order than the usernames.
    let mut users: Vec<(i64, String, Trouble)> = Vec::new();
    let api_cases = [
        (
            "Mia",
            Trouble {
                suspended: true,
                ..Trouble::default()
            },
        ),
        (
            "Leo",
            Trouble {
                locked: true,
                ..Trouble::default()
            },
        ),
        (
            "Ada",
            Trouble {
                suspended: true,
                locked: true,
                ..Trouble::default()
            },
        ),
        ("Zoe", Trouble::default()),
    ];
    for (name, trouble) in api_cases {
        let username = unique("issues");
        let mut body = new_user(&username);
        body["name"] = json!(name);
        let user = app.create_user("care", 102, &body).await;
        if trouble.suspended {
            let (status, answer) = app
                .put_as("care", &format!("/v1/users/{user}/suspension"), &json!({"suspended": true}))
                .await;
            assert_eq!(status, 200, "suspending {user}: {answer}");
        }
        if trouble.locked {
            for i in 0..threshold {
                let at = now.as_millisecond() - MINUTE - (threshold - 1 - i) * 1000;
                record(&app, &json!(user), "LOGIN_FAILED", "hub", at).await;
            }
        }
        users.push((user, name.to_owned(), trouble));
    }
    // Stored directly (no operation yet): disabled, expired, two-factor on an unverified phone,
    // and one with a valid password and a verified phone, which has no issue.
    let stored_cases: [(&str, Trouble, bool, bool, Option<Timestamp>); 4] = [
        (
            "Eve",
            Trouble {
                disabled: true,
                ..Trouble::default()
            },
            false,
            false,
            Some(future),
        ),
        (
            "Bob",
            Trouble {
                password_expired: true,
                ..Trouble::default()
            },
            false,
            false,
            Some(past),
        ),
        (
            "Kim",
            Trouble {
                two_factor_unverified: true,
                ..Trouble::default()
            },
            true,
            false,
            None,
        ),
        ("Ida", Trouble::default(), true, true, Some(future)),
    ];
    for (name, trouble, two_factor, verified, expires) in stored_cases {
        let username = unique("issues");
        let user = stored_user(
            &app,
            &username,
            name,
            102,
            |user| {
                user.two_factor = two_factor;
                user.cell_phone_verified = verified;
                if trouble.disabled {
                    user.status = UserStatus::Disabled;
                }
            },
            expires,
        )
        .await;
        users.push((user, name.to_owned(), trouble));
    }
    // A client secret set long ago is no expired password.
    let robot = application_user(&app, &unique("issues-robot"), "Robot", 102, Some(past)).await;
    users.push((robot, "Robot".into(), Trouble::default()));

    let mut usernames = BTreeMap::new();
    for (user, _, _) in &users {
        let profile = read_ok(&app, "care", &format!("/v1/users/{user}")).await;
        usernames.insert(*user, profile["username"].as_str().unwrap().to_lowercase());
    }
    let mine: BTreeSet<i64> = users.iter().map(|(user, _, _)| *user).collect();
    let group_name = read_ok(&app, "care", "/v1/customers/102").await["name"].clone();
    // (user, status, issues), by username.
    let mut expected: Vec<(i64, String, Vec<String>)> = users
        .iter()
        .filter(|(_, _, trouble)| !trouble.issues().is_empty())
        .map(|(user, _, trouble)| {
            (
                *user,
                trouble.status().to_owned(),
                trouble.issues().iter().map(|i| i.to_string()).collect(),
            )
        })
        .collect();
    expected.sort_by_key(|(user, _, _)| usernames[user].clone());
    let list = async |group: i64, query: &str| -> Vec<(i64, String, Vec<String>)> {
        let path = format!("/v1/customers/{group}/users-with-issues?size=100{query}");
        let page = read_ok(&app, "acme.admin", &path).await;
        let rows = rows_of(&page, &mine);
        for row in &rows {
            assert_eq!(row["groupPk"], 102, "{row}");
            assert_eq!(row["groupName"], group_name, "{row}");
        }
        rows.iter()
            .map(|row| {
                (
                    row["userPk"].as_i64().unwrap(),
                    row["status"].as_str().unwrap().to_owned(),
                    row["issues"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(list(102, "").await, expected);
    assert_eq!(list(100, "").await, expected, "from the ancestor");
    assert!(list(101, "").await.is_empty(), "101 is another subtree");
    assert_eq!(list(102, "&sort=username,asc").await, expected);
    let mut descending = expected.clone();
    descending.reverse();
    assert_eq!(list(102, "&sort=username,desc").await, descending);
    let name_of: BTreeMap<i64, String> = users.iter().map(|(user, name, _)| (*user, name.to_lowercase())).collect();
    let mut by_name = expected.clone();
    by_name.sort_by_key(|(user, _, _)| name_of[user].clone());
    assert_eq!(list(102, "&sort=name").await, by_name, "by name");

    // Pages of 2: true totals, together the whole listing.
    let whole = read_ok(&app, "care", "/v1/customers/102/users-with-issues?size=100").await;
    let total = elements(&whole).len();
    let pages = total.div_ceil(2);
    let mut together = Vec::new();
    for number in 0..=pages {
        let page = read_ok(&app, "care", &format!("/v1/customers/102/users-with-issues?size=2&page={number}")).await;
        assert_eq!(page["page"]["totalElements"], total);
        assert_eq!(page["page"]["totalPages"], pages);
        together.extend(elements(&page));
    }
    assert_eq!(together, elements(&whole));
}
