//! The customers themselves: the lists of reachable customers and of parents,
//! reading a customer, replacing its information and setting its status.

use accountcentral_e2e::{TestApp, assert_refused, error_paths, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::GroupPk;
use shared::repositories::RepositoryError;
use shared::repositories::customers::Customers;

on_both_backends!(
    each_demo_user_lists_the_customers_it_reaches,
    customer_lists_are_paged_and_filtered_by_name,
    excluding_a_users_customers_needs_the_caller_or_its_admin,
    parents_are_the_chain_of_ancestors_nearest_first,
    a_customer_out_of_reach_is_403_whether_or_not_it_exists,
    an_admin_replaces_the_information_but_not_what_only_care_may_change,
    bad_information_is_refused_field_by_field_and_nothing_is_written,
    racing_updates_lose_nothing,
    a_gid_in_use_is_a_conflict,
    only_care_sets_the_status,
);

/// The demo customers, by name (the order of the lists).
const ALL: [i64; 5] = [102, 100, 101, 200, 1];

fn group_pks(page: &Value) -> Vec<i64> {
    page["elements"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|c| c["groupPk"].as_i64().unwrap())
        .collect()
}

async fn list(app: &TestApp, user: &str, path: &str) -> Vec<i64> {
    let (status, page) = app.get_as(user, path).await;
    assert_eq!(status, 200, "{user} {path}: {page}");
    group_pks(&page)
}

async fn patch_as(app: &TestApp, user: &str, path: &str, body: &Value) -> (u16, Value) {
    read(app.as_user(user, Method::PATCH, path).await.json(body).send().await.unwrap()).await
}

async fn each_demo_user_lists_the_customers_it_reaches(app: TestApp) {
    let cases: [(&str, &[i64]); 7] = [
        ("care", &ALL),
        ("dkimops", &ALL),
        ("acme.admin", &[102, 100, 101]),
        ("acme.it.admin", &[101]),
        ("acme.user", &[101]),
        ("globex.admin", &[200]),
        ("mta", &[1]),
    ];
    for (user, expected) in cases {
        assert_eq!(list(&app, user, "/v1/customers").await, expected, "{user}");
    }
    let (_, page) = app.get_as("acme.user", "/v1/customers").await;
    assert_eq!(
        page,
        json!({"page": {"size": 20, "number": 0, "totalElements": 1, "totalPages": 1},
               "elements": [{"groupPk": 101, "groupName": "Acme Italia", "status": "ACTIVE", "chatEnabled": false}]})
    );
}

async fn customer_lists_are_paged_and_filtered_by_name(app: TestApp) {
    let (status, first) = app.get_as("care", "/v1/customers?size=2").await;
    assert_eq!(status, 200);
    assert_eq!(first["page"], json!({"size": 2, "number": 0, "totalElements": 5, "totalPages": 3}));
    assert_eq!(group_pks(&first), [102, 100]);
    assert_eq!(list(&app, "care", "/v1/customers?size=2&page=2").await, [1]);
    let (_, past) = app.get_as("care", "/v1/customers?size=2&page=7").await;
    assert_eq!((group_pks(&past), &past["page"]["totalElements"]), (vec![], &json!(5)));

    assert_eq!(list(&app, "care", "/v1/customers?name=ACME").await, [102, 100, 101]);
    assert_eq!(list(&app, "care", "/v1/customers?name=me%20it").await, [101]);
    assert_eq!(list(&app, "globex.admin", "/v1/customers?name=acme").await, Vec::<i64>::new());
    let (_, filtered) = app.get_as("dkimops", "/v1/customers?name=acme&size=1&page=1").await;
    assert_eq!(filtered["page"]["totalElements"], 3, "totals count the filtered customers");
    assert_eq!(group_pks(&filtered), [100]);

    for (query, parameter) in [("name=", "name"), ("size=0", "size"), ("size=101", "size"), ("page=-1", "page")] {
        let (status, error) = app.get_as("acme.admin", &format!("/v1/customers?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error_paths(&error), [parameter]);
    }
}

async fn excluding_a_users_customers_needs_the_caller_or_its_admin(app: TestApp) {
    // acme.admin (10) is associated with 100; acme.user (12) with 101.
    assert_eq!(list(&app, "acme.admin", "/v1/customers?excludeUserPk=10").await, [102, 101]);
    assert_eq!(list(&app, "acme.admin", "/v1/customers?excludeUserPk=12").await, [102, 100]);
    assert_eq!(list(&app, "acme.user", "/v1/customers?excludeUserPk=12").await, Vec::<i64>::new());
    assert_eq!(list(&app, "care", "/v1/customers?excludeUserPk=20").await, [102, 100, 101, 1]);
    assert_eq!(list(&app, "care", "/v1/customers?excludeUserPk=1&name=o").await, [100, 200]);

    // Someone else's associations, out of the caller's administration: 403 whether or not the user exists.
    for (user, excluded) in [("acme.admin", 20), ("acme.user", 11), ("dkimops", 10), ("globex.admin", 999_999)] {
        let (status, body) = app.get_as(user, &format!("/v1/customers?excludeUserPk={excluded}")).await;
        assert_eq!(status, 403, "{user} excluding {excluded}: {body}");
        error_paths(&body);
        let (status, _) = app.get_as(user, &format!("/v1/customers/1/parents?excludeUserPk={excluded}")).await;
        assert_eq!(status, 403, "{user} excluding {excluded} from parents");
    }
    // A user that does not exist (only care can tell) is associated with nothing: nothing is left out.
    for path in ["/v1/customers", "/v1/customers/101/parents"] {
        let everything = list(&app, "care", path).await;
        assert!(!everything.is_empty(), "{path}");
        assert_eq!(
            list(&app, "care", &format!("{path}?excludeUserPk=999999")).await,
            everything,
            "{path}"
        );
    }
    for (user, query) in [
        ("acme.admin", "excludeUserPk=0"),
        ("acme.admin", "excludeUserPk=ten"),
        ("acme.admin", "excludeUserPk=10&excludeUserPk=12"),
    ] {
        let (status, error) = app.get_as(user, &format!("/v1/customers?{query}")).await;
        assert_eq!(status, 400, "{user} {query}");
        assert_eq!(error_paths(&error), ["excludeUserPk"]);
    }
}

async fn parents_are_the_chain_of_ancestors_nearest_first(app: TestApp) {
    assert_eq!(list(&app, "acme.user", "/v1/customers/101/parents").await, [100]);
    assert_eq!(list(&app, "acme.admin", "/v1/customers/102/parents").await, [100]);
    assert_eq!(list(&app, "acme.admin", "/v1/customers/100/parents").await, Vec::<i64>::new());
    assert_eq!(list(&app, "dkimops", "/v1/customers/101/parents?name=group").await, [100]);
    assert_eq!(
        list(&app, "dkimops", "/v1/customers/101/parents?name=globex").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list(&app, "acme.admin", "/v1/customers/101/parents?excludeUserPk=10").await,
        Vec::<i64>::new()
    );
    let (_, page) = app.get_as("acme.it.admin", "/v1/customers/101/parents").await;
    assert_eq!(
        page["elements"],
        json!([{"groupPk": 100, "groupName": "Acme Group", "status": "ACTIVE", "chatEnabled": true}])
    );

    for (user, group, expected) in [
        ("acme.user", 100, 403),
        ("globex.admin", 101, 403),
        ("globex.admin", 999_999, 403),
        ("care", 999_999, 404),
        ("dkimops", 999_999, 404),
    ] {
        let (status, body) = app.get_as(user, &format!("/v1/customers/{group}/parents")).await;
        assert_eq!(status, expected, "{user} on {group}: {body}");
        error_paths(&body);
    }
    let (status, error) = app.get_as("acme.user", "/v1/customers/101/parents?name=").await;
    assert_eq!((status, error_paths(&error)), (400, vec!["name".to_owned()]));
}

async fn a_customer_out_of_reach_is_403_whether_or_not_it_exists(app: TestApp) {
    let (status, customer) = app.get_as("acme.user", "/v1/customers/101").await;
    assert_eq!(status, 200);
    assert_eq!(
        customer,
        json!({
            "groupPk": 101, "parentGroupPk": 100, "name": "Acme Italia", "address": "1 Demo Street, IT", "country": "IT",
            "phone": "+390212345678", "platformResponsible": "platform@acme-italia.test", "technicalResponsible": "tech@acme-italia.test",
            "privacyResponsible": "privacy@acme-italia.test", "status": "ACTIVE", "premium": false, "gid": "G000101"
        })
    );
    let (status, root) = app.get_as("globex.admin", "/v1/customers/200").await;
    assert_eq!((status, &root["parentGroupPk"]), (200, &Value::Null), "{root}");

    for (user, group, expected) in [
        ("acme.admin", 102, 200),
        ("care", 1, 200),
        ("dkimops", 200, 200),
        ("mta", 1, 200),
        ("acme.user", 100, 403),
        ("acme.it.admin", 102, 403),
        ("globex.admin", 100, 403),
        ("globex.admin", 999_999, 403),
        ("mta", 200, 403),
        ("care", 999_999, 404),
        ("dkimops", 999_999, 404),
    ] {
        let (status, body) = app.get_as(user, &format!("/v1/customers/{group}")).await;
        assert_eq!(status, expected, "{user} on {group}: {body}");
        if status == 200 {
            assert_eq!(body["groupPk"], group);
        } else {
            error_paths(&body);
        }
    }
    let (status, error) = app.get_as("care", "/v1/customers/abc").await;
    assert_eq!((status, error_paths(&error)), (400, vec!["groupPk".to_owned()]));
}

/// The customer as read, edited as an admin would: every field sent.
fn edited(customer: &Value) -> Value {
    let mut body = customer.clone();
    body["name"] = json!("  Acme Italia S.r.l.  ");
    body["address"] = json!("Via Roma 1, 20121 Milano");
    body["country"] = json!("IT");
    body["phone"] = json!("+39 02 1234 5678");
    body["technicalResponsible"] = Value::Null;
    body
}

async fn an_admin_replaces_the_information_but_not_what_only_care_may_change(app: TestApp) {
    let (_, before) = app.get_as("acme.admin", "/v1/customers/101").await;
    let (status, updated) = app.put_as("acme.admin", "/v1/customers/101", &edited(&before)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Acme Italia S.r.l.", "trimmed");
    assert_eq!(updated["technicalResponsible"], Value::Null);
    assert_eq!(updated["gid"], before["gid"]);
    assert_eq!(app.get_as("acme.it.admin", "/v1/customers/101").await.1, updated);
    assert_eq!(
        list(&app, "acme.admin", "/v1/customers?name=s.r.l").await,
        [101],
        "the name index follows"
    );

    // Omitting what only care changes keeps it.
    let mut minimal = edited(&before);
    for field in ["status", "premium", "gid", "groupPk", "parentGroupPk"] {
        minimal.as_object_mut().unwrap().remove(field);
    }
    let (status, kept) = app.put_as("acme.it.admin", "/v1/customers/101", &minimal).await;
    assert_eq!(
        (status, &kept["status"], &kept["premium"], &kept["gid"]),
        (200, &before["status"], &before["premium"], &before["gid"])
    );

    for (field, value) in [
        ("status", json!("SUSPENDED")),
        ("premium", json!(true)),
        ("gid", json!("MINE")),
        ("gid", Value::Null),
    ] {
        let mut body = updated.clone();
        body[field] = value;
        let (status, error) = app.put_as("acme.admin", "/v1/customers/101", &body).await;
        assert_refused((status, &error), 400, &format!("/{field}"), "customer care", field);
    }

    let mut by_care = updated.clone();
    by_care["status"] = json!("SUSPENDED");
    by_care["premium"] = json!(true);
    by_care["gid"] = json!("ACME-IT");
    let (status, changed) = app.put_as("care", "/v1/customers/101", &by_care).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["status"], &changed["premium"], &changed["gid"]),
        (&json!("SUSPENDED"), &json!(true), &json!("ACME-IT"))
    );
    assert_eq!(app.get_as("acme.user", "/v1/customers/101").await.1, changed);

    for (user, group, expected) in [
        ("acme.user", 101, 403),
        ("acme.it.admin", 100, 403),
        ("dkimops", 101, 403),
        ("globex.admin", 101, 403),
        ("globex.admin", 999_999, 403),
        ("care", 999_999, 404),
    ] {
        let (status, body) = app.put_as(user, &format!("/v1/customers/{group}"), &edited(&before)).await;
        assert_eq!(status, expected, "{user} on {group}: {body}");
        error_paths(&body);
    }
    assert_eq!(
        app.get_as("care", "/v1/customers/101").await.1,
        changed,
        "refused updates wrote nothing"
    );
}

async fn bad_information_is_refused_field_by_field_and_nothing_is_written(app: TestApp) {
    let (_, before) = app.get_as("globex.admin", "/v1/customers/200").await;
    let mut body = before.clone();
    body["name"] = json!("   ");
    body["address"] = json!("x".repeat(501));
    body["country"] = json!("ZZ");
    body["phone"] = json!("call me maybe");
    body["platformResponsible"] = json!("not-an-address");
    body["technicalResponsible"] = json!("a@b");
    body["privacyResponsible"] = json!("privacy at globex");
    let (status, error) = app.put_as("globex.admin", "/v1/customers/200", &body).await;
    assert_eq!(status, 400);
    let mut paths = error_paths(&error);
    paths.sort();
    assert_eq!(
        paths,
        [
            "/address",
            "/country",
            "/name",
            "/phone",
            "/platformResponsible",
            "/privacyResponsible",
            "/technicalResponsible"
        ]
    );

    let (status, error) = app.put_as("globex.admin", "/v1/customers/200", &json!({"name": "Globex"})).await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&error).len(), 6, "each nullable field is required: {error}");
    for (field, value, pointer) in [
        ("name", json!("x".repeat(201)), "/name"),
        ("name", json!(5), "/name"),
        ("country", json!("it"), "/country"),
        ("phone", json!("1".repeat(33)), "/phone"),
        ("status", json!("CLOSED"), "/status"),
        ("premium", json!("yes"), "/premium"),
    ] {
        let mut body = before.clone();
        body[field] = value;
        let (status, error) = app.put_as("care", "/v1/customers/200", &body).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(error_paths(&error), [pointer]);
    }
    let not_json = app
        .as_user("globex.admin", Method::PUT, "/v1/customers/200")
        .await
        .header("content-type", "text/plain")
        .body("name=Globex")
        .send()
        .await
        .unwrap();
    assert_eq!(read(not_json).await.0, 415);
    assert_eq!(app.get_as("globex.admin", "/v1/customers/200").await.1, before, "nothing written");
}

