//! The users group: a team member as its administrators see it — profile, suspension,
//! customers, preferences, roles, capabilities and their log — and the capabilities
//! the authorization server reads.

use accountcentral_e2e::{TestApp, assert_refused, error_paths, new_user, on_both_backends, read};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    an_admin_reads_a_member_of_its_team,
    an_admin_updates_a_member_but_not_what_is_read_only,
    suspension_refuses_the_token_until_reactivation,
    nobody_suspends_itself,
    associations_need_admin_rights_on_the_user_and_every_customer,
    removing_an_association_hides_the_user_and_revokes_what_it_no_longer_reaches,
    assigned_roles_are_what_get_user_roles_shows,
    nobody_grants_or_revokes_more_than_it_holds,
    the_capability_log_is_append_only_and_paged_newest_first,
    the_authorization_server_reads_capabilities_through_the_service_user,
    an_admin_manages_a_members_preferences_as_the_member_would,
    a_user_two_tenants_rely_on_is_read_by_each_and_changed_by_care_only,
    an_admin_sees_a_shared_users_roles_and_log_only_where_it_reaches,
    service_on_a_customer_is_for_application_users_and_granted_by_care,
);

fn column(page: &Value, field: &str) -> Vec<Value> {
    page["elements"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|element| element[field].clone())
        .collect()
}

fn strings(values: &Value) -> Vec<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {values}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A user's personal information as a PUT body: getUser's answer without `suspensionInfo`.
async fn user_info(app: &TestApp, caller: &str, user_pk: i64) -> Value {
    let (status, mut user) = app.get_as(caller, &format!("/v1/users/{user_pk}")).await;
    assert_eq!(status, 200, "{caller} reading {user_pk}: {user}");
    user.as_object_mut().unwrap().remove("suspensionInfo");
    user
}

async fn suspend(app: &TestApp, caller: &str, user_pk: i64, suspended: bool) -> (u16, Value) {
    app.put_as(
        caller,
        &format!("/v1/users/{user_pk}/suspension"),
        &json!({ "suspended": suspended }),
    )
    .await
}

/// The usernames listCustomerUsers of `group` finds for `search`.
async fn listed(app: &TestApp, caller: &str, group: i64, search: &str) -> Vec<Value> {
    let (status, page) = app
        .get_as(caller, &format!("/v1/customers/{group}/users?search={search}&size=100"))
        .await;
    assert_eq!(status, 200, "{page}");
    column(&page, "username")
}

/// The groupPks of listUserCustomers.
async fn customers_of(app: &TestApp, caller: &str, user_pk: i64) -> Vec<Value> {
    let (status, page) = app.get_as(caller, &format!("/v1/users/{user_pk}/customers?size=100")).await;
    assert_eq!(status, 200, "{page}");
    column(&page, "groupPk")
}

/// The whole capability log of a user, newest first.
async fn log_of(app: &TestApp, user_pk: i64) -> Vec<Value> {
    let (status, page) = app.get_as("care", &format!("/v1/users/{user_pk}/capabilities/log?size=100")).await;
    assert_eq!(status, 200, "{page}");
    page["elements"].as_array().unwrap().clone()
}

fn grant(application: &str, resource: &[&str], role: &str) -> Value {
    json!({"application": application, "version": 1, "resource": resource, "role": role})
}

/// Grants as `caller`: status and body (with the capability's `id` on 201).
async fn grant_as(app: &TestApp, caller: &str, user_pk: i64, capability: &Value) -> (u16, Value) {
    app.post_as(caller, &format!("/v1/users/{user_pk}/capabilities"), capability).await
}

async fn an_admin_reads_a_member_of_its_team(app: TestApp) {
    let (status, user) = app.get_as("acme.it.admin", "/v1/users/12").await;
    assert_eq!(status, 200, "{user}");
    let (_, me) = app.get_as("acme.user", "/v1/user").await;
    let mut info = user.clone();
    info.as_object_mut().unwrap().remove("suspensionInfo");
    assert_eq!(info, me, "the personal information is the user's own");
    assert_eq!(user["suspensionInfo"], json!({"suspended": false, "date": null, "byUserPk": null}));

    for (caller, user_pk, expected) in [
        ("acme.admin", 12, 200),
        ("acme.admin", 11, 200),
        ("care", 12, 200),
        ("care", 20, 200),
        ("acme.it.admin", 11, 200),
        ("acme.it.admin", 10, 403),
        ("acme.user", 11, 403),
        ("acme.user", 12, 403),
        ("globex.admin", 12, 403),
        ("dkimops", 12, 403),
        ("mta", 12, 403),
        ("acme.admin", 20, 403),
        ("acme.admin", 999_999, 403),
        ("care", 999_999, 404),
    ] {
        let (status, body) = app.get_as(caller, &format!("/v1/users/{user_pk}")).await;
        assert_eq!(status, expected, "{caller} reading {user_pk}: {body}");
        if status == 200 {
            assert_eq!(body["userPk"], user_pk);
        } else {
            error_paths(&body);
        }
    }
    let (status, error) = app.get_as("care", "/v1/users/abc").await;
    assert_eq!(status, 400);
    error_paths(&error);
}

