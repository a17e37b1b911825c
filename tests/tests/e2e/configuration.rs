//! A customer's configuration, SFTP accounts, applications and hub counters, per demo
//! role; secrets never in an answer.

use accountcentral_e2e::{TestApp, error_paths, on_both_backends};
use serde_json::{Value, json};
use shared::domain::ids::GroupPk;
use shared::repositories::configuration::Configurations;

on_both_backends!(
    configuration_is_for_admins_of_the_customer,
    sftp_accounts_show_password_dates_and_fingerprints_only,
    secrets_never_appear_in_an_answer,
    applications_are_for_members_of_the_customer,
    one_application_is_hub_plan_or_send,
    hub_counters_list_nodes_then_their_sources,
);

/// (user, customer, expected status) of an admin(g) operation.
const ADMIN_REACH: [(&str, i64, u16); 12] = [
    ("care", 100, 200),
    ("care", 101, 200),
    ("care", 999, 404),
    ("acme.admin", 100, 200),
    ("acme.admin", 101, 200),
    ("acme.admin", 200, 403),
    ("acme.it.admin", 101, 200),
    ("acme.it.admin", 100, 403),
    ("acme.user", 101, 403),
    ("globex.admin", 100, 403),
    ("dkimops", 100, 403),
    ("mta", 100, 403),
];

async fn configuration_is_for_admins_of_the_customer(app: TestApp) {
    for (user, group, expected) in ADMIN_REACH {
        for path in [
            format!("/v1/customers/{group}/configuration"),
            format!("/v1/customers/{group}/configuration/sftp"),
        ] {
            let (status, body) = app.get_as(user, &path).await;
            assert_eq!(status, expected, "{user} {path}: {body}");
            if expected != 200 {
                error_paths(&body);
            }
        }
    }

    let (_, acme) = app.get_as("acme.admin", "/v1/customers/100/configuration").await;
    assert_eq!(acme["gid"], "G000100");
    assert_eq!(acme["smartRelayEnable"], true);
    let key = &acme["apiKey"];
    assert_eq!(key["prefix"].as_str().map(str::len), Some(8), "{key}");
    assert!(key["id"].is_string() && key["creationDate"].is_string() && key["expirationDate"].is_string());
    assert_eq!(key["lastUseDate"], Value::Null);
    assert_eq!(
        acme["genericUsers"][2],
        json!({"username": "legacy-import", "description": null, "enabled": false})
    );
    assert_eq!(
        acme["dataExchanges"][1],
        json!({"id": "dx-bi-export", "name": "BI events export", "protocol": "HTTPS", "direction": "EXPORT", "enabled": true})
    );

    let (_, globex) = app.get_as("globex.admin", "/v1/customers/200/configuration").await;
    assert_ne!(globex["apiKey"]["prefix"], key["prefix"], "each customer has a key of its own");

    // A sub-customer with nothing configured has the empty configuration.
    let (_, italia) = app.get_as("acme.it.admin", "/v1/customers/101/configuration").await;
    assert_eq!(
        italia,
        json!({"gid": "G000101", "apiKey": null, "smartRelayEnable": false, "genericUsers": [], "dataExchanges": []})
    );

    let (status, body) = app.get_as("care", "/v1/customers/abc/configuration").await;
    assert_eq!((status, error_paths(&body)), (400, vec!["groupPk".to_owned()]));
}

async fn sftp_accounts_show_password_dates_and_fingerprints_only(app: TestApp) {
    let (status, accounts) = app.get_as("acme.admin", "/v1/customers/100/configuration/sftp").await;
    assert_eq!(status, 200);
    let accounts = accounts.as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let with_password = &accounts[0];
    assert_eq!(
        (&with_password["username"], &with_password["authentication"], &with_password["port"]),
        (&json!("acme-import"), &json!("PASSWORD"), &json!(22))
    );
    assert_eq!(with_password["publicKeyFingerprints"], json!([]));
    let password = with_password["password"].as_object().unwrap();
    assert_eq!(password.keys().collect::<Vec<_>>(), ["creationDate", "lastUseDate"]);
    let with_keys = &accounts[1];
    assert_eq!(with_keys["authentication"], "PUBLIC_KEY");
    assert_eq!(with_keys["password"], Value::Null);
    let prints = with_keys["publicKeyFingerprints"].as_array().unwrap();
    assert_eq!(prints.len(), 2);
    assert!(prints.iter().all(|p| p.as_str().unwrap().starts_with("SHA256:")));

    let (_, italia) = app.get_as("acme.admin", "/v1/customers/101/configuration/sftp").await;
    assert_eq!(italia, json!([]));
}

