//! A customer's team: creating users (createCustomerUser), the users of a customer's
//! subtree (listCustomerUsers) and its application users (listCustomerApplicationUsers).

use accountcentral_e2e::{TestApp, application_user, error_paths, new_user, on_both_backends, read};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::repositories::accounts::Accounts;

on_both_backends!(
    a_created_user_is_an_active_interactive_member_with_the_roles_asked_for,
    the_roles_given_at_creation_are_logged_as_granted_by_the_creator,
    a_new_user_is_validated_field_by_field_and_nothing_is_written,
    only_an_admin_of_the_customer_creates_users_there,
    usernames_and_emails_are_unique_whatever_their_case,
    the_user_list_covers_the_subtree_once_per_user,
    the_user_list_is_paged_with_true_totals,
    the_user_list_sorts_on_each_property_both_ways,
    every_documented_sort_property_is_accepted,
    the_user_list_is_searched_and_filtered,
    names_in_any_alphabet_are_searched_and_sorted_whatever_their_case,
    only_an_admin_of_the_customer_lists_its_users,
    application_users_are_listed_with_their_secret_date,
);

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn strings(values: &Value) -> Vec<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {values}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_owned())
        .collect()
}

/// The values of `field` in a page's elements.
fn column(page: &Value, field: &str) -> Vec<Value> {
    page["elements"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|element| element[field].clone())
        .collect()
}

fn usernames(page: &Value) -> Vec<String> {
    column(page, "username").iter().map(|u| u.as_str().unwrap().to_owned()).collect()
}

/// One page of listCustomerUsers, asserting 200.
async fn users_page(app: &TestApp, caller: &str, group: i64, query: &str) -> Value {
    let path = format!("/v1/customers/{group}/users?{query}");
    let (status, page) = app.get_as(caller, &path).await;
    assert_eq!(status, 200, "{caller} {path}: {page}");
    page
}