async fn an_admin_updates_a_member_but_not_what_is_read_only(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("to.edit")).await;
    let before = user_info(&app, "acme.it.admin", user_pk).await;
    let mut body = before.clone();
    body["name"] = json!("Grace");
    body["surname"] = json!("Hopper");
    body["cellPhone"] = json!("+393401112223");
    body["dateOfBirth"] = json!("1906-12-09");
    let (status, updated) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &body).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated, body);
    assert_eq!(user_info(&app, "acme.admin", user_pk).await, body);
    assert_eq!(app.get_as("to.edit", "/v1/user").await.1, body, "the member sees it");
    let listed = listed(&app, "acme.admin", 100, "hopper").await;
    assert_eq!(listed, [json!("to.edit")], "the list follows");

    // What was read goes back (GET-modify-PUT) with its read-only fields, changed, null or
    // not: the request schema does not list them, so they are ignored and stay as they are.
    for value in [Some(json!(77)), Some(json!(null)), None] {
        let mut sent_back = body.clone();
        for (field, changed) in [
            ("username", json!("someone.else")),
            ("userPk", json!(user_pk + 1)),
            ("userType", json!("APPLICATION")),
            ("cellPhoneVerified", json!(true)),
            ("groupName", json!("Globex")),
        ] {
            sent_back[field] = value.clone().unwrap_or(changed);
        }
        let (status, updated) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &sent_back).await;
        assert_eq!((status, &updated), (200, &body), "{sent_back}");
        assert_eq!(user_info(&app, "care", user_pk).await, body);
    }
    // Suspension has its own operation: a change to SUSPENDED here conflicts with the
    // user's status, named, and writes nothing.
    let mut suspended = body.clone();
    suspended["status"] = json!("SUSPENDED");
    let (status, error) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &suspended).await;
    assert_refused((status, &error), 409, "/status", "/suspension", "a change to SUSPENDED");
    let mut taken = body.clone();
    taken["email"] = app.get_as("acme.it.admin", "/v1/users/12").await.1["email"].clone();
    let (status, error) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &taken).await;
    assert_eq!(status, 409, "{error}");
    error_paths(&error);

    for (caller, expected) in [("globex.admin", 403), ("acme.user", 403), ("dkimops", 403)] {
        let (status, _) = app.put_as(caller, &format!("/v1/users/{user_pk}"), &before).await;
        assert_eq!(status, expected, "{caller}");
    }
    assert_eq!(user_info(&app, "care", user_pk).await, body, "refused updates wrote nothing");

    // An admin may disable and re-enable; a disabled user's token is refused.
    let mut disabled = body.clone();
    disabled["status"] = json!("DISABLED");
    assert_eq!(app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &disabled).await.0, 200);
    assert_eq!(app.get_as("to.edit", "/v1/user").await.0, 401);
    assert_eq!(app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &body).await.0, 200);
    assert_eq!(app.get_as("to.edit", "/v1/user").await.0, 200);

    // A suspended user is neither reactivated nor disabled here; its status sent unchanged is.
    assert_eq!(suspend(&app, "acme.it.admin", user_pk, true).await.0, 200);
    for status in ["ACTIVE", "DISABLED"] {
        let mut changed = body.clone();
        changed["status"] = json!(status);
        let (answer, error) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &changed).await;
        assert_eq!(
            (answer, error_paths(&error)),
            (409, vec!["/status".to_owned()]),
            "{status}: {error}"
        );
    }
    let (status, updated) = app.put_as("acme.it.admin", &format!("/v1/users/{user_pk}"), &suspended).await;
    assert_eq!((status, &updated["status"]), (200, &json!("SUSPENDED")), "{updated}");
    assert_eq!(user_info(&app, "care", user_pk).await["status"], "SUSPENDED");
}

async fn suspension_refuses_the_token_until_reactivation(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("to.suspend")).await;
    // A token issued before the suspension, used throughout.
    let token = app.token("to.suspend").await;
    let me = |path: &'static str| {
        let request = app.request(Method::GET, path).bearer_auth(&token);
        async move { read(request.send().await.unwrap()).await }
    };
    assert_eq!(me("/v1/user").await.0, 200);

    let before = Timestamp::now();
    let (status, result) = suspend(&app, "acme.it.admin", user_pk, true).await;
    let after = Timestamp::now();
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["result"], "OK");
    let (_, user) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(user["status"], "SUSPENDED");
    assert_eq!(
        (&user["suspensionInfo"]["suspended"], &user["suspensionInfo"]["byUserPk"]),
        (&json!(true), &json!(11))
    );
    let date: Timestamp = user["suspensionInfo"]["date"].as_str().unwrap().parse().unwrap();
    assert!(before <= date && date <= after, "{date} not within {before}..{after}");

    for path in ["/v1/user", "/v1/user/preferences", "/v1/customers"] {
        let (status, error) = me(path).await;
        assert_eq!(status, 401, "a suspended user's token on {path}");
        error_paths(&error);
        assert_eq!(app.get_as("to.suspend", path).await.0, 401, "and a token issued now");
    }
    let (status, page) = app.get_as("acme.admin", "/v1/customers/101/users?status=SUSPENDED").await;
    assert_eq!((status, column(&page, "userPk")), (200, vec![json!(user_pk)]));

    // Refused callers change nothing.
    for caller in ["acme.user", "globex.admin", "dkimops"] {
        let (status, body) = suspend(&app, caller, user_pk, false).await;
        assert_eq!(status, 403, "{caller}: {body}");
    }
    assert_eq!(me("/v1/user").await.0, 401);

    let (status, result) = suspend(&app, "acme.admin", user_pk, false).await;
    assert_eq!(status, 200, "{result}");
    let (status, reactivated) = me("/v1/user").await;
    assert_eq!(
        (status, &reactivated["status"]),
        (200, &json!("ACTIVE")),
        "the same token works again"
    );
    let (_, user) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(user["suspensionInfo"]["suspended"], false);
    assert_eq!(user["suspensionInfo"]["byUserPk"], 10, "who last reactivated");

    // A DISABLED user is neither suspended nor reactivated here.
    let mut disabled = user_info(&app, "acme.admin", user_pk).await;
    disabled["status"] = json!("DISABLED");
    assert_eq!(app.put_as("acme.admin", &format!("/v1/users/{user_pk}"), &disabled).await.0, 200);
    let (status, error) = suspend(&app, "acme.admin", user_pk, true).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(user_info(&app, "acme.admin", user_pk).await["status"], "DISABLED");

    for body in [json!({}), json!({"suspended": "yes"}), json!({"suspended": null})] {
        let (status, error) = app.put_as("acme.admin", "/v1/users/12/suspension", &body).await;
        assert_eq!(status, 400, "{body}: {error}");
        error_paths(&error);
    }
    assert_eq!(app.get_as("acme.user", "/v1/user").await.0, 200);
}

async fn nobody_suspends_itself(app: TestApp) {
    for (caller, user_pk) in [("acme.it.admin", 11), ("acme.admin", 10), ("care", 1)] {
        let (status, error) = suspend(&app, caller, user_pk, true).await;
        assert_eq!(status, 409, "{caller} suspending itself: {error}");
        error_paths(&error);
        let (status, me) = app.get_as(caller, "/v1/user").await;
        assert_eq!((status, &me["status"]), (200, &json!("ACTIVE")), "{caller}");
    }
}

