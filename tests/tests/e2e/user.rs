//! The user group: the caller's own info, preferences and role.

use accountcentral_e2e::{TestApp, error_paths, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    every_demo_user_reads_itself,
    updating_personal_info_ignores_what_the_caller_cannot_change,
    bad_personal_info_is_refused_field_by_field_and_nothing_is_written,
    an_email_in_use_is_a_conflict,
    preferences_round_trip_and_are_validated_against_the_options,
    the_role_on_a_customer_follows_the_tree,
);

const DEMO_USERS: [(&str, i64, &str); 7] = [
    ("care", 1, "Platform"),
    ("dkimops", 2, "Platform"),
    ("acme.admin", 10, "Acme Group"),
    ("acme.it.admin", 11, "Acme Italia"),
    ("acme.user", 12, "Acme Italia"),
    ("globex.admin", 20, "Globex"),
    ("mta", 30, "Platform"),
];

async fn every_demo_user_reads_itself(app: TestApp) {
    for (username, user_pk, group) in DEMO_USERS {
        let (status, me) = app.get_as(username, "/v1/user").await;
        assert_eq!(status, 200, "{username}");
        assert_eq!(me["userPk"], user_pk);
        assert_eq!(me["username"], username);
        assert_eq!(me["groupName"], group);
        assert_eq!(me["status"], "ACTIVE");
    }
    let (_, mta) = app.get_as("mta", "/v1/user").await;
    assert_eq!(mta["userType"], "APPLICATION");
}

fn edited(me: &Value) -> Value {
    let mut body = me.clone();
    body["name"] = json!("Ada");
    body["surname"] = json!("Lovelace");
    body["phone"] = json!("+39 02 1234567");
    body["cellPhone"] = json!("+393409999999");
    body["dateOfBirth"] = json!("1990-12-10");
    body["sex"] = json!("F");
    body
}

async fn updating_personal_info_ignores_what_the_caller_cannot_change(app: TestApp) {
    let (_, me) = app.get_as("acme.user", "/v1/user").await;
    let (status, updated) = app.put_as("acme.user", "/v1/user", &edited(&me)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Ada");
    assert_eq!(updated["dateOfBirth"], "1990-12-10");
    assert_eq!(updated["cellPhoneVerified"], false, "a new cell phone must be verified again");
    let (_, reread) = app.get_as("acme.user", "/v1/user").await;
    assert_eq!(reread, updated);

    // What was read goes back (GET-modify-PUT) with its read-only fields, changed, null or
    // not, and with a status: the request schema lists none of them, so they are ignored
    // and stay as they are.
    for value in [Some(json!(77)), Some(json!(null)), None] {
        let mut sent_back = reread.clone();
        for (field, changed) in [
            ("username", json!("someone.else")),
            ("status", json!("DISABLED")),
            ("userType", json!("APPLICATION")),
            ("cellPhoneVerified", json!(true)),
            ("userPk", json!(99)),
            ("groupName", json!("Globex")),
        ] {
            sent_back[field] = value.clone().unwrap_or(changed);
        }
        let (status, answer) = app.put_as("acme.user", "/v1/user", &sent_back).await;
        assert_eq!((status, &answer), (200, &reread), "{sent_back}");
    }
    // The caller's own status is not its to set: a different one, or none, changes nothing.
    for status in [Some("SUSPENDED"), Some("DISABLED"), None] {
        let mut body = reread.clone();
        match status {
            Some(status) => body["status"] = json!(status),
            None => {
                body.as_object_mut().expect("a user is an object").remove("status");
            }
        }
        let (answer, updated) = app.put_as("acme.user", "/v1/user", &body).await;
        assert_eq!((answer, &updated["status"]), (200, &json!("ACTIVE")), "{status:?}: {updated}");
    }
    assert_eq!(
        app.get_as("acme.user", "/v1/user").await,
        (200, reread.clone()),
        "still ACTIVE and the same"
    );

    // A full replacement carries every field its schema lists (null clears a nullable
    // one): each left out is named.
    for field in ["name", "surname", "email", "phone", "cellPhone", "dateOfBirth", "sex"] {
        let mut body = reread.clone();
        body.as_object_mut().expect("a user is an object").remove(field);
        let (status, error) = app.put_as("acme.user", "/v1/user", &body).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(error_paths(&error), [format!("/{field}")]);
    }
    let (_, unchanged) = app.get_as("acme.user", "/v1/user").await;
    assert_eq!(unchanged, reread, "a refused replacement writes nothing");
}

async fn bad_personal_info_is_refused_field_by_field_and_nothing_is_written(app: TestApp) {
    let (_, before) = app.get_as("globex.admin", "/v1/user").await;
    let mut body = edited(&before);
    body["email"] = json!("not-an-address");
    body["cellPhone"] = json!("3401234567");
    body["sex"] = json!("X");
    body["name"] = json!("");
    let (status, error) = app.put_as("globex.admin", "/v1/user", &body).await;
    assert_eq!(status, 400);
    let mut paths = error_paths(&error);
    paths.sort();
    assert_eq!(paths, ["/cellPhone", "/email", "/name", "/sex"]);

    let (status, error) = app.put_as("globex.admin", "/v1/user", &json!({"name": 5})).await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&error), ["/name"]);

    let malformed = app
        .as_user("globex.admin", Method::PUT, "/v1/user")
        .await
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    let (status, error) = read(malformed).await;
    assert_eq!(status, 400);
    assert!(error["errors"][0]["message"].as_str().unwrap().contains("malformed JSON"));

    let not_json = app
        .as_user("globex.admin", Method::PUT, "/v1/user")
        .await
        .header("content-type", "text/plain")
        .body("name=Ada")
        .send()
        .await
        .unwrap();
    let (status, error) = read(not_json).await;
    assert_eq!(status, 415);
    error_paths(&error);

    let (_, after) = app.get_as("globex.admin", "/v1/user").await;
    assert_eq!(after, before, "a refused update writes nothing");
}