/// Every user of listCustomerUsers with `query`, walking pages of 10 and checking that
/// each page tells the same totals.
async fn all_users(app: &TestApp, caller: &str, group: i64, query: &str) -> Vec<Value> {
    let first = users_page(app, caller, group, &format!("{query}&size=10")).await;
    let total = first["page"]["totalElements"].as_u64().unwrap();
    assert_eq!(first["page"]["totalPages"].as_u64().unwrap(), total.div_ceil(10), "{first}");
    let mut users: Vec<Value> = first["elements"].as_array().unwrap().clone();
    for number in 1..total.div_ceil(10) {
        let page = users_page(app, caller, group, &format!("{query}&size=10&page={number}")).await;
        assert_eq!(page["page"]["totalElements"], total, "page {number} of {query}");
        assert_eq!(page["page"]["number"], number);
        users.extend(page["elements"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(users.len() as u64, total, "{query}: the pages hold the total");
    users
}

fn names_of(users: &[Value]) -> Vec<String> {
    users.iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
}

/// A user of the 25 created in Acme France (102) by [`france`].
#[derive(Debug, Clone)]
struct Member {
    user_pk: i64,
    username: String,
    name: String,
    surname: String,
    email: String,
}

impl Member {
    fn field(&self, property: &str) -> &str {
        match property {
            "name" => &self.name,
            "surname" => &self.surname,
            "email" => &self.email,
            _ => &self.username,
        }
    }
}

fn letter(index: usize) -> char {
    (b'A' + index as u8) as char
}

/// Creates 25 users in Acme France (102) whose names, surnames, usernames and e-mails
/// each sort in a different order; "qx" (in various cases) appears in the name of
/// member 3, the surname of 7, the username of 11 and the e-mail of 19 only.
async fn france(app: &TestApp) -> Vec<Member> {
    let mut members = Vec::new();
    for i in 0..25 {
        let username = if i == 11 {
            format!("fr.member.qx.{i:02}")
        } else {
            format!("fr.member.{i:02}")
        };
        let name = format!("{}ame{}", letter((i * 7) % 25), if i == 3 { "Qx" } else { "" });
        let surname = format!("{}urname{}", letter((i * 11) % 25), if i == 7 { "QX" } else { "" });
        let email = format!(
            "{}.mail{i:02}{}@france.test",
            letter((i * 3) % 25).to_ascii_lowercase(),
            if i == 19 { ".qX" } else { "" }
        );
        let mut body = new_user(&username);
        body["name"] = json!(name);
        body["surname"] = json!(surname);
        body["email"] = json!(email);
        let user_pk = app.create_user("acme.admin", 102, &body).await;
        members.push(Member {
            user_pk,
            username,
            name,
            surname,
            email,
        });
    }
    members
}

async fn app_roles(app: &TestApp) -> Value {
    let (status, roles) = app.get_as("acme.admin", "/v1/options/app-roles").await;
    assert_eq!(status, 200);
    roles
}

async fn a_created_user_is_an_active_interactive_member_with_the_roles_asked_for(app: TestApp) {
    let roles = app_roles(&app).await;
    let (hub, cplan, flow) = (
        strings(&roles["hub"]).pop().unwrap(),
        strings(&roles["cplan"]).pop().unwrap(),
        strings(&roles["flow"]).pop().unwrap(),
    );
    let (_, options) = read(app.request(Method::GET, "/v1/options/user-preferences").send().await.unwrap()).await;
    let language = options["languages"].as_array().unwrap().last().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut body = new_user("ada.lovelace");
    body["name"] = json!("Ada");
    body["surname"] = json!("Lovelace");
    body["email"] = json!("ada@acme-france.test");
    body["language"] = json!(language);
    body["hub"] = json!(hub);
    body["cplan"] = json!(cplan);
    body["flow"] = json!(flow);
    body["send"] = json!("noSend");
    let before = now_ms();
    let (status, location, created) = app
        .send_as("acme.admin", Method::POST, "/v1/customers/102/users", Some(&body))
        .await;
    let after = now_ms();
    assert_eq!(status, 201, "{created}");
    let user_pk = created["userPk"].as_i64().unwrap_or_else(|| panic!("no userPk: {created}"));
    assert_eq!(created["result"], "OK");
    assert!(created["resultCode"].as_str().is_some_and(|c| !c.is_empty()), "{created}");
    let timestamp = created["timestamp"].as_i64().unwrap();
    assert!((before..=after).contains(&timestamp), "{timestamp} not within {before}..{after}");
    assert_eq!(location.as_deref(), Some(format!("/v1/users/{user_pk}").as_str()));

    let (status, user) = app.get_as("acme.admin", &location.unwrap()).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        (
            &user["userPk"],
            &user["username"],
            &user["name"],
            &user["surname"],
            &user["email"],
            &user["sex"]
        ),
        (
            &json!(user_pk),
            &json!("ada.lovelace"),
            &json!("Ada"),
            &json!("Lovelace"),
            &json!("ada@acme-france.test"),
            &json!("F")
        )
    );
    assert_eq!(
        (&user["status"], &user["userType"], &user["groupName"]),
        (&json!("ACTIVE"), &json!("INTERACTIVE"), &json!("Acme France"))
    );
    assert_eq!(user["suspensionInfo"]["suspended"], false);

    // The roles asked for, send's noSend pattern as its role, and accountcentral USER.
    let (status, held) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}/roles")).await;
    assert_eq!(status, 200);
    assert_eq!(
        held,
        json!({"accountcentral": ["USER"], "hub": [hub], "cplan": [cplan], "flow": [flow], "send": ["EDITOR"]})
    );
    let (status, capabilities) = app.get_as("mta", "/v1/internal/capabilities?username=ada.lovelace").await;
    assert_eq!(status, 200);
    assert_eq!(
        capabilities["hub"]["capabilities"],
        json!([{"resource": ["customers", "102"], "role": hub}]),
        "on the customer it was created in"
    );
    assert_eq!(
        capabilities["accountcentral"]["capabilities"],
        json!([{"resource": ["customers", "102"], "role": "USER"}])
    );

    let (status, preferences) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}/preferences")).await;
    assert_eq!((status, &preferences["language"]), (200, &json!(language)));
    let (_, customers) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}/customers")).await;
    assert_eq!(column(&customers, "groupPk"), [json!(102)]);
    let listed = users_page(&app, "acme.admin", 102, "search=ada.lovelace").await;
    assert_eq!(column(&listed, "userPk"), [json!(user_pk)]);

    // ACTIVE: the user's token works; no password is stored, so none can be used to log in.
    let (status, me) = app.get_as("ada.lovelace", "/v1/user").await;
    assert_eq!((status, &me["userPk"], &me["status"]), (200, &json!(user_pk), &json!("ACTIVE")));
    let secrets = Accounts::new(app.environment.state.store.as_ref())
        .password_dates(&[UserPk(user_pk)])
        .await
        .unwrap();
    assert!(secrets.is_empty(), "a new user has no password: {secrets:?}");

    // The other send patterns, and null or absent roles giving no permission there.
    for (pattern, role) in [("default", "SENDER"), ("onlyStat", "VIEWER")] {
        let username = format!("send.{pattern}");
        let mut body = new_user(&username);
        body["send"] = json!(pattern);
        body["hub"] = Value::Null;
        let user_pk = app.create_user("acme.it.admin", 101, &body).await;
        let (_, held) = app.get_as("acme.it.admin", &format!("/v1/users/{user_pk}/roles")).await;
        assert_eq!(held, json!({"accountcentral": ["USER"], "send": [role]}), "{pattern}");
    }
}