async fn associations_need_admin_rights_on_the_user_and_every_customer(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("it.member")).await;
    let path = format!("/v1/users/{user_pk}/customers");

    for (caller, groups, expected) in [
        ("acme.it.admin", json!([102]), 403),
        ("acme.it.admin", json!([101, 102]), 403),
        ("acme.it.admin", json!([100]), 403),
        ("globex.admin", json!([200]), 403),
        ("acme.user", json!([101]), 403),
        ("acme.admin", json!([999_999]), 403),
        ("acme.admin", json!([102, 200]), 403),
        ("care", json!([999_999]), 404),
    ] {
        let (status, body) = app.post_as(caller, &path, &groups).await;
        assert_eq!(status, expected, "{caller} associating {groups}: {body}");
        error_paths(&body);
    }
    assert_eq!(customers_of(&app, "care", user_pk).await, [json!(101)], "refusals wrote nothing");
    assert!(listed(&app, "acme.admin", 102, "it.member").await.is_empty());

    for (groups, pointer) in [(json!([]), ""), (json!([0]), "/0"), (json!([102, 102]), "/1"), (json!(["102"]), "")] {
        let (status, error) = app.post_as("acme.admin", &path, &groups).await;
        assert_eq!(status, 400, "{groups}: {error}");
        if !pointer.is_empty() {
            assert_eq!(error_paths(&error), [pointer], "{groups}");
        }
    }

    let (status, result) = app.post_as("acme.admin", &path, &json!([102])).await;
    assert_eq!((status, &result["result"]), (200, &json!("OK")), "{result}");
    assert_eq!(customers_of(&app, "acme.admin", user_pk).await, [json!(102), json!(101)], "by name");
    assert_eq!(listed(&app, "acme.admin", 102, "it.member").await, [json!("it.member")]);
    // Associating again changes nothing.
    assert_eq!(app.post_as("acme.admin", &path, &json!([101, 102])).await.0, 200);
    assert_eq!(customers_of(&app, "care", user_pk).await.len(), 2);

    // Removing needs the same rights: acme.it.admin administers 101 only.
    for (caller, query, expected) in [
        ("acme.it.admin", "groupPk=102", 403),
        ("acme.it.admin", "groupPk=101&groupPk=102", 403),
        ("globex.admin", "groupPk=102", 403),
        ("acme.admin", "groupPk=999999", 403),
        ("care", "groupPk=999999", 404),
    ] {
        let (status, body) = app.delete_as(caller, &format!("{path}?{query}")).await;
        assert_eq!(status, expected, "{caller} removing {query}: {body}");
    }
    for query in ["", "?groupPk=abc", "?groupPk=0"] {
        let (status, error) = app.delete_as("acme.admin", &format!("{path}{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error_paths(&error), ["groupPk"]);
    }
    assert_eq!(customers_of(&app, "care", user_pk).await.len(), 2, "refusals wrote nothing");

    // The last association stays.
    let (status, error) = app.delete_as("acme.admin", &format!("{path}?groupPk=101&groupPk=102")).await;
    assert_eq!(status, 409, "{error}");
    error_paths(&error);
    assert_eq!(customers_of(&app, "care", user_pk).await.len(), 2);
    let (status, _) = app.delete_as("acme.admin", &format!("{path}?groupPk=101")).await;
    assert_eq!(status, 200);
    let (status, error) = app.delete_as("acme.admin", &format!("{path}?groupPk=102")).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(customers_of(&app, "acme.admin", user_pk).await, [json!(102)]);
}

async fn removing_an_association_hides_the_user_and_revokes_what_it_no_longer_reaches(app: TestApp) {
    let roles = app.get_as("acme.admin", "/v1/options/app-roles").await.1;
    let hub_role = strings(&roles["hub"]).remove(0);
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("moving.member")).await;
    let path = format!("/v1/users/{user_pk}/customers");
    assert_eq!(app.post_as("acme.admin", &path, &json!([102])).await.0, 200);
    let (status, on_italia) = grant_as(&app, "acme.admin", user_pk, &grant("hub", &["customers", "101"], &hub_role)).await;
    assert_eq!(status, 201, "{on_italia}");
    let (status, on_france) = grant_as(&app, "acme.admin", user_pk, &grant("hub", &["customers", "102"], &hub_role)).await;
    assert_eq!(status, 201, "{on_france}");
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=moving.member").await;
    let held_on_italia: Vec<Value> = ["accountcentral", "hub"]
        .iter()
        .flat_map(|application| capabilities[application]["capabilities"].as_array().unwrap().clone())
        .filter(|c| c["resource"] == json!(["customers", "101"]))
        .collect();
    assert_eq!(held_on_italia.len(), 2, "{capabilities}");
    let logged_before = log_of(&app, user_pk).await.len();

    let before = Timestamp::now();
    let (status, result) = app.delete_as("acme.admin", &format!("{path}?groupPk=101")).await;
    let after = Timestamp::now();
    assert_eq!(status, 200, "{result}");

    assert_eq!(customers_of(&app, "acme.admin", user_pk).await, [json!(102)]);
    assert!(
        listed(&app, "acme.admin", 101, "moving.member").await.is_empty(),
        "gone from 101's list"
    );
    assert_eq!(listed(&app, "acme.admin", 102, "moving.member").await, [json!("moving.member")]);
    assert_eq!(listed(&app, "acme.admin", 100, "moving.member").await, [json!("moving.member")]);
    let (status, _) = app.get_as("acme.it.admin", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(status, 403, "101's admin no longer administers the user");

    // What was held on 101 is revoked, by acme.admin, and logged; what is on 102 stays.
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=moving.member").await;
    let resources: Vec<Value> = capabilities
        .as_object()
        .unwrap()
        .values()
        .flat_map(|application| application["capabilities"].as_array().unwrap().clone())
        .map(|c| c["resource"].clone())
        .collect();
    assert_eq!(resources, [json!(["customers", "102"])], "{capabilities}");
    let log = log_of(&app, user_pk).await;
    assert_eq!(log.len(), logged_before + 2, "two revocations appended");
    for entry in &log[..2] {
        assert_eq!(
            (&entry["action"], &entry["resource"], &entry["byUserPk"]),
            (&json!("REVOKED"), &json!(["customers", "101"]), &json!(10))
        );
        let date: Timestamp = entry["date"].as_str().unwrap().parse().unwrap();
        assert!(before <= date && date <= after);
    }
    let revoked: Vec<&Value> = log[..2].iter().map(|e| &e["capabilityId"]).collect();
    assert!(revoked.contains(&&on_italia["id"]), "{log:?}");
    assert!(!revoked.contains(&&on_france["id"]));
    let (_, roles) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}/roles")).await;
    assert_eq!(roles, json!({"hub": [hub_role]}));

    // Still reaching 101 through its ancestor 100, a user keeps what it holds on 101, but
    // is no longer one of 101's users.
    let staying = app.create_user("acme.it.admin", 101, &new_user("staying.member")).await;
    let path = format!("/v1/users/{staying}/customers");
    assert_eq!(app.post_as("acme.admin", &path, &json!([100])).await.0, 200);
    let (_, roles_before) = app.get_as("acme.admin", &format!("/v1/users/{staying}/roles")).await;
    let logged_before = log_of(&app, staying).await;
    assert_eq!(app.delete_as("acme.admin", &format!("{path}?groupPk=101")).await.0, 200);
    assert_eq!(customers_of(&app, "acme.admin", staying).await, [json!(100)]);
    assert!(listed(&app, "acme.admin", 101, "staying.member").await.is_empty());
    assert_eq!(listed(&app, "acme.admin", 100, "staying.member").await, [json!("staying.member")]);
    assert_eq!(
        app.get_as("acme.admin", &format!("/v1/users/{staying}/roles")).await.1,
        roles_before
    );
    assert_eq!(log_of(&app, staying).await, logged_before, "nothing revoked");
}