async fn an_email_in_use_is_a_conflict(app: TestApp) {
    let (_, admin) = app.get_as("acme.admin", "/v1/user").await;
    let (_, me) = app.get_as("acme.user", "/v1/user").await;
    let mut body = me.clone();
    body["email"] = json!(admin["email"].as_str().unwrap().to_uppercase());
    let (status, error) = app.put_as("acme.user", "/v1/user", &body).await;
    assert_eq!(status, 409, "{error}");
    error_paths(&error);

    // A free address moves, and the old one is free again for others.
    body["email"] = json!("new.address@acme.test");
    assert_eq!(app.put_as("acme.user", "/v1/user", &body).await.0, 200);
    let mut other = admin.clone();
    other["email"] = me["email"].clone();
    assert_eq!(app.put_as("acme.admin", "/v1/user", &other).await.0, 200);
}

async fn preferences_round_trip_and_are_validated_against_the_options(app: TestApp) {
    let (status, seeded) = app.get_as("globex.admin", "/v1/user/preferences").await;
    assert_eq!(status, 200);
    assert_eq!(seeded["timezone"], "America/New_York");

    let wanted = json!({
        "timezone": "Asia/Tokyo", "language": "de", "weekBegin": "SUNDAY",
        "numberFormat": {"pattern": "#'##0.00"}, "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm:ss"}
    });
    let (status, stored) = app.put_as("globex.admin", "/v1/user/preferences", &wanted).await;
    assert_eq!(status, 200);
    assert_eq!(stored, wanted);
    assert_eq!(app.get_as("globex.admin", "/v1/user/preferences").await.1, wanted);
    let (_, service_view) = app.get_as("globex.admin", "/v1/service/user").await;
    assert_eq!(
        (service_view["lang"].as_str(), service_view["timezone"].as_str()),
        (Some("de"), Some("Asia/Tokyo"))
    );

    let bad =
        json!({"timezone": "Mars/Olympus", "language": "xx", "weekBegin": "FRIDAY", "numberFormat": {"pattern": "?"}, "dateFormat": {}});
    let (status, error) = app.put_as("globex.admin", "/v1/user/preferences", &bad).await;
    assert_eq!(status, 400);
    let mut paths = error_paths(&error);
    paths.sort();
    assert_eq!(
        paths,
        [
            "/dateFormat/pattern",
            "/hourFormat",
            "/language",
            "/numberFormat/pattern",
            "/timezone",
            "/weekBegin"
        ]
    );
    assert_eq!(
        app.get_as("globex.admin", "/v1/user/preferences").await.1,
        wanted,
        "nothing written"
    );
}

async fn the_role_on_a_customer_follows_the_tree(app: TestApp) {
    let cases = [
        ("care", 200, Some("CUSTOMER_CARE")),
        ("dkimops", 101, Some("DKIM")),
        ("acme.admin", 100, Some("ADMIN")),
        ("acme.admin", 102, Some("ADMIN")),
        ("acme.it.admin", 101, Some("ADMIN")),
        ("acme.it.admin", 100, None),
        ("acme.it.admin", 102, None),
        ("acme.user", 101, Some("USER")),
        ("acme.user", 100, None),
        ("globex.admin", 101, None),
        ("globex.admin", 200, Some("ADMIN")),
        ("acme.admin", 999, None),
    ];
    for (user, group, role) in cases {
        let (status, body) = app.get_as(user, &format!("/v1/user/role?groupPk={group}")).await;
        match role {
            Some(role) => assert_eq!((status, body["role"].as_str()), (200, Some(role)), "{user} on {group}"),
            None => assert_eq!(status, 403, "{user} on {group}: {body}"),
        }
    }
    for (query, path) in [("", "groupPk"), ("?groupPk=abc", "groupPk")] {
        let (status, body) = app.get_as("acme.user", &format!("/v1/user/role{query}")).await;
        assert_eq!(status, 400);
        assert_eq!(error_paths(&body), [path]);
    }
}