async fn the_roles_given_at_creation_are_logged_as_granted_by_the_creator(app: TestApp) {
    let hub = strings(&app_roles(&app).await["hub"]).remove(0);
    let mut body = new_user("logged.at.birth");
    body["hub"] = json!(hub);
    let before = Timestamp::now();
    let user_pk = app.create_user("acme.admin", 102, &body).await;
    let after = Timestamp::now();
    let (status, log) = app.get_as("acme.admin", &format!("/v1/users/{user_pk}/capabilities/log")).await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["page"]["totalElements"], 2, "{log}");
    let mut granted: Vec<(String, String)> = Vec::new();
    for entry in log["elements"].as_array().unwrap() {
        assert_eq!(entry["action"], "GRANTED", "{entry}");
        assert_eq!(entry["resource"], json!(["customers", "102"]), "{entry}");
        assert_eq!(entry["byUserPk"], 10, "granted by acme.admin, who created the user: {entry}");
        let date: Timestamp = entry["date"].as_str().unwrap().parse().unwrap();
        assert!(before <= date && date <= after, "{date} not within {before}..{after}");
        granted.push((
            entry["application"].as_str().unwrap().into(),
            entry["role"].as_str().unwrap().into(),
        ));
    }
    granted.sort();
    assert_eq!(granted, [("accountcentral".into(), "USER".into()), ("hub".into(), hub)]);
}

async fn a_new_user_is_validated_field_by_field_and_nothing_is_written(app: TestApp) {
    let (status, error) = app.post_as("acme.admin", "/v1/customers/102/users", &json!({})).await;
    assert_eq!(status, 400);
    let mut paths = error_paths(&error);
    paths.sort();
    assert_eq!(paths, ["/email", "/language", "/name", "/sex", "/surname", "/username"]);

    let roles = app_roles(&app).await;
    for application in ["hub", "cplan", "flow"] {
        assert!(!strings(&roles[application]).contains(&"NOT_A_ROLE".to_owned()));
    }
    let bad = json!({
        "username": "-starts-badly", "name": "", "surname": "x".repeat(101), "email": "not-an-address",
        "language": "xx", "sex": "X", "hub": "NOT_A_ROLE", "cplan": "NOT_A_ROLE", "flow": "NOT_A_ROLE", "send": "always"
    });
    let (status, error) = app.post_as("acme.admin", "/v1/customers/102/users", &bad).await;
    assert_eq!(status, 400);
    let mut paths = error_paths(&error);
    paths.sort();
    assert_eq!(
        paths,
        [
            "/cplan",
            "/email",
            "/flow",
            "/hub",
            "/language",
            "/name",
            "/send",
            "/sex",
            "/surname",
            "/username"
        ]
    );

    for (field, value) in [
        ("username", json!("ab")),
        ("username", json!("has space")),
        ("username", json!("u".repeat(65))),
        ("name", json!("n".repeat(101))),
        ("language", json!(5)),
    ] {
        let mut body = new_user("valid.name");
        body[field] = value.clone();
        let (status, error) = app.post_as("acme.admin", "/v1/customers/102/users", &body).await;
        assert_eq!(status, 400, "{field} = {value}: {error}");
        assert_eq!(error_paths(&error), [format!("/{field}")], "{field} = {value}");
    }
    let not_json = app
        .as_user("acme.admin", Method::POST, "/v1/customers/102/users")
        .await
        .header("content-type", "text/plain")
        .body("username=valid.name")
        .send()
        .await
        .unwrap();
    assert_eq!(read(not_json).await.0, 415);

    // Nothing was written: Acme France still has no users, and the names are free.
    assert_eq!(users_page(&app, "acme.admin", 102, "").await["page"]["totalElements"], 0);
    for username in ["-starts-badly", "ab", "valid.name"] {
        assert!(app.environment.token(username).await.is_err(), "{username} exists");
    }
    app.create_user("acme.admin", 102, &new_user("valid.name")).await;
}