async fn assigned_roles_are_what_get_user_roles_shows(app: TestApp) {
    let (_, roles) = app.get_as("acme.it.admin", "/v1/options/app-roles").await;
    let offered = |application: &str| strings(&roles[application]);
    let mut body = new_user("role.member");
    body["hub"] = json!(offered("hub")[0]);
    let user_pk = app.create_user("acme.it.admin", 101, &body).await;
    let path = format!("/v1/users/{user_pk}/roles");
    let (_, held) = app.get_as("acme.it.admin", &path).await;
    assert_eq!(held, json!({"accountcentral": ["USER"], "hub": [offered("hub")[0]]}));

    let (hub, flow, mc) = (offered("hub").pop().unwrap(), offered("flow")[1].clone(), offered("mc")[0].clone());
    let (status, answered) = app
        .put_as(
            "acme.it.admin",
            &path,
            &json!({"hub": hub, "flow": flow, "mc": mc, "send": "onlyStat"}),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    let expected = json!({"accountcentral": ["USER"], "hub": [hub], "flow": [flow], "mc": [mc], "send": ["VIEWER"]});
    assert_eq!(answered, expected);
    assert_eq!(app.get_as("acme.admin", &path).await.1, expected);

    // null removes, omitted keeps; a role as held changes nothing.
    let (status, answered) = app.put_as("acme.admin", &path, &json!({"hub": null, "flow": flow})).await;
    assert_eq!(status, 200, "{answered}");
    let expected = json!({"accountcentral": ["USER"], "flow": [flow], "mc": [mc], "send": ["VIEWER"]});
    assert_eq!(answered, expected);
    assert_eq!(app.get_as("care", &path).await.1, expected);
    let (status, answered) = app
        .put_as("care", &path, &json!({"send": offered("send")[0], "accountcentral": "ADMIN"}))
        .await;
    assert_eq!(status, 200, "{answered}");
    let expected = json!({"accountcentral": ["ADMIN"], "flow": [flow], "mc": [mc], "send": [offered("send")[0]]});
    assert_eq!(app.get_as("acme.it.admin", &path).await.1, expected);

    // Every role must be offered by getAppRoles; each bad property is named, nothing written.
    assert!(!offered("cplan").contains(&"SENDER".to_owned()));
    for (body, pointers) in [
        (json!({"cplan": "SENDER"}), vec!["/cplan"]),
        (json!({"hub": "NOT_A_ROLE", "flow": "NOT_A_ROLE", "mc": mc}), vec!["/flow", "/hub"]),
        (json!({"jira": "ADMIN"}), vec!["/jira"]),
        (json!({"accountcentral": "CUSTOMER_CARE"}), vec!["/accountcentral"]),
        (json!({"send": "always"}), vec!["/send"]),
        (json!({"hub": 3}), vec!["/hub"]),
    ] {
        let (status, error) = app.put_as("acme.it.admin", &path, &body).await;
        assert_eq!(status, 400, "{body}: {error}");
        let mut paths = error_paths(&error);
        paths.sort();
        assert_eq!(paths, pointers, "{body}");
    }
    assert_eq!(app.get_as("acme.it.admin", &path).await.1, expected, "nothing written");

    for (caller, status) in [("globex.admin", 403), ("acme.user", 403), ("dkimops", 403)] {
        assert_eq!(app.put_as(caller, &path, &json!({"hub": hub})).await.0, status, "{caller}");
        assert_eq!(app.get_as(caller, &path).await.0, status, "{caller}");
    }

    // Each change is in the log: the hub role granted by acme.it.admin, revoked by acme.admin.
    let log = log_of(&app, user_pk).await;
    let hub_entries: Vec<(String, String, Value)> = log
        .iter()
        .filter(|e| e["application"] == "hub" && e["role"] == json!(hub))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["role"].as_str().unwrap().to_owned(),
                e["byUserPk"].clone(),
            )
        })
        .collect();
    assert_eq!(
        hub_entries,
        [
            ("REVOKED".into(), hub.clone(), json!(10)),
            ("GRANTED".into(), hub.clone(), json!(11))
        ],
        "newest first"
    );
    assert!(
        log.iter()
            .any(|e| e["application"] == "accountcentral" && e["role"] == "USER" && e["action"] == "REVOKED" && e["byUserPk"] == 1),
        "care replaced accountcentral USER by ADMIN: {log:?}"
    );
}