async fn racing_updates_lose_nothing(app: TestApp) {
    // The repository: two writes based on the same version, one wins and one is a conflict.
    let customers = Customers::new(app.environment.state.store.as_ref());
    let versioned = customers.get_versioned(GroupPk(102)).await.unwrap().unwrap();
    let (mut first, mut second) = (versioned.value.clone(), versioned.value.clone());
    first.name = "First".into();
    second.name = "Second".into();
    let (a, b) = tokio::join!(customers.update(&versioned, &first), customers.update(&versioned, &second));
    assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(RepositoryError::ChangedMeanwhile(_))), "{loser:?}");

    // Over HTTP the version is read inside each request: every answer is 200 or 409, and
    // what stays is exactly one of the bodies that were answered 200.
    let (_, before) = app.get_as("acme.admin", "/v1/customers/102").await;
    let token = app.token("acme.admin").await;
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..8 {
        let mut body = before.clone();
        body["name"] = json!(format!("Acme France {i}"));
        let request = app.request(Method::PUT, "/v1/customers/102").bearer_auth(&token).json(&body).send();
        racing.spawn(async move { (body, read(request.await.unwrap()).await) });
    }
    let answers = racing.join_all().await;
    let mut winners = Vec::new();
    for (body, (status, answer)) in answers {
        match status {
            200 => winners.push(body["name"].clone()),
            409 => {
                error_paths(&answer);
            }
            other => panic!("{other}: {answer}"),
        }
    }
    assert!(!winners.is_empty());
    let (_, after) = app.get_as("acme.admin", "/v1/customers/102").await;
    assert!(winners.contains(&after["name"]), "{} is not among {winners:?}", after["name"]);
}

