//! Whatever arrives as a body, a write answers 4xx in the error format — never a
//! 500, never a panic — and writes nothing. Every body field, query parameter and
//! path parameter of the team and customer operations, sent wrong, is a 400 in the
//! error format naming it (a JSON pointer into the body, or the parameter's name),
//! as asked by a caller who may call the operation, and nothing is written.

use accountcentral_e2e::dkim::{fbl_body, key_body, rsa_public_key_with_exponent};
use accountcentral_e2e::operations::{customer_update, grant_body, preferences_body, user_update};
use accountcentral_e2e::{TestApp, error_paths, new_user, on_both_backends, read, unique};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::repositories::credentials::Credentials;

on_both_backends!(
    malformed_bodies_are_refused_without_writing,
    query_parameters_are_validated_and_named,
    path_ids_must_be_integers,
    path_ids_below_one_are_out_of_range,
    documented_sorts_are_accepted,
    bad_team_member_changes_are_refused_by_field_and_write_nothing,
    bad_customer_changes_are_refused_by_field_and_write_nothing,
    bad_dkim_input_is_refused_by_field_and_writes_nothing,
    bad_credential_input_is_refused_by_field_and_writes_nothing,
    bad_status_input_is_refused_and_writes_nothing,
);

fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("application/json", b"".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"42".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("application/json", br#"{"name": {"nested": [1, 2, {"x": null}]}}"#.to_vec()),
        ("application/json", br#"{"timezone": 1e999}"#.to_vec()),
        (
            "application/json",
            br#"{"dateOfBirth": "2020-02-30", "name": "a", "surname": "b", "email": "a@b.co"}"#.to_vec(),
        ),
        ("application/json", format!(r#"{{"name": "{}"}}"#, "x".repeat(100_000)).into_bytes()),
        ("application/json", deep.into_bytes()),
        ("application/xml", b"<user/>".to_vec()),
        ("", b"{}".to_vec()),
    ]
}

/// The status a hostile body is refused with: 400 for JSON that is not the operation's
/// input, 415 for a body that does not say it is JSON (docs: conventions).
fn refusal_status(content_type: &str) -> u16 {
    if content_type == "application/json" { 400 } else { 415 }
}

async fn malformed_bodies_are_refused_without_writing(app: TestApp) {
    let (status, me_before) = app.get_as("acme.user", "/v1/user").await;
    assert_eq!(status, 200, "{me_before}");
    let (status, preferences_before) = app.get_as("acme.user", "/v1/user/preferences").await;
    assert_eq!(status, 200, "{preferences_before}");
    let token = app.token("acme.user").await;
    for path in ["/v1/user", "/v1/user/preferences"] {
        for (content_type, body) in hostile_bodies() {
            let mut request = app.request(Method::PUT, path).bearer_auth(&token).body(body.clone());
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let (status, answer) = read(request.send().await.unwrap()).await;
            assert_eq!(
                status,
                refusal_status(content_type),
                "{path} with {content_type:?} {:?}: {answer}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
            error_paths(&answer);
        }
    }
    assert_eq!(app.get_as("acme.user", "/v1/user").await.1, me_before);
    assert_eq!(app.get_as("acme.user", "/v1/user/preferences").await.1, preferences_before);
}

/// Bad input refused: collects every answer that is not a 400 in the error format
/// naming exactly the bad field, so that one run reports them all.
struct Refusals<'a> {
    app: &'a TestApp,
    failures: Vec<String>,
}

impl<'a> Refusals<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app, failures: Vec::new() }
    }

    /// `user` sends `body` (if any) with `method` to `path`: expects 400 naming `field`
    /// (a JSON pointer into the body, or a parameter's name).
    async fn expect(&mut self, user: &str, method: Method, path: &str, body: Option<&Value>, field: &str) {
        let (status, _, answer) = self.app.send_as(user, method.clone(), path, body).await;
        let request = format!("{user}: {method} {path} {}", body.map(Value::to_string).unwrap_or_default());
        if status != 400 {
            self.failures
                .push(format!("{request}\n    -> {status}, expected 400 naming {field:?}: {answer}"));
            return;
        }
        let paths = error_paths(&answer);
        if paths != [field] {
            self.failures
                .push(format!("{request}\n    -> errors at {paths:?}, expected [{field:?}]: {answer}"));
        }
    }

    /// A body that is not JSON: 415 in the error format.
    async fn expect_415(&mut self, user: &str, method: Method, path: &str) {
        let request = self
            .app
            .as_user(user, method.clone(), path)
            .await
            .header("content-type", "text/plain")
            .body("suspended=true");
        let (status, answer) = read(request.send().await.unwrap()).await;
        if status != 415 {
            self.failures
                .push(format!("{user}: {method} {path} as text/plain -> {status}, expected 415: {answer}"));
        } else {
            error_paths(&answer);
        }
    }

    /// The state read back after the refusals must be the state read before them.
    fn unchanged(&mut self, what: &str, before: &Value, after: &Value) {
        if before != after {
            self.failures.push(format!(
                "{what} changed by refused requests:\n    before {before}\n    after  {after}"
            ));
        }
    }

    fn assert_none(self) {
        assert!(
            self.failures.is_empty(),
            "{} bad inputs not refused as they should be:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// `base` with `field` set to `value` (`None`: removed).
fn with(base: &Value, field: &str, value: Option<Value>) -> Value {
    let mut body = base.clone();
    let object = body.as_object_mut().expect("an object");
    match value {
        Some(value) => object.insert(field.to_owned(), value),
        None => object.remove(field),
    };
    body
}

/// The body of a read that must succeed (200).
async fn read_ok(app: &TestApp, user: &str, path: &str) -> Value {
    let (status, body) = app.get_as(user, path).await;
    assert_eq!(status, 200, "{user} reads {path}: {body}");
    body
}

/// The paged listings of the team and customer operations, read by a caller allowed to
/// read them all (care).
const PAGED: [&str; 13] = [
    "/v1/users/12/customers",
    "/v1/users/12/capabilities/log",
    "/v1/customers",
    "/v1/customers/101/parents",
    "/v1/customers/101/users",
    "/v1/customers/101/application-users",
    "/v1/user/security-events",
    "/v1/users/12/security-events",
    "/v1/customers/101/app-usage",
    "/v1/customers/101/app-usage/hub",
    "/v1/customers/101/users-with-issues",
    "/v1/customers/101/failed-logins",
    "/v1/news",
];

/// The sortable listings of the security reports.
const SORTED_REPORTS: [&str; 2] = ["/v1/customers/101/users-with-issues", "/v1/customers/101/failed-logins"];

async fn query_parameters_are_validated_and_named(app: TestApp) {
    let mut refusals = Refusals::new(&app);
    for path in PAGED {
        for (query, field) in [
            ("size=0", "size"),
            ("size=101", "size"),
            ("size=abc", "size"),
            ("size=1.5", "size"),
            ("size=", "size"),
            ("page=-1", "page"),
            ("page=x", "page"),
            ("page=99999999999999999999", "page"),
        ] {
            let separator = if path.contains('?') { '&' } else { '?' };
            refusals
                .expect("care", Method::GET, &format!("{path}{separator}{query}"), None, field)
                .await;
        }
    }
    for path in ["/v1/customers/101/users", "/v1/customers/101/application-users"]
        .into_iter()
        .chain(SORTED_REPORTS)
    {
        for query in ["sort=password", "sort=name,sideways", "sort=", "sort=username,asc,desc"] {
            refusals.expect("care", Method::GET, &format!("{path}?{query}"), None, "sort").await;
        }
    }
    for (query, field) in [
        ("userType=ROBOT", "userType"),
        ("status=SLEEPING", "status"),
        ("search=", "search"),
        ("userType=", "userType"),
        ("status=", "status"),
    ] {
        refusals
            .expect("care", Method::GET, &format!("/v1/customers/101/users?{query}"), None, field)
            .await;
    }
    for (query, field) in [("groupNameMode=middle", "groupNameMode"), ("groupName=", "groupName")] {
        refusals
            .expect("care", Method::GET, &format!("/v1/users/12/customers?{query}"), None, field)
            .await;
    }
    for path in ["/v1/customers", "/v1/customers/101/parents"] {
        for (query, field) in [
            ("name=", "name"),
            ("excludeUserPk=abc", "excludeUserPk"),
            ("excludeUserPk=0", "excludeUserPk"),
            ("excludeUserPk=-3", "excludeUserPk"),
        ] {
            refusals.expect("care", Method::GET, &format!("{path}?{query}"), None, field).await;
        }
    }
    for query in ["", "?username="] {
        refusals
            .expect("mta", Method::GET, &format!("/v1/internal/capabilities{query}"), None, "username")
            .await;
    }
    refusals
        .expect(
            "care",
            Method::GET,
            "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters?nodes=",
            None,
            "nodes",
        )
        .await;
    refusals
        .expect("care", Method::GET, "/v1/customers/100/applications/mail", None, "application")
        .await;
    // The filters of both security-event listings.
    for path in ["/v1/user/security-events", "/v1/users/12/security-events"] {
        for (query, field) in [
            ("type=BOGUS", "type"),
            ("type=login", "type"),
            ("type=", "type"),
            ("type=LOGIN&type=LOGOUT", "type"),
            ("exclude-app=", "exclude-app"),
            ("exclude-app=hub&exclude-app=no%20such%20app", "exclude-app"),
            ("from=abc", "from"),
            ("from=-1", "from"),
            ("from=", "from"),
            ("from=1.5", "from"),
            ("to=abc", "to"),
            ("to=-1", "to"),
            ("to=99999999999999999999", "to"),
            ("from=1700000000001&to=1700000000000", "to"),
        ] {
            refusals.expect("care", Method::GET, &format!("{path}?{query}"), None, field).await;
        }
    }
    for (query, field) in [
        ("category=email", "category"),
        ("category=1&category=", "category"),
        ("category=1.5", "category"),
        ("category=99999999999999999999", "category"),
        ("lang=it&lang=en", "lang"),
    ] {
        refusals
            .expect("care", Method::GET, &format!("/v1/news?{query}"), None, field)
            .await;
    }
    for query in ["days=0", "days=31", "days=-1", "days=abc", "days=", "days=1.5"] {
        refusals
            .expect(
                "care",
                Method::GET,
                &format!("/v1/customers/101/failed-logins?{query}"),
                None,
                "days",
            )
            .await;
    }
    for application in ["mail", "HUB", "plan", "hub.send"] {
        refusals
            .expect(
                "care",
                Method::GET,
                &format!("/v1/customers/101/app-usage/{application}"),
                None,
                "application",
            )
            .await;
    }
    refusals.assert_none();
}

async fn path_ids_must_be_integers(app: TestApp) {
    path_ids_are_refused(&app, &["abc", "1.5", "99999999999999999999", "12abc"]).await;
}

/// `{userPk}`, `{groupPk}` and the capability `{id}` are documented with `minimum: 1`:
/// 0 and negative keys are out of range, hence bad input (400), not missing resources.
async fn path_ids_below_one_are_out_of_range(app: TestApp) {
    path_ids_are_refused(&app, &["0", "-5"]).await;
}

/// Every operation on a user or a customer, with each of `ids` as its key, is a 400
/// naming the path parameter, and writes nothing.
async fn path_ids_are_refused(app: &TestApp, ids: &[&str]) {
    let mut refusals = Refusals::new(app);
    let customer = read_ok(app, "care", "/v1/customers/101").await;
    // Each operation with a valid body where it takes one, so that only the id is wrong.
    let user_operations: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "", None),
        (Method::PUT, "", Some(json!({"name": "Ada"}))),
        (Method::PUT, "/suspension", Some(json!({"suspended": false}))),
        (Method::GET, "/customers", None),
        (Method::POST, "/customers", Some(json!([101]))),
        (Method::DELETE, "/customers?groupPk=101", None),
        (Method::GET, "/preferences", None),
        (Method::PUT, "/preferences", Some(preferences_body())),
        (Method::GET, "/roles", None),
        (Method::PUT, "/roles", Some(json!({"hub": "EDITOR"}))),
        (Method::POST, "/capabilities", Some(grant_body("ADMIN", Some(101)))),
        (Method::DELETE, "/capabilities/1", None),
        (Method::GET, "/capabilities/log", None),
        (Method::GET, "/security-events", None),
        (Method::POST, "/password/reset", None),
        (Method::POST, "/pin/reset", None),
        (Method::POST, "/verification-code", None),
        (Method::POST, "/verification-code/verify", Some(json!({"code": 123456}))),
        (Method::GET, "/two-factor", None),
        (Method::PUT, "/two-factor", Some(json!({"active": false}))),
    ];
    for id in ids {
        for (method, suffix, body) in &user_operations {
            refusals
                .expect("care", method.clone(), &format!("/v1/users/{id}{suffix}"), body.as_ref(), "userPk")
                .await;
        }
        refusals
            .expect("care", Method::DELETE, &format!("/v1/users/12/capabilities/{id}"), None, "id")
            .await;
    }
    let customer_operations: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "", None),
        (Method::PUT, "", Some(customer_update(&customer))),
        (Method::PATCH, "", Some(json!({"status": "ACTIVE"}))),
        (Method::GET, "/parents", None),
        (Method::GET, "/users", None),
        (Method::POST, "/users", Some(new_user(&unique("bad-id")))),
        (Method::GET, "/application-users", None),
        (Method::GET, "/configuration", None),
        (Method::GET, "/configuration/sftp", None),
        (Method::GET, "/applications", None),
        (Method::GET, "/applications/hub", None),
        (Method::GET, "/applications/hub/workspaces/ws-acme-main/counters", None),
        (Method::GET, "/app-usage", None),
        (Method::GET, "/app-usage/hub", None),
        (Method::GET, "/users-with-issues", None),
        (Method::GET, "/failed-logins", None),
    ];
    let roster = read_ok(app, "care", "/v1/customers/1/users?size=100").await;
    for id in ids {
        for (method, suffix, body) in &customer_operations {
            refusals
                .expect(
                    "care",
                    method.clone(),
                    &format!("/v1/customers/{id}{suffix}"),
                    body.as_ref(),
                    "groupPk",
                )
                .await;
        }
    }
    // Nothing was written anywhere: the platform's roster and customer 101 are as they were.
    let after = read_ok(app, "care", "/v1/customers/1/users?size=100").await;
    refusals.unchanged("the roster of customer 1", &roster, &after);
    let after = read_ok(app, "care", "/v1/customers/101").await;
    refusals.unchanged("customer 101", &customer, &after);
    refusals.assert_none();
}