async fn only_an_admin_of_the_customer_creates_users_there(app: TestApp) {
    let cases = [
        ("acme.admin", 100, 201),
        ("acme.admin", 102, 201),
        ("acme.it.admin", 101, 201),
        ("care", 200, 201),
        ("acme.it.admin", 102, 403),
        ("acme.it.admin", 100, 403),
        ("acme.user", 101, 403),
        ("globex.admin", 100, 403),
        ("dkimops", 101, 403),
        ("mta", 1, 403),
        ("acme.admin", 999_999, 403),
        ("care", 999_999, 404),
    ];
    for (index, (caller, group, expected)) in cases.into_iter().enumerate() {
        let username = format!("made.by.{index}");
        let (status, body) = app
            .post_as(caller, &format!("/v1/customers/{group}/users"), &new_user(&username))
            .await;
        assert_eq!(status, expected, "{caller} in {group}: {body}");
        if status == 201 {
            let (_, user) = app.get_as("care", &format!("/v1/users/{}", body["userPk"])).await;
            assert_eq!(user["username"], username.as_str());
            let (_, customers) = app.get_as("care", &format!("/v1/users/{}/customers", body["userPk"])).await;
            assert_eq!(column(&customers, "groupPk"), [json!(group)]);
        } else {
            error_paths(&body);
            assert!(app.environment.token(&username).await.is_err(), "{username} was created");
        }
    }
    let anonymous = app
        .request(Method::POST, "/v1/customers/102/users")
        .json(&new_user("anonymous.one"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(anonymous).await.0, 401);
}

async fn usernames_and_emails_are_unique_whatever_their_case(app: TestApp) {
    let mut first = new_user("Unique.One");
    first["email"] = json!("unique.one@acme.test");
    app.create_user("acme.it.admin", 101, &first).await;
    let (_, demo) = app.get_as("acme.it.admin", "/v1/users/12").await;

    let clash = |username: &str, email: &str| {
        let mut body = new_user(username);
        body["email"] = json!(email);
        body
    };
    for (caller, group, body) in [
        ("acme.it.admin", 101, clash("unique.one", "free.one@acme.test")),
        ("acme.it.admin", 101, clash("UNIQUE.ONE", "free.two@acme.test")),
        ("care", 200, clash("unique.one", "free.three@acme.test")),
        (
            "acme.it.admin",
            101,
            clash(demo["username"].as_str().unwrap(), "free.four@acme.test"),
        ),
        ("acme.it.admin", 101, clash("free.five", "UNIQUE.ONE@ACME.TEST")),
        ("acme.admin", 102, clash("free.six", demo["email"].as_str().unwrap())),
    ] {
        let (status, error) = app.post_as(caller, &format!("/v1/customers/{group}/users"), &body).await;
        assert_eq!(status, 409, "{body}: {error}");
        error_paths(&error);
    }
    // Refused creations wrote nothing: their other username or e-mail is free.
    assert_eq!(
        users_page(&app, "acme.admin", 100, "search=unique").await["page"]["totalElements"],
        1
    );
    app.create_user("acme.it.admin", 101, &clash("free.five", "free.one@acme.test"))
        .await;
    app.create_user("acme.admin", 102, &clash("free.six", "free.two@acme.test")).await;
}

async fn the_user_list_covers_the_subtree_once_per_user(app: TestApp) {
    let solo = app.create_user("acme.admin", 102, &new_user("fr.solo")).await;
    let italian = app.create_user("acme.it.admin", 101, &new_user("it.solo")).await;
    let everyone = |extra: &[&str]| {
        let mut names: Vec<String> = ["acme.admin", "acme.it.admin", "acme.user"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "").await),
        everyone(&["fr.solo", "it.solo"])
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 101, "").await),
        ["acme.it.admin", "acme.user", "it.solo"]
    );
    assert_eq!(names_of(&all_users(&app, "acme.admin", 102, "").await), ["fr.solo"]);
    assert_eq!(names_of(&all_users(&app, "acme.it.admin", 101, "").await).len(), 3);
    assert_eq!(names_of(&all_users(&app, "globex.admin", 200, "").await), ["globex.admin"]);

    let listed = users_page(&app, "acme.admin", 100, "search=fr.solo").await;
    assert_eq!(
        listed["elements"],
        json!([{"userPk": solo, "username": "fr.solo", "name": "Test", "surname": "User", "email": "fr.solo@e2e.test",
                "groupPk": 102, "groupName": "Acme France", "status": "ACTIVE", "userType": "INTERACTIVE"}])
    );

    // Associated with two customers of the subtree: listed once under their common ancestor.
    let (status, body) = app
        .post_as("acme.admin", &format!("/v1/users/{solo}/customers"), &json!([101]))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post_as("acme.admin", &format!("/v1/users/{italian}/customers"), &json!([100]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "").await),
        everyone(&["fr.solo", "it.solo"])
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 101, "").await),
        ["acme.it.admin", "acme.user", "fr.solo", "it.solo"]
    );
    assert_eq!(names_of(&all_users(&app, "acme.admin", 102, "").await), ["fr.solo"]);
    let found = users_page(&app, "acme.admin", 100, "search=solo").await;
    assert_eq!(found["page"]["totalElements"], 2, "{found}");

    // Leaving 100 itself, it.solo is still one of 100's users through 101.
    let (status, body) = app
        .delete_as("acme.admin", &format!("/v1/users/{italian}/customers?groupPk=100"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "").await),
        everyone(&["fr.solo", "it.solo"])
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 101, "").await),
        ["acme.it.admin", "acme.user", "fr.solo", "it.solo"]
    );
    // Leaving 101, fr.solo is no longer one of 101's users, still one of 100's.
    let (status, body) = app
        .delete_as("acme.admin", &format!("/v1/users/{solo}/customers?groupPk=101"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 101, "").await),
        ["acme.it.admin", "acme.user", "it.solo"]
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "").await),
        everyone(&["fr.solo", "it.solo"])
    );
}