async fn a_gid_in_use_is_a_conflict(app: TestApp) {
    let (_, italia) = app.get_as("care", "/v1/customers/101").await;
    let mut body = italia.clone();
    body["gid"] = json!("G000100");
    let (status, error) = app.put_as("care", "/v1/customers/101", &body).await;
    assert_eq!(status, 409, "{error}");
    error_paths(&error);
    assert_eq!(app.get_as("care", "/v1/customers/101").await.1, italia, "nothing written");

    // Once 100 lets go of its gid, 101 may take it; the guards follow every change.
    let (_, group) = app.get_as("care", "/v1/customers/100").await;
    let mut released = group.clone();
    released["gid"] = json!("ACME");
    assert_eq!(app.put_as("care", "/v1/customers/100", &released).await.0, 200);
    assert_eq!(app.put_as("care", "/v1/customers/101", &body).await.0, 200);
    let mut back = body.clone();
    back["gid"] = json!("G000101");
    assert_eq!(app.put_as("care", "/v1/customers/101", &back).await.0, 200);
    let mut taken = released.clone();
    taken["gid"] = json!("G000101");
    assert_eq!(app.put_as("care", "/v1/customers/100", &taken).await.0, 409);
}

async fn only_care_sets_the_status(app: TestApp) {
    let (status, customer) = patch_as(&app, "care", "/v1/customers/200", &json!({"status": "SUSPENDED"})).await;
    assert_eq!(status, 200, "{customer}");
    assert_eq!((&customer["groupPk"], &customer["status"]), (&json!(200), &json!("SUSPENDED")));
    assert_eq!(app.get_as("globex.admin", "/v1/customers/200").await.1, customer);

    for (user, group) in [
        ("acme.admin", 100),
        ("acme.admin", 101),
        ("globex.admin", 200),
        ("dkimops", 200),
        ("mta", 1),
        ("globex.admin", 999_999),
    ] {
        let (status, body) = patch_as(&app, user, &format!("/v1/customers/{group}"), &json!({"status": "INACTIVE"})).await;
        assert_eq!(status, 403, "{user} on {group}: {body}");
        error_paths(&body);
    }
    let (status, _) = patch_as(&app, "care", "/v1/customers/999999", &json!({"status": "ACTIVE"})).await;
    assert_eq!(status, 404);
    for body in [json!({"status": "CLOSED"}), json!({}), json!({"status": null})] {
        let (status, error) = patch_as(&app, "care", "/v1/customers/200", &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_paths(&error), ["/status"]);
    }
    assert_eq!(
        app.get_as("care", "/v1/customers/200").await.1["status"],
        "SUSPENDED",
        "nothing written"
    );
}