/// Everything an administrator can read about user `user`.
async fn user_state(app: &TestApp, user: i64) -> Value {
    let mut state = serde_json::Map::new();
    for (name, suffix) in [
        ("user", ""),
        ("customers", "/customers?size=100"),
        ("preferences", "/preferences"),
        ("roles", "/roles"),
        ("log", "/capabilities/log?size=100"),
    ] {
        state.insert(name.to_owned(), read_ok(app, "care", &format!("/v1/users/{user}{suffix}")).await);
    }
    Value::Object(state)
}

/// For contrast with the refusals: every sort property the contract documents is accepted.
async fn documented_sorts_are_accepted(app: TestApp) {
    let mut failures = Vec::new();
    let documented: [(&str, &[&str]); 4] = [
        (
            "/v1/customers/101/users",
            &["username", "name", "surname", "email", "groupName", "status", "userType"],
        ),
        (
            "/v1/customers/101/application-users",
            &["username", "name", "groupName", "secretCreationDate"],
        ),
        ("/v1/customers/101/users-with-issues", &["username", "name", "surname", "groupName"]),
        (
            "/v1/customers/101/failed-logins",
            &["failedLogins", "consecutiveFailedLogins", "lastFailedLogin", "username"],
        ),
    ];
    for (path, properties) in documented {
        for property in properties {
            for direction in ["", ",asc", ",desc"] {
                let query = format!("{path}?sort={property}{direction}");
                let (status, answer) = app.get_as("care", &query).await;
                if status != 200 {
                    failures.push(format!("care: GET {query} -> {status}, expected 200: {answer}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "documented sorts refused:\n{}", failures.join("\n"));
}

async fn bad_team_member_changes_are_refused_by_field_and_write_nothing(app: TestApp) {
    let mut refusals = Refusals::new(&app);
    // The target: a user of 101 with a capability to revoke; the caller: its admin.
    let user = app.create_user("care", 101, &new_user(&unique("user"))).await;
    let (status, granted) = app
        .post_as("care", &format!("/v1/users/{user}/capabilities"), &grant_body("ADMIN", Some(101)))
        .await;
    assert_eq!(status, 201, "{granted}");
    let admin = "acme.it.admin";
    let base = format!("/v1/users/{user}");
    let before = user_state(&app, user).await;

    // updateUser: the user's own representation with one field wrong.
    let current = user_update(&before["user"]);
    // (Its read-only fields are not the request's: ignored, see users.rs; SUSPENDED is a
    // conflict with the user's status, not bad input.)
    for (field, value) in [
        ("status", Some(json!("ASLEEP"))),
        ("status", None),
        ("email", Some(json!("nope"))),
        ("email", Some(json!(5))),
        ("email", None),
        ("cellPhone", Some(json!("3401234567"))),
        ("cellPhone", Some(json!("+39 abc"))),
        ("name", Some(json!(""))),
        ("name", None),
        ("surname", Some(json!("x".repeat(101)))),
        ("sex", Some(json!("X"))),
        ("dateOfBirth", Some(json!("2020-02-30"))),
        ("dateOfBirth", Some(json!("yesterday"))),
    ] {
        refusals
            .expect(admin, Method::PUT, &base, Some(&with(&current, field, value)), &format!("/{field}"))
            .await;
    }
    refusals.expect_415(admin, Method::PUT, &base).await;

    // setUserSuspension.
    for body in [
        json!({"suspended": "yes"}),
        json!({"suspended": null}),
        json!({"suspended": 1}),
        json!({}),
    ] {
        refusals
            .expect(admin, Method::PUT, &format!("{base}/suspension"), Some(&body), "/suspended")
            .await;
    }
    refusals.expect_415(admin, Method::PUT, &format!("{base}/suspension")).await;

    // updateUserPreferences: each field wrong or missing.
    let preferences = preferences_body();
    for (field, value) in [
        ("timezone", Some(json!("Nowhere/Atlantis"))),
        ("language", Some(json!("xx"))),
        ("weekBegin", Some(json!("FRIDAY"))),
        ("numberFormat", Some(json!({"pattern": "nonsense"}))),
        ("dateFormat", Some(json!("yyyy-MM-dd"))),
        ("hourFormat", None),
    ] {
        let body = with(&preferences, field, value);
        let (status, answer) = app.put_as(admin, &format!("{base}/preferences"), &body).await;
        // A nested pattern may be named by its own pointer (`/numberFormat/pattern`).
        let paths = if status == 400 { error_paths(&answer) } else { Vec::new() };
        if status != 400 || paths.is_empty() || !paths.iter().all(|p| p.starts_with(&format!("/{field}"))) {
            refusals.failures.push(format!(
                "{admin}: PUT {base}/preferences {body}\n    -> {status}, expected 400 naming /{field}: {answer}"
            ));
        }
    }
    refusals.expect_415(admin, Method::PUT, &format!("{base}/preferences")).await;

    // associateUserCustomers (as care, who administers every customer named).
    for (body, field) in [
        (json!([]), ""),
        (json!(["x"]), "/0"),
        (json!([101, 101]), "/1"),
        (json!([0]), "/0"),
        (json!([102, -1]), "/1"),
        (json!([1.5]), "/0"),
        (json!({"groupPk": 102}), ""),
        (json!((1..=101).collect::<Vec<i64>>()), ""),
    ] {
        refusals
            .expect("care", Method::POST, &format!("{base}/customers"), Some(&body), field)
            .await;
    }
    refusals.expect_415("care", Method::POST, &format!("{base}/customers")).await;

    // removeUserCustomers.
    for query in [
        "",
        "?groupPk=x",
        "?groupPk=0",
        "?groupPk=",
        "?groupPk=101&groupPk=abc",
        "?group=101",
    ] {
        refusals
            .expect("care", Method::DELETE, &format!("{base}/customers{query}"), None, "groupPk")
            .await;
    }

    // assignUserRoles.
    for (body, field) in [
        (json!({"hub": "SENDER"}), "/hub"),
        (json!({"jira": "ADMIN"}), "/jira"),
        (json!({"mc": 3}), "/mc"),
        (json!({"send": "always"}), "/send"),
        (json!({"flow": ["ADMIN"]}), "/flow"),
        (json!(["hub"]), ""),
    ] {
        refusals
            .expect(admin, Method::PUT, &format!("{base}/roles"), Some(&body), field)
            .await;
    }
    refusals.expect_415(admin, Method::PUT, &format!("{base}/roles")).await;

    // grantCapability (as care, who may grant anything): a valid grant with each field missing or wrong.
    let grant = json!({"application": "hub", "version": 1, "resource": ["customers", "101"], "role": "VIEWER"});
    for (field, value) in [
        ("application", None),
        ("version", None),
        ("resource", None),
        ("role", None),
        ("version", Some(json!(0))),
        ("version", Some(json!(-1))),
        ("version", Some(json!("1"))),
        ("application", Some(json!("jira"))),
        ("application", Some(json!(""))),
        ("resource", Some(json!(["planet"]))),
        ("resource", Some(json!([]))),
        ("resource", Some(json!("customers/102"))),
        ("resource", Some(json!(["customers", "101", "a", "b", "c", "d", "e", "f", "g"]))),
        ("role", Some(json!("GOD"))),
        ("role", Some(json!(""))),
    ] {
        refusals
            .expect(
                "care",
                Method::POST,
                &format!("{base}/capabilities"),
                Some(&with(&grant, field, value)),
                &format!("/{field}"),
            )
            .await;
    }
    // A customer id has one spelling, so that no second spelling dodges the duplicate
    // check or a revocation; resource segments have no white space around them.
    for (resource, pointer) in [
        (json!(["customers", "abc"]), "/resource/1"),
        (json!(["customers", "0101"]), "/resource/1"),
        (json!(["customers", "+101"]), "/resource/1"),
        (json!(["customers", " 101"]), "/resource/1"),
        (json!(["customers", "101", "workspace "]), "/resource/2"),
        (json!(["customers", "101", ""]), "/resource/2"),
    ] {
        refusals
            .expect(
                "care",
                Method::POST,
                &format!("{base}/capabilities"),
                Some(&with(&grant, "resource", Some(resource))),
                pointer,
            )
            .await;
    }
    // A role the application does not offer, on a customer (hub has no SENDER; the
    // platform-wide roles exist only platform-wide).
    for body in [
        json!({"application": "hub", "version": 1, "resource": ["customers", "101"], "role": "SENDER"}),
        grant_body("CUSTOMER_CARE", Some(101)),
        json!({"application": "hub", "version": 1, "resource": ["platform"], "role": "ADMIN"}),
    ] {
        refusals
            .expect("care", Method::POST, &format!("{base}/capabilities"), Some(&body), "/role")
            .await;
    }
    refusals.expect_415(admin, Method::POST, &format!("{base}/capabilities")).await;

    // Nothing of the user changed: profile, customers, preferences, roles, capability log.
    let after = user_state(&app, user).await;
    refusals.unchanged(&format!("user {user}"), &before, &after);
    refusals.assert_none();
}

async fn bad_customer_changes_are_refused_by_field_and_write_nothing(app: TestApp) {
    let mut refusals = Refusals::new(&app);
    let admin = "acme.it.admin";
    let customer = read_ok(&app, "care", "/v1/customers/101").await;
    let roster = read_ok(&app, "care", "/v1/customers/101/users?size=100").await;

    // updateCustomer, by its admin: the customer's own information with one field wrong.
    let current = customer_update(&customer);
    let mut cases = vec![
        ("name", Some(json!(""))),
        ("name", None),
        ("name", Some(json!(42))),
        ("name", Some(json!("x".repeat(201)))),
        ("country", Some(json!("ZZ"))),
        ("country", Some(json!("it"))),
        ("platformResponsible", Some(json!("not-an-email"))),
        ("technicalResponsible", Some(json!("x@"))),
        ("privacyResponsible", Some(json!(7))),
        ("phone", Some(json!("call me"))),
        ("address", Some(json!("x".repeat(501)))),
        ("status", Some(json!("CLOSED"))),
        // What only care may change, changed by an admin.
        ("status", Some(json!("SUSPENDED"))),
        ("premium", Some(json!(!customer["premium"].as_bool().unwrap()))),
        ("gid", Some(json!(unique("gid")))),
    ];
    for field in [
        "address",
        "country",
        "phone",
        "platformResponsible",
        "technicalResponsible",
        "privacyResponsible",
    ] {
        cases.push((field, None));
    }
    for (field, value) in cases {
        refusals
            .expect(
                admin,
                Method::PUT,
                "/v1/customers/101",
                Some(&with(&current, field, value)),
                &format!("/{field}"),
            )
            .await;
    }
    refusals
        .expect(
            "care",
            Method::PUT,
            "/v1/customers/101",
            Some(&with(&current, "premium", Some(json!("yes")))),
            "/premium",
        )
        .await;
    refusals.expect_415(admin, Method::PUT, "/v1/customers/101").await;

    // patchCustomerStatus, by care.
    for body in [
        json!({"status": "CLOSED"}),
        json!({"status": "active"}),
        json!({"status": 1}),
        json!({"status": null}),
        json!({}),
    ] {
        refusals
            .expect("care", Method::PATCH, "/v1/customers/101", Some(&body), "/status")
            .await;
    }
    refusals.expect_415("care", Method::PATCH, "/v1/customers/101").await;

    // createCustomerUser, by its admin: a valid new user with one field wrong.
    let mut cases: Vec<(&str, Option<Value>)> = vec![
        ("username", Some(json!("-x"))),
        ("username", Some(json!("ab"))),
        ("username", Some(json!("has space"))),
        ("username", Some(json!("x".repeat(65)))),
        ("email", Some(json!("nope"))),
        ("language", Some(json!("xx"))),
        ("language", Some(json!("EN"))),
        ("sex", Some(json!("X"))),
        ("send", Some(json!("always"))),
        ("send", Some(json!("SENDER"))),
        ("hub", Some(json!("SENDER"))),
        ("cplan", Some(json!("DESIGNER"))),
        ("flow", Some(json!("EDITOR"))),
        ("name", Some(json!(""))),
        ("surname", Some(json!(3))),
    ];
    for field in ["username", "name", "surname", "email", "language", "sex"] {
        cases.push((field, None));
    }
    for (field, value) in cases {
        let body = with(&new_user(&unique("bad")), field, value);
        refusals
            .expect(admin, Method::POST, "/v1/customers/101/users", Some(&body), &format!("/{field}"))
            .await;
    }
    refusals.expect_415(admin, Method::POST, "/v1/customers/101/users").await;

    // Nothing was written: the customer and its roster are as they were.
    let after = read_ok(&app, "care", "/v1/customers/101").await;
    refusals.unchanged("customer 101", &customer, &after);
    let after = read_ok(&app, "care", "/v1/customers/101/users?size=100").await;
    refusals.unchanged("the roster of customer 101", &roster, &after);
    refusals.assert_none();
}

/// Everything the DKIM operations keep: customer 100's keys, all keys, the FBLs, the platform key.
async fn dkim_state(app: &TestApp) -> Value {
    let mut state = serde_json::Map::new();
    for path in [
        "/v1/customers/100/dkims?size=100",
        "/v1/dkims?size=100",
        "/v1/fbls?size=100",
        "/v1/platform/dkim",
    ] {
        state.insert(path.to_owned(), read_ok(app, "dkimops", path).await);
    }
    Value::Object(state)
}

/// Every body field, query parameter and path key of the DKIM operations, sent wrong,
/// is a 400 naming it, and nothing is written.
async fn bad_dkim_input_is_refused_by_field_and_writes_nothing(app: TestApp) {
    let mut refusals = Refusals::new(&app);
    let before = dkim_state(&app).await;
    let keys = read_ok(&app, "care", "/v1/customers/100/dkims").await;
    let key_id = keys["elements"][0]["id"].as_i64().expect("a demo key");
    let fbls = read_ok(&app, "dkimops", "/v1/fbls").await;
    let fbl_id = fbls["elements"][0]["id"].as_str().expect("the demo FBL").to_owned();

    let key = key_body(&format!("{}.test", unique("bad")), "s1", true);
    let bad_key_fields: Vec<(&str, Option<Value>)> = vec![
        ("domain", None),
        ("domain", Some(json!(42))),
        ("domain", Some(json!(""))),
        ("domain", Some(json!("under_score.test"))),
        ("domain", Some(json!("localhost"))),
        ("domain", Some(json!(format!("{}.test", "a".repeat(64))))),
        ("selector", None),
        ("selector", Some(json!(""))),
        ("selector", Some(json!("a b"))),
        ("selector", Some(json!("x".repeat(64)))),
        ("publicKey", None),
        ("publicKey", Some(json!(""))),
        ("publicKey", Some(json!("not base64 at all!"))),
        ("publicKey", Some(json!(rsa_public_key_with_exponent(3)))),
        ("publicKey", Some(json!(rsa_public_key_with_exponent(17)))),
        ("privateKey", Some(json!(""))),
        (
            "privateKey",
            Some(json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")),
        ),
        ("privateKey", Some(json!(7))),
        ("active", None),
        ("active", Some(json!("yes"))),
    ];
    for (field, value) in &bad_key_fields {
        let body = with(&key, field, value.clone());
        let pointer = format!("/{field}");
        refusals
            .expect("care", Method::POST, "/v1/customers/100/dkims", Some(&body), &pointer)
            .await;
        refusals
            .expect(
                "care",
                Method::PUT,
                &format!("/v1/customers/100/dkims/{key_id}"),
                Some(&body),
                &pointer,
            )
            .await;
        if *field != "active" {
            refusals
                .expect("dkimops", Method::PUT, "/v1/platform/dkim", Some(&body), &pointer)
                .await;
        }
    }
    for value in [json!("1"), json!(null), json!(1.5)] {
        refusals
            .expect(
                "care",
                Method::PUT,
                "/v1/customers/100/dkims/default",
                Some(&json!({"id": value})),
                "/id",
            )
            .await;
    }
    refusals
        .expect("care", Method::PUT, "/v1/customers/100/dkims/default", Some(&json!({})), "/id")
        .await;

    let fbl = fbl_body(&format!("{}.test", unique("inbox")));
    let bad_fbl_fields: Vec<(&str, Option<Value>, &str)> = vec![
        ("esp", None, "/esp"),
        ("esp", Some(json!(" ")), "/esp"),
        ("recipientDomain", Some(json!("not a domain")), "/recipientDomain"),
        ("recipientDomain", None, "/recipientDomain"),
        ("signableHeaders", Some(json!([])), "/signableHeaders"),
        ("signableHeaders", Some(json!(["To"])), "/signableHeaders"),
        ("signableHeaders", Some(json!(["From", "Bad:Name"])), "/signableHeaders/1"),
        ("signableHeaders", Some(json!(["From", "List;Id"])), "/signableHeaders/1"),
        ("signableHeaders", Some(json!(["From", "h=To"])), "/signableHeaders/1"),
        ("signableHeaders", Some(json!(["From", "Message ID"])), "/signableHeaders/1"),
        ("signableHeaders", Some(json!(["From", "X".repeat(77)])), "/signableHeaders/1"),
        (
            "signableHeaders",
            Some(json!((0..33).map(|i| format!("X-{i}")).collect::<Vec<_>>())),
            "/signableHeaders",
        ),
        ("signableHeaders", Some(json!("From")), "/signableHeaders"),
        ("dkim", None, "/dkim"),
        // An object given as the array of its values, in order: serde alone would take it.
        (
            "dkim",
            Some(json!([
                fbl["dkim"]["domain"],
                fbl["dkim"]["selector"],
                fbl["dkim"]["publicKey"],
                fbl["dkim"]["privateKey"]
            ])),
            "/dkim",
        ),
        ("dkim", Some(with(&fbl["dkim"], "domain", Some(json!("no domain")))), "/dkim/domain"),
        (
            "dkim",
            Some(with(&fbl["dkim"], "privateKey", Some(json!(null)))),
            "/dkim/privateKey",
        ),
        (
            "dkim",
            Some(with(&fbl["dkim"], "publicKey", Some(json!("AAAA")))),
            "/dkim/publicKey",
        ),
    ];
    for (field, value, pointer) in &bad_fbl_fields {
        let body = with(&fbl, field, value.clone());
        refusals.expect("dkimops", Method::POST, "/v1/fbls", Some(&body), pointer).await;
        if *pointer != "/dkim/privateKey" {
            refusals
                .expect("dkimops", Method::PUT, &format!("/v1/fbls/{fbl_id}"), Some(&body), pointer)
                .await;
        }
    }
    let as_array = json!([fbl["esp"], fbl["recipientDomain"], fbl["signableHeaders"], fbl["dkim"]]);
    refusals.expect("dkimops", Method::POST, "/v1/fbls", Some(&as_array), "").await;
    // A replacement keeps the stored private key with null, never by leaving it out.
    let without_private_key = with(&fbl, "dkim", Some(with(&fbl["dkim"], "privateKey", None)));
    refusals
        .expect(
            "dkimops",
            Method::PUT,
            &format!("/v1/fbls/{fbl_id}"),
            Some(&without_private_key),
            "/dkim/privateKey",
        )
        .await;

    for (name, value) in [
        ("default", "maybe"),
        ("active", "1x"),
        ("domain", "no domain"),
        ("size", "0"),
        ("page", "-1"),
    ] {
        refusals
            .expect("care", Method::GET, &format!("/v1/customers/100/dkims?{name}={value}"), None, name)
            .await;
    }
    for (path, name) in [
        ("/v1/dkims?size=101", "size"),
        ("/v1/fbls?page=x", "page"),
        ("/v1/customers/100/signing-dkim?domain=-x-", "domain"),
    ] {
        refusals.expect("dkimops", Method::GET, path, None, name).await;
    }
    for id in ["abc", "0", "-5", "1.5"] {
        refusals
            .expect("care", Method::GET, &format!("/v1/customers/100/dkims/{id}"), None, "dkimId")
            .await;
        refusals
            .expect("care", Method::DELETE, &format!("/v1/customers/100/dkims/{id}"), None, "dkimId")
            .await;
        refusals
            .expect("care", Method::GET, &format!("/v1/customers/{id}/dkims"), None, "groupPk")
            .await;
        refusals
            .expect(
                "care",
                Method::PUT,
                &format!("/v1/customers/{id}/dkims/{key_id}"),
                Some(&key),
                "groupPk",
            )
            .await;
        refusals
            .expect("mta", Method::GET, &format!("/v1/customers/{id}/signing-dkim"), None, "groupPk")
            .await;
    }
    for id in ["not-a-uuid", "12"] {
        refusals
            .expect("dkimops", Method::DELETE, &format!("/v1/fbls/{id}"), None, "uuid")
            .await;
        refusals
            .expect("dkimops", Method::PUT, &format!("/v1/fbls/{id}"), Some(&fbl), "uuid")
            .await;
    }
    refusals.expect_415("care", Method::POST, "/v1/customers/100/dkims").await;
    refusals.expect_415("dkimops", Method::POST, "/v1/fbls").await;
    let after = dkim_state(&app).await;
    refusals.unchanged("the DKIM keys and FBLs", &before, &after);
    refusals.assert_none();
}

/// What the credential operations may change about a user: its profile (cellPhoneVerified),
/// two-factor, its stored password and its verification state.
async fn credential_state(app: &TestApp, user_pk: i64) -> Value {
    let state = &app.environment.state;
    let repository = Credentials::new(state.store.as_ref(), &state.security);
    let password = repository
        .password(UserPk(user_pk))
        .await
        .unwrap()
        .map(|p| (p.version, p.value.hash));
    let verification = repository.verification(UserPk(user_pk)).await.unwrap();
    json!({
        "user": read_ok(app, "care", &format!("/v1/users/{user_pk}")).await,
        "twoFactor": read_ok(app, "care", &format!("/v1/users/{user_pk}/two-factor")).await,
        "password": password,
        "verification": [verification.version, serde_json::to_value(&verification.value).unwrap()],
    })
}

async fn bad_credential_input_is_refused_by_field_and_writes_nothing(app: TestApp) {
    let mut refusals = Refusals::new(&app);
    let username = unique("cred");
    let user = app.create_user("care", 101, &new_user(&username)).await;
    let (status, reset) = app.post_as("care", &format!("/v1/users/{user}/password/reset"), &json!({})).await;
    assert_eq!(status, 200, "{reset}");
    let current = reset["newPassword"].clone();
    // A code pending, so that a well-formed wrong code would count an attempt.
    accountcentral_e2e::pending_code(&app, user).await;
    let before = credential_state(&app, user).await;

    let good_change = json!({"oldPassword": current, "newPassword": "Quartz lantern over meadows"});
    for (field, value) in [
        ("oldPassword", None),
        ("oldPassword", Some(json!(5))),
        ("oldPassword", Some(json!(null))),
        ("oldPassword", Some(json!(["x"]))),
        ("newPassword", None),
        ("newPassword", Some(json!(null))),
        ("newPassword", Some(json!(1234567890))),
        ("newPassword", Some(json!("short"))),
        ("newPassword", Some(json!("x".repeat(129)))),
        ("newPassword", Some(json!("password1234"))),
        ("newPassword", Some(json!(format!("{username}-Quartz-9!")))),
    ] {
        let body = with(&good_change, field, value);
        refusals
            .expect(&username, Method::PUT, "/v1/user/password", Some(&body), &format!("/{field}"))
            .await;
    }
    let verify_paths = [
        "/v1/user/verification-code/verify".to_owned(),
        format!("/v1/users/{user}/verification-code/verify"),
    ];
    let two_factor_paths = ["/v1/user/two-factor".to_owned(), format!("/v1/users/{user}/two-factor")];
    for (index, path) in verify_paths.iter().enumerate() {
        let caller = if index == 0 { username.as_str() } else { "acme.it.admin" };
        for code in [
            json!("123456"),
            json!(-1),
            json!(1_000_000),
            json!(1.5),
            json!(null),
            json!({"x": 1}),
        ] {
            refusals
                .expect(caller, Method::POST, path, Some(&json!({ "code": code })), "/code")
                .await;
        }
        refusals.expect(caller, Method::POST, path, Some(&json!({})), "/code").await;
        refusals.expect_415(caller, Method::POST, path).await;
    }
    for (index, path) in two_factor_paths.iter().enumerate() {
        let caller = if index == 0 { username.as_str() } else { "acme.it.admin" };
        // (`true` without a verified phone is well-formed: a conflict, see credentials.rs.)
        for active in [json!("yes"), json!(1), json!(null)] {
            refusals
                .expect(caller, Method::PUT, path, Some(&json!({ "active": active })), "/active")
                .await;
        }
        refusals.expect(caller, Method::PUT, path, Some(&json!({})), "/active").await;
        refusals.expect_415(caller, Method::PUT, path).await;
    }
    refusals.expect_415(&username, Method::PUT, "/v1/user/password").await;
    let after = credential_state(&app, user).await;
    refusals.unchanged("the user's credentials", &before, &after);
    refusals.assert_none();
}

/// setApplicationStatus, sent anything but `{"status": "UP" | "DOWN"}` by customer care:
/// 400 naming `/status` (415 for a body that is not JSON, 4xx for one that is not even
/// an object), and the status and its history stay as they were.
async fn bad_status_input_is_refused_and_writes_nothing(app: TestApp) {
    let path = "/v1/status/hub";
    let (status, _) = app.put_as("care", path, &json!({"status": "DOWN"})).await;
    assert_eq!(status, 200);
    let state = || async {
        let history = shared::repositories::status::Statuses::new(app.environment.state.store.as_ref())
            .changes_after("hub", None, 100)
            .await
            .unwrap();
        json!({"status": read_ok(&app, "care", path).await, "changes": history.len()})
    };
    let before = state().await;
    let mut refusals = Refusals::new(&app);
    for body in [
        json!({"status": "down"}),
        json!({"status": "SIDEWAYS"}),
        json!({"status": ""}),
        json!({"status": null}),
        json!({"status": true}),
        json!({"status": {"value": "UP"}}),
        json!({"state": "UP"}),
    ] {
        refusals.expect("care", Method::PUT, path, Some(&body), "/status").await;
    }
    refusals.expect_415("care", Method::PUT, path).await;
    let token = app.token("care").await;
    for (content_type, body) in hostile_bodies() {
        let mut request = app.request(Method::PUT, path).bearer_auth(&token).body(body.clone());
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let (status, answer) = read(request.send().await.unwrap()).await;
        assert_eq!(status, refusal_status(content_type), "{content_type:?}: {answer}");
        error_paths(&answer);
    }
    let after = state().await;
    refusals.unchanged("the status of hub", &before, &after);
    refusals.assert_none();
}
