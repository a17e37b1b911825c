//! The options group and the meta operations.

use accountcentral_e2e::{TestApp, on_both_backends, read};
use reqwest::Method;
use reqwest::header::{ETAG, IF_NONE_MATCH};

on_both_backends!(
    public_option_lists_need_no_token,
    option_reads_are_cacheable_with_etags,
    app_roles_need_a_token,
    contract_and_health_are_served,
    the_contract_enumerates_the_preference_options,
);

/// The served contract lists exactly the values the preference options offer (and the
/// service accepts), so that a client (or a fuzzer) that believes it sends valid values.
async fn the_contract_enumerates_the_preference_options(app: TestApp) {
    let (status, contract) = read(app.request(Method::GET, "/v1/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, options) = read(app.request(Method::GET, "/v1/options/user-preferences").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let schemas = &contract["components"]["schemas"];
    assert_eq!(schemas["Timezone"]["enum"], options["timezones"]);
    assert_eq!(schemas["UserPreferences"]["properties"]["weekBegin"]["enum"], options["weekBegin"]);
    let languages: Vec<&serde_json::Value> = options["languages"].as_array().unwrap().iter().map(|l| &l["code"]).collect();
    assert_eq!(
        schemas["Language"]["enum"].as_array().unwrap().iter().collect::<Vec<_>>(),
        languages
    );
    for (schema, option) in [
        ("NumberFormat", "numberFormat"),
        ("DateFormat", "dateFormat"),
        ("HourFormat", "hourFormat"),
    ] {
        assert_eq!(
            schemas[schema]["properties"]["pattern"]["enum"], options[option]["patterns"],
            "{schema}"
        );
    }
}

async fn public_option_lists_need_no_token(app: TestApp) {
    let (status, preferences) = read(app.request(Method::GET, "/v1/options/user-preferences").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let timezones: Vec<&str> = preferences["timezones"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(timezones.contains(&"Europe/Rome") && timezones.contains(&"America/New_York"));
    assert!(preferences["languages"].as_array().unwrap().iter().any(|l| l["code"] == "it"));
    assert!(preferences["weekBegin"].as_array().unwrap().iter().any(|w| w == "MONDAY"));
    for format in ["numberFormat", "dateFormat", "hourFormat"] {
        assert!(!preferences[format]["patterns"].as_array().unwrap().is_empty(), "{format}");
    }

    let (status, customer) = read(app.request(Method::GET, "/v1/options/customer-preferences").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        customer["countries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "IT" && c["alpha3"] == "ITA")
    );

    let (status, sites) = read(app.request(Method::GET, "/v1/options/sites").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (_, applications) = read(app.request(Method::GET, "/v1/options/applications").send().await.unwrap()).await;
    assert_eq!(sites["applications"], applications, "sites embeds the same applications");
    // The stand-in runs as the dev stage, which lists the demo client.
    assert!(applications.as_array().unwrap().iter().any(|a| a["id"] == "demo_client"));
    for (path, field) in [
        ("/v1/options/network-sites", "networkSites"),
        ("/v1/options/social-sites", "socialSites"),
    ] {
        let (status, list) = read(app.request(Method::GET, path).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(sites[field], list);
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|s| s["url"].as_str().unwrap().starts_with("https://"))
        );
    }
}

async fn option_reads_are_cacheable_with_etags(app: TestApp) {
    let first = app.request(Method::GET, "/v1/options/user-preferences").send().await.unwrap();
    let etag = first.headers().get(ETAG).expect("an ETag").to_str().unwrap().to_owned();
    let again = app
        .request(Method::GET, "/v1/options/user-preferences")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let stale = app
        .request(Method::GET, "/v1/options/user-preferences")
        .header(IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);
}

async fn app_roles_need_a_token(app: TestApp) {
    let (status, _) = read(app.request(Method::GET, "/v1/options/app-roles").send().await.unwrap()).await;
    assert_eq!(status, 401);
    for user in ["care", "acme.user", "mta"] {
        let (status, roles) = app.get_as(user, "/v1/options/app-roles").await;
        assert_eq!(status, 200, "{user}");
        for application in [
            "accountcentral",
            "hub",
            "mc",
            "cplan",
            "send",
            "content",
            "flow",
            "eddie",
            "demo_client",
        ] {
            assert!(!roles[application].as_array().unwrap().is_empty(), "{application}");
        }
    }
}

async fn contract_and_health_are_served(app: TestApp) {
    let (status, contract) = read(app.request(Method::GET, "/v1/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(contract["info"]["version"], "1.5.0");
    let operations: Vec<&str> = contract["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    assert_eq!(operations.len(), 95);
    assert!(operations.contains(&"getMe") && operations.contains(&"signMessage"));

    let (status, health) = read(app.request(Method::GET, "/v1/health").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "UP");
    assert_eq!(health["checks"]["store"], "UP");
}