async fn secrets_never_appear_in_an_answer(app: TestApp) {
    let configurations = Configurations::new(app.environment.state.store.as_ref());
    let mut secrets = Vec::new();
    for group in [100, 200] {
        let stored = configurations.configuration(GroupPk(group)).await.unwrap().unwrap();
        secrets.push(stored.api_key.unwrap().sha256);
        for account in configurations.sftp_accounts(GroupPk(group)).await.unwrap() {
            secrets.extend(account.password.map(|p| p.hash));
        }
    }
    assert_eq!(secrets.len(), 4, "two API keys and two SFTP passwords are seeded");
    for (user, group) in [("care", 100), ("acme.admin", 100), ("globex.admin", 200)] {
        for path in ["configuration", "configuration/sftp", "applications", "applications/hub"] {
            let (status, body) = app.get_as(user, &format!("/v1/customers/{group}/{path}")).await;
            assert_eq!(status, 200, "{user} {path}");
            let text = body.to_string();
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "{user} {path} shows a secret: {text}");
            }
            for word in ["argon2", "sha256\"", "hash"] {
                assert!(!text.contains(word), "{user} {path} mentions {word}: {text}");
            }
        }
    }
}

/// (user, customer, expected status) of a member(g) operation.
const MEMBER_REACH: [(&str, i64, u16); 11] = [
    ("care", 200, 200),
    ("care", 999, 404),
    ("dkimops", 100, 200),
    ("acme.admin", 100, 200),
    ("acme.admin", 102, 200),
    ("acme.it.admin", 101, 200),
    ("acme.it.admin", 100, 403),
    ("acme.user", 101, 200),
    ("acme.user", 100, 403),
    ("globex.admin", 100, 403),
    ("mta", 100, 403),
];