async fn nobody_grants_or_revokes_more_than_it_holds(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("granted.member")).await;
    assert_eq!(
        app.post_as("acme.admin", &format!("/v1/users/{user_pk}/customers"), &json!([102]))
            .await
            .0,
        200
    );
    let mut granted: Vec<(i64, &str)> = Vec::new();

    // Stronger than, or outside, what the caller holds.
    for (caller, capability) in [
        ("acme.it.admin", grant("accountcentral", &["customers", "100"], "ADMIN")),
        ("acme.it.admin", grant("accountcentral", &["customers", "102"], "ADMIN")),
        ("acme.it.admin", grant("hub", &["customers", "102"], "EDITOR")),
        ("acme.it.admin", grant("accountcentral", &["platform"], "DKIM")),
        ("acme.admin", grant("accountcentral", &["platform"], "DKIM")),
        ("acme.admin", grant("accountcentral", &["platform"], "CUSTOMER_CARE")),
        ("acme.admin", grant("accountcentral", &["customers", "200"], "ADMIN")),
        ("globex.admin", grant("accountcentral", &["customers", "200"], "ADMIN")),
        ("acme.user", grant("accountcentral", &["customers", "101"], "USER")),
        ("dkimops", grant("accountcentral", &["platform"], "DKIM")),
    ] {
        let (status, body) = grant_as(&app, caller, user_pk, &capability).await;
        assert_eq!(status, 403, "{caller} granting {capability}: {body}");
        error_paths(&body);
    }

    // Within what the caller holds.
    for (caller, capability) in [
        ("acme.it.admin", grant("accountcentral", &["customers", "101"], "ADMIN")),
        ("acme.it.admin", grant("hub", &["customers", "101"], "EDITOR")),
        ("acme.admin", grant("accountcentral", &["customers", "102"], "ADMIN")),
        ("acme.admin", grant("flow", &["customers", "101", "workspaces", "7"], "VIEWER")),
        ("care", grant("accountcentral", &["platform"], "DKIM")),
    ] {
        let (status, body) = grant_as(&app, caller, user_pk, &capability).await;
        assert_eq!(status, 201, "{caller} granting {capability}: {body}");
        assert_eq!(body["result"], "OK");
        let id = body["id"].as_i64().unwrap_or_else(|| panic!("no id: {body}"));
        granted.push((id, caller));
        // Held already: a conflict, whoever asks.
        let (status, body) = grant_as(&app, "care", user_pk, &capability).await;
        assert_eq!(status, 409, "{capability} again: {body}");
        error_paths(&body);
    }
    let (status, body) = grant_as(&app, "care", user_pk, &grant("accountcentral", &["customers", "200"], "ADMIN")).await;
    let says = "is not associated with customer 200 or an ancestor";
    assert_refused((status, &body), 409, "/resource", says, "a grant on customer 200");
    for (capability, pointer) in [
        (grant("nope", &["customers", "101"], "ADMIN"), "/application"),
        (grant("accountcentral", &["customers", "101"], "GOD"), "/role"),
        (grant("hub", &["platform"], "ADMIN"), "/role"),
        (grant("accountcentral", &["galaxy"], "ADMIN"), "/resource"),
        (
            json!({"application": "hub", "version": 0, "resource": ["customers", "101"], "role": "EDITOR"}),
            "/version",
        ),
    ] {
        let (status, body) = grant_as(&app, "care", user_pk, &capability).await;
        assert_eq!(status, 400, "{capability}: {body}");
        assert_eq!(error_paths(&body), [pointer], "{capability}");
    }

    // Revoking follows the same rule.
    let [_, italia_hub, france_admin, flow_viewer, dkim] = [0, 1, 2, 3, 4].map(|i| granted[i].0);
    let revoke = |caller: &'static str, id: i64| {
        let app = &app;
        async move { app.delete_as(caller, &format!("/v1/users/{user_pk}/capabilities/{id}")).await }
    };
    for (caller, id) in [
        ("acme.it.admin", france_admin),
        ("acme.it.admin", dkim),
        ("acme.admin", dkim),
        ("globex.admin", italia_hub),
        ("acme.user", italia_hub),
    ] {
        let (status, body) = revoke(caller, id).await;
        assert_eq!(status, 403, "{caller} revoking {id}: {body}");
    }
    let mut revoked = Vec::new();
    for (caller, id) in [
        ("acme.it.admin", italia_hub),
        ("acme.it.admin", flow_viewer),
        ("care", dkim),
        ("acme.admin", france_admin),
    ] {
        let (status, body) = revoke(caller, id).await;
        assert_eq!(status, 200, "{caller} revoking {id}: {body}");
        revoked.push((id, caller));
        let (status, _) = revoke(caller, id).await;
        assert_eq!(status, 404, "revoked already");
    }
    let (status, _) = revoke("care", 999_999_999).await;
    assert_eq!(status, 404);
    let (status, error) = app.delete_as("care", &format!("/v1/users/{user_pk}/capabilities/abc")).await;
    assert_eq!(status, 400, "{error}");

    // The user's roles and the authorization server's view follow.
    let (_, roles) = app.get_as("care", &format!("/v1/users/{user_pk}/roles")).await;
    assert_eq!(roles, json!({"accountcentral": ["ADMIN", "USER"]}));
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=granted.member").await;
    let mut held: Vec<Value> = capabilities["accountcentral"]["capabilities"].as_array().unwrap().clone();
    held.sort_by_key(|c| c.to_string());
    assert_eq!(
        held,
        [
            json!({"resource": ["customers", "101"], "role": "ADMIN"}),
            json!({"resource": ["customers", "101"], "role": "USER"})
        ]
    );
    assert_eq!(capabilities.as_object().unwrap().len(), 1, "{capabilities}");

    // Every grant and revocation is logged with who made it.
    let by_pk = |caller: &str| match caller {
        "care" => 1,
        "acme.admin" => 10,
        "acme.it.admin" => 11,
        other => panic!("{other}"),
    };
    let log = log_of(&app, user_pk).await;
    for (action, changes) in [("GRANTED", &granted), ("REVOKED", &revoked)] {
        for (id, caller) in changes {
            let entries: Vec<&Value> = log.iter().filter(|e| e["capabilityId"] == *id && e["action"] == action).collect();
            assert_eq!(entries.len(), 1, "{action} {id}: {log:?}");
            assert_eq!(entries[0]["byUserPk"], by_pk(caller), "{action} {id}");
        }
    }
    assert_eq!(
        log.len(),
        1 + granted.len() + revoked.len(),
        "the creation's grant, then these: {log:?}"
    );
}