async fn the_user_list_is_paged_with_true_totals(app: TestApp) {
    let members = france(&app).await;
    let mut by_username: Vec<String> = members.iter().map(|m| m.username.clone()).collect();
    by_username.sort();

    let first = users_page(&app, "acme.admin", 102, "").await;
    assert_eq!(
        first["page"],
        json!({"size": 20, "number": 0, "totalElements": 25, "totalPages": 2})
    );
    assert_eq!(usernames(&first), by_username[..20], "username order by default");
    let second = users_page(&app, "acme.admin", 102, "page=1").await;
    assert_eq!(
        second["page"],
        json!({"size": 20, "number": 1, "totalElements": 25, "totalPages": 2})
    );
    assert_eq!(usernames(&second), by_username[20..]);
    let past = users_page(&app, "acme.admin", 102, "page=2").await;
    assert_eq!(past["page"], json!({"size": 20, "number": 2, "totalElements": 25, "totalPages": 2}));
    assert_eq!(usernames(&past), Vec::<String>::new());

    let mut walked = Vec::new();
    for number in 0..4 {
        let page = users_page(&app, "acme.admin", 102, &format!("size=7&page={number}")).await;
        assert_eq!(
            page["page"],
            json!({"size": 7, "number": number, "totalElements": 25, "totalPages": 4})
        );
        walked.extend(usernames(&page));
    }
    assert_eq!(walked, by_username);
    assert_eq!(usernames(&users_page(&app, "acme.admin", 102, "size=100").await), by_username);

    // The ancestor counts the subtree's users and its own; the sibling none of them.
    let group = users_page(&app, "acme.admin", 100, "size=5").await;
    assert_eq!(group["page"], json!({"size": 5, "number": 0, "totalElements": 28, "totalPages": 6}));
    let italia = users_page(&app, "acme.admin", 101, "size=5").await;
    assert_eq!(italia["page"]["totalElements"], 2);

    for (query, parameter) in [("size=0", "size"), ("size=101", "size"), ("page=-1", "page"), ("size=ten", "size")] {
        let (status, error) = app.get_as("acme.admin", &format!("/v1/customers/102/users?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error_paths(&error), [parameter]);
    }
}

async fn the_user_list_sorts_on_each_property_both_ways(app: TestApp) {
    let members = france(&app).await;
    for property in ["name", "surname", "username", "email"] {
        let mut expected = members.clone();
        expected.sort_by(|a, b| a.field(property).cmp(b.field(property)));
        let ascending: Vec<String> = expected.iter().map(|m| m.username.clone()).collect();
        let mut descending = ascending.clone();
        descending.reverse();
        if property != "username" {
            let mut by_username = ascending.clone();
            by_username.sort();
            assert_ne!(
                ascending, by_username,
                "{property}: the fixture sorts differently from the default order"
            );
        }
        let listed = all_users(&app, "acme.admin", 102, &format!("sort={property}")).await;
        assert_eq!(names_of(&listed), ascending, "sort={property}");
        let listed = all_users(&app, "acme.admin", 102, &format!("sort={property},asc")).await;
        assert_eq!(names_of(&listed), ascending, "sort={property},asc");
        let listed = all_users(&app, "acme.admin", 102, &format!("sort={property},desc")).await;
        assert_eq!(names_of(&listed), descending, "sort={property},desc");
        let values: Vec<String> = listed.iter().map(|u| u[property].as_str().unwrap().to_owned()).collect();
        let wanted: Vec<String> = expected.iter().rev().map(|m| m.field(property).to_owned()).collect();
        assert_eq!(values, wanted, "{property} values, descending");
    }

    // Status: suspend two members and disable one, then sort by status, then by username.
    let (suspended, disabled) = ([&members[4], &members[9]], &members[14]);
    for member in suspended {
        let (status, body) = app
            .put_as(
                "acme.admin",
                &format!("/v1/users/{}/suspension", member.user_pk),
                &json!({"suspended": true}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let path = format!("/v1/users/{}", disabled.user_pk);
    let (_, mut user) = app.get_as("acme.admin", &path).await;
    user.as_object_mut().unwrap().remove("suspensionInfo");
    user["status"] = json!("DISABLED");
    let (status, body) = app.put_as("acme.admin", &path, &user).await;
    assert_eq!(status, 200, "{body}");

    let status_of = |member: &Member| {
        if suspended.iter().any(|s| s.user_pk == member.user_pk) {
            "SUSPENDED"
        } else if member.user_pk == disabled.user_pk {
            "DISABLED"
        } else {
            "ACTIVE"
        }
    };
    for direction in ["asc", "desc"] {
        let mut expected = members.clone();
        expected.sort_by(|a, b| {
            let by_status = status_of(a).cmp(status_of(b));
            let by_status = if direction == "asc" { by_status } else { by_status.reverse() };
            by_status.then_with(|| a.username.cmp(&b.username))
        });
        let listed = all_users(&app, "acme.admin", 102, &format!("sort=status,{direction}&sort=username")).await;
        assert_eq!(
            names_of(&listed),
            expected.iter().map(|m| m.username.clone()).collect::<Vec<_>>(),
            "sort=status,{direction}&sort=username"
        );
        let statuses: Vec<String> = listed.iter().map(|u| u["status"].as_str().unwrap().to_owned()).collect();
        let wanted: Vec<String> = expected.iter().map(|m| status_of(m).to_owned()).collect();
        assert_eq!(statuses, wanted);
    }

    for query in ["sort=password", "sort=name,sideways", "sort=name&sort=nonsense,desc"] {
        let (status, error) = app.get_as("acme.admin", &format!("/v1/customers/102/users?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error_paths(&error), ["sort"], "{query}");
    }
}

/// openapi.yaml documents listCustomerUsers as sortable on `username`, `name`, `surname`,
/// `email`, `groupName`, `status` and `userType`.
/// Each column holds at least two values, so that an order that is not the one asked for shows.
async fn every_documented_sort_property_is_accepted(app: TestApp) {
    let sorted_user = app.create_user("acme.admin", 102, &new_user("fr.sorted")).await;
    let (status, answer) = app
        .put_as(
            "acme.admin",
            &format!("/v1/users/{sorted_user}/suspension"),
            &json!({"suspended": true}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    application_user(&app, "acme.sortbot", "Sortbot", 101, None).await;
    for property in ["username", "name", "surname", "email", "groupName", "status", "userType"] {
        for direction in ["asc", "desc"] {
            let (status, page) = app
                .get_as("acme.admin", &format!("/v1/customers/100/users?sort={property},{direction}"))
                .await;
            assert_eq!(status, 200, "sort={property},{direction}: {page}");
            let values: Vec<String> = column(&page, property).iter().map(|v| v.as_str().unwrap().to_lowercase()).collect();
            let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
            assert!(distinct.len() >= 2, "sort={property}: every value alike, {values:?}");
            let mut sorted = values.clone();
            sorted.sort();
            if direction == "desc" {
                sorted.reverse();
            }
            assert_eq!(values, sorted, "sort={property},{direction}");
        }
    }
    let (status, page) = app.get_as("care", "/v1/customers/1/users?sort=userType").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(column(&page, "username")[0], "mta", "APPLICATION sorts before INTERACTIVE");
}

async fn the_user_list_is_searched_and_filtered(app: TestApp) {
    let members = france(&app).await;
    let usernames_of = |indexes: &[usize]| -> Vec<String> {
        let mut names: Vec<String> = indexes.iter().map(|i| members[*i].username.clone()).collect();
        names.sort();
        names
    };
    // In name (3), surname (7), username (11) and e-mail (19), whatever the case.
    for search in ["qx", "QX", "qX"] {
        for group in [102, 100] {
            let found = all_users(&app, "acme.admin", group, &format!("search={search}")).await;
            assert_eq!(names_of(&found), usernames_of(&[3, 7, 11, 19]), "search={search} in {group}");
        }
        let found = all_users(&app, "acme.admin", 101, &format!("search={search}")).await;
        assert!(found.is_empty(), "none in the sibling");
    }
    let paged = users_page(&app, "acme.admin", 102, "search=qx&size=3&page=1").await;
    assert_eq!(paged["page"], json!({"size": 3, "number": 1, "totalElements": 4, "totalPages": 2}));
    assert_eq!(usernames(&paged), usernames_of(&[3, 7, 11, 19])[3..]);
    let exact = all_users(&app, "acme.admin", 102, &format!("search={}", members[5].email.to_uppercase())).await;
    assert_eq!(names_of(&exact), usernames_of(&[5]));
    assert_eq!(all_users(&app, "acme.admin", 102, "search=FRANCE.TEST").await.len(), 25);
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "search=ACME").await),
        ["acme.admin", "acme.it.admin", "acme.user"]
    );
    assert!(all_users(&app, "acme.admin", 100, "search=nobody-has-this").await.is_empty());

    // Statuses: two suspended, one disabled.
    for member in [&members[4], &members[7]] {
        let (status, body) = app
            .put_as(
                "acme.admin",
                &format!("/v1/users/{}/suspension", member.user_pk),
                &json!({"suspended": true}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let path = format!("/v1/users/{}", members[14].user_pk);
    let (_, mut user) = app.get_as("acme.admin", &path).await;
    user.as_object_mut().unwrap().remove("suspensionInfo");
    user["status"] = json!("DISABLED");
    assert_eq!(app.put_as("acme.admin", &path, &user).await.0, 200);

    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 102, "status=SUSPENDED").await),
        usernames_of(&[4, 7])
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 100, "status=DISABLED").await),
        usernames_of(&[14])
    );
    let active: Vec<usize> = (0..25).filter(|i| ![4, 7, 14].contains(i)).collect();
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 102, "status=ACTIVE").await),
        usernames_of(&active)
    );
    assert_eq!(
        names_of(&all_users(&app, "acme.admin", 102, "status=ACTIVE&search=qx").await),
        usernames_of(&[3, 11, 19])
    );
    let suspended_and_sorted = all_users(&app, "acme.admin", 100, "status=SUSPENDED&sort=username,desc").await;
    let mut wanted = usernames_of(&[4, 7]);
    wanted.reverse();
    assert_eq!(names_of(&suspended_and_sorted), wanted);

    // User types: all of these are INTERACTIVE; customer 1 has the APPLICATION user mta.
    assert_eq!(all_users(&app, "acme.admin", 102, "userType=INTERACTIVE").await.len(), 25);
    assert!(all_users(&app, "acme.admin", 100, "userType=APPLICATION").await.is_empty());
    assert_eq!(names_of(&all_users(&app, "care", 1, "userType=APPLICATION").await), ["mta"]);
    assert_eq!(
        names_of(&all_users(&app, "care", 1, "userType=INTERACTIVE").await),
        ["care", "dkimops"]
    );

    for (query, parameter) in [
        ("search=", "search"),
        ("userType=ROBOT", "userType"),
        ("userType=interactive", "userType"),
        ("status=GONE", "status"),
    ] {
        let (status, error) = app.get_as("acme.admin", &format!("/v1/customers/102/users?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error_paths(&error), [parameter], "{query}");
    }
}

async fn names_in_any_alphabet_are_searched_and_sorted_whatever_their_case(app: TestApp) {
    let people = [
        ("fr.elodie", "Élodie", "Ångström"),
        ("fr.oscar", "ÓSCAR", "Zoë"),
        ("fr.odysseus", "ΟΔΥΣΣΕΥΣ", "ÉTIENNE"),
        ("fr.zed", "zed", "álvarez"),
    ];
    for (username, name, surname) in people {
        let mut body = new_user(username);
        body["name"] = json!(name);
        body["surname"] = json!(surname);
        body["email"] = json!(format!("{username}@france.test"));
        app.create_user("acme.admin", 102, &body).await;
    }
    for (search, found) in [
        ("élo", "fr.elodie"),
        ("ÉLO", "fr.elodie"),
        ("ångSTRÖM", "fr.elodie"),
        ("óscar", "fr.oscar"),
        ("ZOË", "fr.oscar"),
        ("οδυσσευς", "fr.odysseus"),
        ("ΟδυσσευΣ", "fr.odysseus"),
        ("Étienne", "fr.odysseus"),
        ("ÁLVAREZ", "fr.zed"),
    ] {
        for group in [102, 100] {
            let listed = all_users(&app, "acme.admin", group, &format!("search={search}")).await;
            assert_eq!(names_of(&listed), [found], "search={search} in {group}");
        }
    }
    let ours = |listed: Vec<Value>| -> Vec<String> {
        names_of(&listed)
            .into_iter()
            .filter(|username| people.iter().any(|(ours, _, _)| ours == username))
            .collect()
    };
    for (property, position) in [("name", 1), ("surname", 2)] {
        let mut expected = people.to_vec();
        expected.sort_by_key(|person| [person.1, person.2][position - 1].to_lowercase());
        let ascending: Vec<String> = expected.iter().map(|person| person.0.to_owned()).collect();
        let listed = all_users(&app, "acme.admin", 102, &format!("sort={property}")).await;
        assert_eq!(ours(listed), ascending, "sort={property}");
        let listed = all_users(&app, "acme.admin", 102, &format!("sort={property},desc")).await;
        assert_eq!(
            ours(listed),
            ascending.into_iter().rev().collect::<Vec<_>>(),
            "sort={property},desc"
        );
    }
}

async fn only_an_admin_of_the_customer_lists_its_users(app: TestApp) {
    for (caller, group, expected) in [
        ("acme.admin", 100, 200),
        ("acme.admin", 101, 200),
        ("acme.admin", 102, 200),
        ("acme.it.admin", 101, 200),
        ("care", 200, 200),
        ("acme.it.admin", 100, 403),
        ("acme.it.admin", 102, 403),
        ("acme.user", 101, 403),
        ("globex.admin", 100, 403),
        ("dkimops", 101, 403),
        ("mta", 1, 403),
        ("acme.admin", 999_999, 403),
    ] {
        for path in [
            format!("/v1/customers/{group}/users"),
            format!("/v1/customers/{group}/application-users"),
        ] {
            let (status, body) = app.get_as(caller, &path).await;
            assert_eq!(status, expected, "{caller} {path}: {body}");
            if status != 200 {
                error_paths(&body);
            }
        }
    }
    let (status, _) = app.get_as("care", "/v1/customers/999999/users").await;
    assert!(matches!(status, 403 | 404), "care on a missing customer: {status}");
    let anonymous = app.request(Method::GET, "/v1/customers/100/users").send().await.unwrap();
    assert_eq!(read(anonymous).await.0, 401);
}

async fn application_users_are_listed_with_their_secret_date(app: TestApp) {
    let (status, page) = app.get_as("care", "/v1/customers/1/application-users").await;
    assert_eq!(status, 200, "{page}");
    let (_, mta) = app.get_as("care", "/v1/users/30").await;
    assert_eq!(page["page"], json!({"size": 20, "number": 0, "totalElements": 1, "totalPages": 1}));
    let listed = &page["elements"][0];
    assert_eq!(
        (
            &listed["userPk"],
            &listed["username"],
            &listed["name"],
            &listed["groupPk"],
            &listed["groupName"],
            &listed["status"]
        ),
        (
            &json!(30),
            &json!("mta"),
            &mta["name"],
            &json!(1),
            &json!("Platform"),
            &json!("ACTIVE")
        )
    );
    assert!(
        listed["secretCreationDate"].as_str().unwrap().parse::<Timestamp>().is_ok(),
        "{listed}"
    );

    let (_, none) = app.get_as("acme.admin", "/v1/customers/100/application-users").await;
    assert_eq!(none["page"]["totalElements"], 0, "interactive users are not listed: {none}");

    let older: Timestamp = "2023-05-06T07:08:09Z".parse().unwrap();
    let newer: Timestamp = "2024-01-02T03:04:05Z".parse().unwrap();
    let robot = application_user(&app, "acme.robot", "Zeta", 101, Some(newer)).await;
    let bot3 = application_user(&app, "acme.bot3", "Alpha", 101, Some(older)).await;
    let bot2 = application_user(&app, "acme.bot2", "Mu", 102, None).await;

    let (status, page) = app.get_as("acme.admin", "/v1/customers/100/application-users").await;
    assert_eq!(status, 200);
    assert_eq!(page["page"]["totalElements"], 3);
    assert_eq!(column(&page, "userPk"), [json!(bot2), json!(bot3), json!(robot)], "by username");
    assert_eq!(
        column(&page, "groupName"),
        [json!("Acme France"), json!("Acme Italia"), json!("Acme Italia")]
    );
    let dates = column(&page, "secretCreationDate");
    assert_eq!(dates[0], Value::Null, "no secret");
    assert_eq!(dates[1].as_str().unwrap().parse::<Timestamp>().unwrap(), older);
    assert_eq!(dates[2].as_str().unwrap().parse::<Timestamp>().unwrap(), newer);

    let (_, italia) = app
        .get_as("acme.it.admin", "/v1/customers/101/application-users?sort=secretCreationDate,desc")
        .await;
    assert_eq!(column(&italia, "userPk"), [json!(robot), json!(bot3)]);
    let (_, italia) = app
        .get_as("acme.it.admin", "/v1/customers/101/application-users?sort=secretCreationDate")
        .await;
    assert_eq!(column(&italia, "userPk"), [json!(bot3), json!(robot)]);
    let (_, by_name) = app.get_as("acme.admin", "/v1/customers/100/application-users?sort=name,desc").await;
    assert_eq!(column(&by_name, "userPk"), [json!(robot), json!(bot2), json!(bot3)]);
    let (_, by_group) = app
        .get_as(
            "acme.admin",
            "/v1/customers/100/application-users?sort=groupName,desc&sort=username,desc",
        )
        .await;
    assert_eq!(column(&by_group, "userPk"), [json!(robot), json!(bot3), json!(bot2)]);
    let (_, paged) = app.get_as("acme.admin", "/v1/customers/100/application-users?size=2&page=1").await;
    assert_eq!(paged["page"], json!({"size": 2, "number": 1, "totalElements": 3, "totalPages": 2}));
    assert_eq!(column(&paged, "userPk"), [json!(robot)]);

    // The same users are the APPLICATION users of the team list.
    let team = all_users(&app, "acme.admin", 100, "userType=APPLICATION").await;
    assert_eq!(names_of(&team), ["acme.bot2", "acme.bot3", "acme.robot"]);

    for (query, parameter) in [("sort=password", "sort"), ("size=0", "size")] {
        let (status, error) = app
            .get_as("acme.admin", &format!("/v1/customers/100/application-users?{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error_paths(&error), [parameter]);
    }
}