async fn applications_are_for_members_of_the_customer(app: TestApp) {
    for (user, group, expected) in MEMBER_REACH {
        let (status, body) = app.get_as(user, &format!("/v1/customers/{group}/applications")).await;
        assert_eq!(status, expected, "{user} on {group}: {body}");
        if expected != 200 {
            error_paths(&body);
        }
    }

    let (_, acme) = app.get_as("acme.admin", "/v1/customers/100/applications").await;
    let hub = &acme["hub"];
    assert_eq!((&hub["application"], &hub["enabled"]), (&json!("hub"), &json!(true)));
    assert_eq!(hub["settings"]["region"], "eu-west-1");
    let workspaces: Vec<&str> = hub["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(workspaces, ["ws-acme-main", "ws-acme-loyalty"]);
    assert_eq!(
        hub["workspaces"][0]["nodes"],
        json!([{"id": "node-acme-web", "name": "Web shop"}, {"id": "node-acme-stores", "name": "Stores"}]),
        "nodes without their counts"
    );
    for other in ["plan", "send"] {
        assert_eq!(acme[other]["application"], other);
        assert!(acme[other].get("workspaces").is_none(), "workspaces are hub's only");
    }

    let (_, globex) = app.get_as("globex.admin", "/v1/customers/200/applications").await;
    assert_eq!(globex["hub"]["workspaces"][0]["id"], "ws-globex");
    assert_eq!((&globex["plan"], &globex["send"]), (&Value::Null, &Value::Null));

    // Acme Italia has no applications of its own.
    let (_, italia) = app.get_as("acme.user", "/v1/customers/101/applications").await;
    assert_eq!(italia, json!({"hub": null, "plan": null, "send": null}));
}

async fn one_application_is_hub_plan_or_send(app: TestApp) {
    let (_, all) = app.get_as("acme.admin", "/v1/customers/100/applications").await;
    for name in ["hub", "plan", "send"] {
        let (status, one) = app.get_as("acme.admin", &format!("/v1/customers/100/applications/{name}")).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(one, all[name]);
    }
    for (user, path) in [
        ("globex.admin", "/v1/customers/200/applications/plan"),
        ("acme.user", "/v1/customers/101/applications/hub"),
    ] {
        let (status, body) = app.get_as(user, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        error_paths(&body);
    }
    for bad in ["flow", "HUB", "hub%20"] {
        let (status, body) = app.get_as("acme.admin", &format!("/v1/customers/100/applications/{bad}")).await;
        assert_eq!((status, error_paths(&body)), (400, vec!["application".to_owned()]), "{bad}");
    }
    assert_eq!(app.get_as("acme.user", "/v1/customers/100/applications/hub").await.0, 403);
    assert_eq!(app.get_as("globex.admin", "/v1/customers/100/applications/hub").await.0, 403);
}

async fn hub_counters_list_nodes_then_their_sources(app: TestApp) {
    let counters = |path: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app.get_as("acme.admin", path).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["type"].as_str().unwrap().to_owned(),
                        c["id"].as_str().unwrap().to_owned(),
                        c["nodeId"].as_str().map(str::to_owned),
                        c["count"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let node = |id: &str, count| ("NODE".to_owned(), id.to_owned(), None, count);
    let source = |id: &str, node: &str, count| ("SOURCE".to_owned(), id.to_owned(), Some(node.to_owned()), count);

    let all = counters("/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters").await;
    assert_eq!(
        all,
        [
            node("node-acme-web", 48_210),
            source("src-acme-shop", "node-acme-web", 39_870),
            source("src-acme-newsletter", "node-acme-web", 8_340),
            node("node-acme-stores", 15_120),
            source("src-acme-pos", "node-acme-stores", 15_120),
        ]
    );
    let stores = counters("/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters?nodes=node-acme-stores").await;
    assert_eq!(stores, all[3..]);
    let both =
        counters("/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters?nodes=node-acme-stores&nodes=node-acme-web").await;
    assert_eq!(both, all, "in the workspace's order");

    let (_, body) = app
        .get_as("acme.admin", "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters")
        .await;
    assert_eq!(body["data"][1]["name"], "Online shop");

    let (status, body) = app
        .get_as(
            "acme.admin",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters?nodes=node-acme-web&nodes=node-acme-card",
        )
        .await;
    assert_eq!(
        (status, error_paths(&body)),
        (400, vec!["nodes".to_owned()]),
        "a node of another workspace"
    );

    for (user, path, expected) in [
        (
            "acme.admin",
            "/v1/customers/100/applications/hub/workspaces/ws-unknown/counters",
            404,
        ),
        (
            "acme.admin",
            "/v1/customers/100/applications/hub/workspaces/ws-globex/counters",
            404,
        ),
        (
            "acme.user",
            "/v1/customers/101/applications/hub/workspaces/ws-acme-main/counters",
            404,
        ),
        (
            "globex.admin",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters",
            403,
        ),
        (
            "acme.user",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters",
            403,
        ),
        ("care", "/v1/customers/200/applications/hub/workspaces/ws-globex/counters", 200),
        (
            "dkimops",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-loyalty/counters",
            200,
        ),
    ] {
        let (status, body) = app.get_as(user, path).await;
        assert_eq!(status, expected, "{user} {path}: {body}");
        if expected != 200 {
            error_paths(&body);
        }
    }
    let (status, body) = app
        .get_as("acme.admin", "/v1/customers/x/applications/hub/workspaces/ws-acme-main/counters")
        .await;
    assert_eq!((status, error_paths(&body)), (400, vec!["groupPk".to_owned()]));
}
