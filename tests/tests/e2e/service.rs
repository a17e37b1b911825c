//! The service group: what other platform services ask about the caller.

use accountcentral_e2e::{TestApp, error_paths, on_both_backends};

on_both_backends!(
    basic_info_carries_roles_and_preferences,
    platform_view_lists_groups_workspaces_and_nodes,
    customer_checks_follow_associations,
);

async fn basic_info_carries_roles_and_preferences(app: TestApp) {
    let (status, user) = app.get_as("acme.it.admin", "/v1/service/user").await;
    assert_eq!(status, 200);
    assert_eq!(user["userPk"], 11);
    assert_eq!(user["username"], "acme.it.admin");
    assert_eq!(user["creationGroupPk"], 101);
    assert_eq!(user["creationGroupName"], "Acme Italia");
    assert_eq!(user["roles"]["accountcentral"], serde_json::json!(["ADMIN"]));
    assert_eq!(user["lang"], "it");
    assert_eq!(user["timezone"], "Europe/Rome");
    assert!(user.get("platform").is_none(), "platform only with expand");

    let (_, mta) = app.get_as("mta", "/v1/service/user").await;
    assert_eq!(mta["roles"]["accountcentral"], serde_json::json!(["SERVICE"]));
}

async fn platform_view_lists_groups_workspaces_and_nodes(app: TestApp) {
    let (status, info) = app.get_as("acme.admin", "/v1/service/user-info?expand=platform").await;
    assert_eq!(status, 200);
    assert_eq!(
        info["platform"]["groups"],
        serde_json::json!([{"groupPk": 100, "groupName": "Acme Group"}])
    );
    let workspaces = info["platform"]["workspaces"].as_array().unwrap();
    assert!(workspaces.iter().all(|w| w["groupPk"] == 100));
    assert!(workspaces.iter().any(|w| w["id"] == "ws-acme-main"));
    let nodes = info["platform"]["nodes"].as_array().unwrap();
    assert!(
        nodes
            .iter()
            .any(|n| n["id"] == "node-acme-web" && n["workspaceId"] == "ws-acme-main")
    );

    let (_, globex) = app.get_as("globex.admin", "/v1/service/user-info?expand=platform").await;
    assert!(
        globex["platform"]["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["groupPk"] == 200),
        "no cross-tenant data"
    );

    let (status, plain) = app.get_as("acme.admin", "/v1/service/user-info").await;
    assert_eq!(status, 200);
    assert!(plain.get("platform").is_none());

    let (status, body) = app.get_as("acme.admin", "/v1/service/user-info?expand=everything").await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&body), ["expand"]);
}

async fn customer_checks_follow_associations(app: TestApp) {
    let (status, customers) = app.get_as("acme.user", "/v1/service/customers").await;
    assert_eq!(status, 200);
    assert_eq!(
        customers,
        serde_json::json!([{"groupPk": 101, "groupName": "Acme Italia", "status": "ACTIVE", "chatEnabled": false}])
    );

    // (user, customer, expected): associated with the customer or an ancestor → 200; else 403, existing or not.
    let cases = [
        ("acme.user", 101, 200),
        ("acme.user", 100, 403),
        ("acme.user", 102, 403),
        ("acme.admin", 101, 200),
        ("acme.admin", 102, 200),
        ("acme.admin", 200, 403),
        ("globex.admin", 101, 403),
        ("globex.admin", 200, 200),
        ("acme.admin", 999, 403),
    ];
    for (user, group, expected) in cases {
        let (status, body) = app.get_as(user, &format!("/v1/service/customers/{group}")).await;
        assert_eq!(status, expected, "{user} on {group}: {body}");
        if expected == 200 {
            assert_eq!(body["groupPk"], group);
        } else {
            error_paths(&body);
        }
    }
    let (status, body) = app.get_as("acme.user", "/v1/service/customers/abc").await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&body), ["groupPk"]);
}