async fn the_capability_log_is_append_only_and_paged_newest_first(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("logged.member")).await;
    let mut ids = Vec::new();
    for workspace in 0..12 {
        let capability = grant("hub", &["customers", "101", "workspaces", &workspace.to_string()], "VIEWER");
        let (status, body) = grant_as(&app, "acme.it.admin", user_pk, &capability).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let revoked = [ids[2], ids[5], ids[6], ids[9], ids[11]];
    for id in revoked {
        let (status, body) = app.delete_as("acme.admin", &format!("/v1/users/{user_pk}/capabilities/{id}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let total = 1 + ids.len() + revoked.len();

    let path = format!("/v1/users/{user_pk}/capabilities/log");
    let mut entries = Vec::new();
    for number in 0..4 {
        let (status, page) = app.get_as("acme.admin", &format!("{path}?size=5&page={number}")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page["page"],
            json!({"size": 5, "number": number, "totalElements": total, "totalPages": total.div_ceil(5)})
        );
        entries.extend(page["elements"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(entries.len(), total);
    let (_, past) = app.get_as("acme.admin", &format!("{path}?size=5&page=4")).await;
    assert_eq!(
        (past["elements"].as_array().unwrap().len(), &past["page"]["totalElements"]),
        (0, &json!(total))
    );

    let dates: Vec<Timestamp> = entries.iter().map(|e| e["date"].as_str().unwrap().parse().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
    for (index, id) in ids.iter().enumerate() {
        let position = |action: &str| entries.iter().position(|e| e["capabilityId"] == *id && e["action"] == action);
        let granted = position("GRANTED").unwrap_or_else(|| panic!("grant of {id} kept"));
        assert_eq!(
            entries[granted],
            json!({"capabilityId": id, "action": "GRANTED", "application": "hub", "version": 1,
                   "resource": ["customers", "101", "workspaces", index.to_string()], "role": "VIEWER",
                   "date": entries[granted]["date"], "byUserPk": 11})
        );
        match position("REVOKED") {
            Some(revocation) => {
                assert!(revoked.contains(id));
                assert!(revocation < granted, "the revocation of {id} is newer than its grant");
                assert_eq!(entries[revocation]["byUserPk"], 10);
                assert_eq!(entries[revocation]["resource"], entries[granted]["resource"]);
            }
            None => assert!(!revoked.contains(id), "revocation of {id} logged"),
        }
    }
    assert_eq!(
        (
            &entries[total - 1]["application"],
            &entries[total - 1]["role"],
            &entries[total - 1]["action"]
        ),
        (&json!("accountcentral"), &json!("USER"), &json!("GRANTED")),
        "the oldest: the creation's grant"
    );

    // Granting the same capability again after its revocation appends; nothing is rewritten.
    let again = grant("hub", &["customers", "101", "workspaces", "2"], "VIEWER");
    let (status, body) = grant_as(&app, "acme.it.admin", user_pk, &again).await;
    assert_eq!(status, 201, "{body}");
    let (_, page) = app.get_as("acme.admin", &format!("{path}?size=100")).await;
    assert_eq!(page["page"]["totalElements"], total + 1);
    assert_eq!(page["elements"][0]["capabilityId"], body["id"]);
    assert_eq!(page["elements"].as_array().unwrap()[1..], entries[..]);

    for (caller, expected) in [("acme.user", 403), ("globex.admin", 403), ("dkimops", 403), ("care", 200)] {
        assert_eq!(app.get_as(caller, &path).await.0, expected, "{caller}");
    }
    assert_eq!(app.get_as("care", "/v1/users/999999/capabilities/log").await.0, 404);
    for query in ["size=0", "size=101", "page=-1"] {
        let (status, error) = app.get_as("acme.admin", &format!("{path}?{query}")).await;
        assert_eq!(status, 400, "{query}");
        error_paths(&error);
    }
}

async fn the_authorization_server_reads_capabilities_through_the_service_user(app: TestApp) {
    let (status, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=acme.it.admin").await;
    assert_eq!(status, 200, "{capabilities}");
    assert_eq!(
        capabilities,
        json!({"accountcentral": {"version": 1, "capabilities": [{"resource": ["customers", "101"], "role": "ADMIN"}]}})
    );
    let (_, care) = app.get_as("mta", "/v1/internal/capabilities?username=care").await;
    assert_eq!(
        care["accountcentral"]["capabilities"],
        json!([{"resource": ["platform"], "role": "CUSTOMER_CARE"}])
    );

    for caller in ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user", "globex.admin"] {
        let (status, body) = app.get_as(caller, "/v1/internal/capabilities?username=acme.user").await;
        assert_eq!(status, 403, "{caller}: {body}");
        error_paths(&body);
    }
    let anonymous = app
        .request(Method::GET, "/v1/internal/capabilities?username=acme.user")
        .send()
        .await
        .unwrap();
    assert_eq!(read(anonymous).await.0, 401);
    // SERVICE alone is not enough: the caller must be an APPLICATION user.
    let (status, granted) = grant_as(&app, "care", 12, &grant("accountcentral", &["platform"], "SERVICE")).await;
    assert_eq!(status, 201, "{granted}");
    let (status, _) = app.get_as("acme.user", "/v1/internal/capabilities?username=acme.user").await;
    assert_eq!(status, 403, "an INTERACTIVE user holding SERVICE");
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=acme.user").await;
    assert!(
        capabilities["accountcentral"]["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!({"resource": ["platform"], "role": "SERVICE"})),
        "{capabilities}"
    );
    assert_eq!(
        app.delete_as("care", &format!("/v1/users/12/capabilities/{}", granted["id"]))
            .await
            .0,
        200
    );
    let (status, error) = app.get_as("mta", "/v1/internal/capabilities?username=nobody.here").await;
    assert_eq!(status, 404, "{error}");
    error_paths(&error);
    for query in ["", "?username="] {
        let (status, error) = app.get_as("mta", &format!("/v1/internal/capabilities{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error_paths(&error), ["username"]);
    }

    // Grants and revocations made through the API show at once.
    let (status, granted) = grant_as(&app, "acme.it.admin", 12, &grant("hub", &["customers", "101"], "EDITOR")).await;
    assert_eq!(status, 201, "{granted}");
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=acme.user").await;
    assert_eq!(
        capabilities["hub"],
        json!({"version": 1, "capabilities": [{"resource": ["customers", "101"], "role": "EDITOR"}]})
    );
    assert_eq!(
        capabilities["accountcentral"]["capabilities"],
        json!([{"resource": ["customers", "101"], "role": "USER"}])
    );
    let (status, _) = app
        .delete_as("acme.it.admin", &format!("/v1/users/12/capabilities/{}", granted["id"]))
        .await;
    assert_eq!(status, 200);
    let (status, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=acme.user").await;
    assert_eq!(status, 200, "{capabilities}");
    assert!(capabilities.get("hub").is_none(), "{capabilities}");

    let user_pk = app.create_user("acme.admin", 102, &new_user("fresh.member")).await;
    let (_, roles) = app
        .put_as("acme.admin", &format!("/v1/users/{user_pk}/roles"), &json!({"send": "default"}))
        .await;
    assert_eq!(roles["send"], json!(["SENDER"]));
    let (_, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=fresh.member").await;
    assert_eq!(
        capabilities["send"]["capabilities"],
        json!([{"resource": ["customers", "102"], "role": "SENDER"}])
    );
}

async fn an_admin_manages_a_members_preferences_as_the_member_would(app: TestApp) {
    let (status, theirs) = app.get_as("acme.it.admin", "/v1/users/12/preferences").await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs, app.get_as("acme.user", "/v1/user/preferences").await.1);

    let (_, options) = read(app.request(Method::GET, "/v1/options/user-preferences").send().await.unwrap()).await;
    let last = |list: &Value| list.as_array().unwrap().last().unwrap().clone();
    let wanted = json!({
        "timezone": "Asia/Tokyo",
        "language": last(&options["languages"])["code"],
        "weekBegin": last(&options["weekBegin"]),
        "numberFormat": {"pattern": last(&options["numberFormat"]["patterns"])},
        "dateFormat": {"pattern": last(&options["dateFormat"]["patterns"])},
        "hourFormat": {"pattern": last(&options["hourFormat"]["patterns"])},
    });
    assert!(strings(&options["timezones"]).contains(&"Asia/Tokyo".to_owned()));
    assert_ne!(wanted, theirs, "a real change");
    let (status, stored) = app.put_as("acme.it.admin", "/v1/users/12/preferences", &wanted).await;
    assert_eq!((status, &stored), (200, &wanted));
    assert_eq!(
        app.get_as("acme.user", "/v1/user/preferences").await.1,
        wanted,
        "the member sees it"
    );
    assert_eq!(app.get_as("care", "/v1/users/12/preferences").await.1, wanted);

    // Validated as updateMyPreferences validates: the same fields named for the same body.
    for bad in [
        json!({"timezone": "Mars/Olympus", "language": "xx", "weekBegin": "FRIDAY", "numberFormat": {"pattern": "?"}, "dateFormat": {}}),
        json!({}),
        json!({"timezone": 3, "language": "en", "weekBegin": "MONDAY", "numberFormat": {"pattern": "#,##0.00"},
               "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm"}}),
    ] {
        let (status, error) = app.put_as("acme.it.admin", "/v1/users/12/preferences", &bad).await;
        assert_eq!(status, 400, "{bad}: {error}");
        let mut by_admin = error_paths(&error);
        by_admin.sort();
        let (status, error) = app.put_as("acme.user", "/v1/user/preferences", &bad).await;
        assert_eq!(status, 400, "{bad}");
        let mut by_member = error_paths(&error);
        by_member.sort();
        assert!(!by_admin.is_empty());
        assert_eq!(by_admin, by_member, "{bad}");
    }
    assert_eq!(app.get_as("acme.user", "/v1/user/preferences").await.1, wanted, "nothing written");

    for (caller, user_pk, expected) in [
        ("globex.admin", 12, 403),
        ("acme.user", 11, 403),
        ("acme.it.admin", 10, 403),
        ("dkimops", 12, 403),
        ("acme.admin", 999_999, 403),
        ("care", 999_999, 404),
    ] {
        let path = format!("/v1/users/{user_pk}/preferences");
        let (status, body) = app.get_as(caller, &path).await;
        assert_eq!(status, expected, "{caller} reading {path}: {body}");
        let (status, body) = app.put_as(caller, &path, &wanted).await;
        assert_eq!(status, expected, "{caller} writing {path}: {body}");
    }
    assert_ne!(
        app.get_as("acme.admin", "/v1/users/10/preferences").await.1,
        wanted,
        "refused writes wrote nothing"
    );
}

/// A user created in Acme (100) and also associated with Globex (200), holding a hub
/// role in each, granted by care: the capability ids, Acme's first.
async fn user_of_two_tenants(app: &TestApp, username: &str) -> (i64, [i64; 2]) {
    let user_pk = app.create_user("care", 100, &new_user(username)).await;
    let (status, answer) = app.post_as("care", &format!("/v1/users/{user_pk}/customers"), &json!([200])).await;
    assert_eq!(status, 200, "{answer}");
    let mut ids = [0; 2];
    for (id, (group, role)) in ids.iter_mut().zip([("100", "EDITOR"), ("200", "VIEWER")]) {
        let hub = json!({"application": "hub", "version": 1, "resource": ["customers", group], "role": role});
        let (status, granted) = grant_as(app, "care", user_pk, &hub).await;
        assert_eq!(status, 201, "{granted}");
        *id = granted["id"].as_i64().unwrap();
    }
    (user_pk, ids)
}

async fn a_user_two_tenants_rely_on_is_read_by_each_and_changed_by_care_only(app: TestApp) {
    let (user_pk, _) = user_of_two_tenants(&app, "shared.member").await;
    let path = format!("/v1/users/{user_pk}");
    let before = user_info(&app, "care", user_pk).await;
    for admin in ["acme.admin", "globex.admin"] {
        assert_eq!(app.get_as(admin, &path).await.0, 200, "{admin} reads the user");
        let mut renamed = before.clone();
        renamed["name"] = json!(format!("Renamed by {admin}"));
        assert_eq!(app.put_as(admin, &path, &renamed).await.0, 403, "{admin} does not change it");
        assert_eq!(suspend(&app, admin, user_pk, true).await.0, 403, "{admin} does not suspend it");
        let preferences = json!({"timezone": "UTC", "language": "it", "weekBegin": "MONDAY", "numberFormat": {"pattern": "#,##0.00"},
                                 "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm"}});
        let (status, _) = app.put_as(admin, &format!("{path}/preferences"), &preferences).await;
        assert_eq!(status, 403, "{admin} does not change its preferences");
    }
    assert_eq!(user_info(&app, "care", user_pk).await, before, "nothing was written");
    assert_eq!(suspend(&app, "care", user_pk, true).await.0, 200, "care does");
    assert_eq!(app.get_as("care", &path).await.1["status"], "SUSPENDED");

    // A user of a sub-customer and of its ancestor: the ancestor's admin changes it, the sub-customer's does not.
    let nested = app.create_user("care", 101, &new_user("nested.member")).await;
    let (status, _) = app.post_as("care", &format!("/v1/users/{nested}/customers"), &json!([100])).await;
    assert_eq!(status, 200);
    assert_eq!(suspend(&app, "acme.it.admin", nested, true).await.0, 403);
    assert_eq!(suspend(&app, "acme.admin", nested, true).await.0, 200);
}

async fn an_admin_sees_a_shared_users_roles_and_log_only_where_it_reaches(app: TestApp) {
    let (user_pk, [acme_id, globex_id]) = user_of_two_tenants(&app, "seen.in.part").await;
    let roles = |caller: &'static str| {
        let app = &app;
        async move {
            let (status, roles) = app.get_as(caller, &format!("/v1/users/{user_pk}/roles")).await;
            assert_eq!(status, 200, "{caller}: {roles}");
            roles
        }
    };
    assert_eq!(roles("care").await["hub"], json!(["EDITOR", "VIEWER"]));
    assert_eq!(roles("acme.admin").await["hub"], json!(["EDITOR"]));
    assert_eq!(roles("globex.admin").await["hub"], json!(["VIEWER"]));

    let logged = |caller: &'static str| {
        let app = &app;
        async move {
            let (status, page) = app.get_as(caller, &format!("/v1/users/{user_pk}/capabilities/log?size=100")).await;
            assert_eq!(status, 200, "{caller}: {page}");
            let ids: Vec<i64> = column(&page, "capabilityId").iter().map(|id| id.as_i64().unwrap()).collect();
            (ids, page["page"]["totalElements"].clone())
        }
    };
    let (all, total) = logged("care").await;
    assert!(all.contains(&acme_id) && all.contains(&globex_id), "{all:?}");
    assert_eq!(total, json!(all.len()));
    let (acme, acme_total) = logged("acme.admin").await;
    assert!(acme.contains(&acme_id) && !acme.contains(&globex_id), "{acme:?}");
    assert_eq!(acme_total, json!(acme.len()), "the page counts what the caller sees");
    let (globex, _) = logged("globex.admin").await;
    assert!(globex.contains(&globex_id) && !globex.contains(&acme_id), "{globex:?}");

    // The customer the user was created in (Acme) is named to Acme's admin only.
    let (status, as_globex) = app.get_as("globex.admin", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(status, 200, "{as_globex}");
    assert_eq!(as_globex["groupName"], Value::Null);
    let (_, as_acme) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(as_acme["groupName"], "Acme Group");
}

async fn service_on_a_customer_is_for_application_users_and_granted_by_care(app: TestApp) {
    let service_on_100 = json!({"application": "accountcentral", "version": 1, "resource": ["customers", "100"], "role": "SERVICE"});
    let person = app.create_user("care", 100, &new_user("not.a.machine")).await;
    let (status, error) = grant_as(&app, "care", person, &service_on_100).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error_paths(&error), ["/role"]);

    let machine = accountcentral_e2e::application_user(&app, "acme.sender", "Sender", 100, None).await;
    let (status, _) = grant_as(&app, "acme.admin", machine, &service_on_100).await;
    assert_eq!(status, 403, "an admin of the customer does not hand out SERVICE");
    let (status, granted) = grant_as(&app, "care", machine, &service_on_100).await;
    assert_eq!(status, 201, "{granted}");

    let message = json!({"message": "From: news@acme.test\r\nTo: x@example.test\r\nSubject: Hi\r\n\r\nHello\r\n", "data": {}});
    let (status, signed) = app.post_as("acme.sender", "/v1/customers/100/sign", &message).await;
    assert_eq!(status, 200, "signs for the customer: {signed}");
    assert_eq!(signed["dkim"]["domain"], "acme.test");
    let (status, signed) = app.post_as("acme.sender", "/v1/customers/101/sign", &message).await;
    assert_eq!(status, 200, "and for its subtree: {signed}");
    assert_eq!(app.post_as("acme.sender", "/v1/customers/200/sign", &message).await.0, 403);
    assert_eq!(
        app.post_as("acme.sender", "/v1/customers/999/sign", &message).await.0,
        403,
        "missing is no news"
    );
    let (status, key) = app.get_as("acme.sender", "/v1/customers/100/signing-dkim?domain=acme.test").await;
    assert_eq!((status, &key["privateKey"]), (200, &Value::Null), "{key}");
    assert_eq!(app.get_as("acme.sender", "/v1/customers/200/signing-dkim").await.0, 403);
}
