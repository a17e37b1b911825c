//! The `options` function: the option lists clients choose from, and the meta
//! operations (the served contract, health).

mod contract;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use shared::app::{AppState, wiring};
use shared::domain::catalogue::{Catalogue, Country, FormatOptions, Language, Site};
use shared::error::AppResult;
use shared::http::cache::cached_json;
use shared::http::caller::Caller;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/options/user-preferences", get(get_user_preference_options))
        .route("/v1/options/customer-preferences", get(get_customer_preference_options))
        .route("/v1/options/sites", get(get_sites))
        .route("/v1/options/applications", get(list_platform_applications))
        .route("/v1/options/network-sites", get(list_network_sites))
        .route("/v1/options/social-sites", get(list_social_sites))
        .route("/v1/options/app-roles", get(get_app_roles))
        .route("/v1/openapi.json", get(get_open_api))
        .route("/v1/health", get(get_health))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserPreferenceOptions<'a> {
    timezones: &'a [String],
    week_begin: &'a [String],
    languages: &'a [Language],
    number_format: &'a FormatOptions,
    date_format: &'a FormatOptions,
    hour_format: &'a FormatOptions,
}

async fn get_user_preference_options(headers: HeaderMap) -> AppResult<Response> {
    let catalogue = Catalogue::get();
    cached_json(
        &headers,
        &UserPreferenceOptions {
            timezones: &catalogue.timezones,
            week_begin: &catalogue.week_begin,
            languages: &catalogue.languages,
            number_format: &catalogue.number_format,
            date_format: &catalogue.date_format,
            hour_format: &catalogue.hour_format,
        },
    )
}

#[derive(Serialize)]
struct CustomerPreferenceOptions<'a> {
    countries: &'a [Country],
}

async fn get_customer_preference_options(headers: HeaderMap) -> AppResult<Response> {
    cached_json(
        &headers,
        &CustomerPreferenceOptions {
            countries: &Catalogue::get().countries,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sites<'a> {
    applications: &'a [Site],
    network_sites: &'a [Site],
    social_sites: &'a [Site],
}

async fn get_sites(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let catalogue = Catalogue::get();
    cached_json(
        &headers,
        &Sites {
            applications: catalogue.applications(state.stage),
            network_sites: &catalogue.network_sites,
            social_sites: &catalogue.social_sites,
        },
    )
}

async fn list_platform_applications(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    cached_json(&headers, &Catalogue::get().applications(state.stage))
}

async fn list_network_sites(headers: HeaderMap) -> AppResult<Response> {
    cached_json(&headers, &Catalogue::get().network_sites)
}

async fn list_social_sites(headers: HeaderMap) -> AppResult<Response> {
    cached_json(&headers, &Catalogue::get().social_sites)
}

async fn get_app_roles(_caller: Caller, headers: HeaderMap) -> AppResult<Response> {
    cached_json(&headers, &Catalogue::get().app_roles)
}

async fn get_open_api(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], contract::served(state.stage)).into_response()
}

/// The health answer: `{"checks":{"store":...},"status":...}`, the store's state both times.
#[derive(Serialize)]
struct Health {
    checks: HealthChecks,
    status: &'static str,
}

#[derive(Serialize)]
struct HealthChecks {
    store: &'static str,
}

impl Health {
    fn of_store(state: &'static str) -> Json<Self> {
        Json(Self {
            checks: HealthChecks { store: state },
            status: state,
        })
    }
}

async fn get_health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Health::of_store("UP").into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                Health::of_store("DOWN"),
            )
                .into_response()
        }
    }
}
