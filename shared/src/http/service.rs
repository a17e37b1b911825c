//! Wraps a function's routes with the platform's cross-cutting rules: tracing id,
//! CORS, method override, content negotiation, and 404/405 in the error format.
//! The Lambda functions and the local stand-in serve exactly this.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::adapters::metered::count_store_calls;
use crate::app::AppState;
use crate::domain::validation::FieldError;
use crate::error::AppError;

/// The correlation header.
pub const TRACING_ID: HeaderName = HeaderName::from_static("x-tracing-id");
const METHOD_OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");
const MAX_TRACING_ID_LEN: usize = 128;

/// The request's tracing id, for handlers that pass it on (queue messages, downstream calls).
#[derive(Debug, Clone)]
pub struct TracingId(pub String);

/// The media types a router produces, for `Accept` negotiation.
#[derive(Debug, Clone, Copy)]
pub struct Produces(pub &'static [&'static str]);

/// JSON only: every buffered route.
pub const JSON: Produces = Produces(&["application/json"]);

/// `routes`, answering 406 to a request that accepts none of the media types they produce.
pub fn producing(routes: Router<AppState>, produces: Produces) -> Router<AppState> {
    routes.route_layer(middleware::from_fn(move |request, next| negotiate(produces, request, next)))
}

/// The complete HTTP application for `routes` (each set wrapped by [`producing`]).
pub fn application(routes: Router<AppState>, state: AppState) -> Router {
    serve(routes.with_state(state))
}

/// The complete HTTP application for `routes` that hold their state already (each
/// function's its own, as each runs in a Lambda function of its own).
pub fn serve(routes: Router) -> Router {
    let inner = routes
        .fallback(|| async { AppError::NotFound("resource".into()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    // Layers on a router that only has a fallback run before routing, so the
    // method override is seen by the router.
    Router::new()
        .fallback_service(inner)
        .layer(middleware::from_fn(method_override))
        .layer(cors())
        .layer(middleware::from_fn(trace))
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::IF_MATCH,
            TRACING_ID,
            METHOD_OVERRIDE,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([TRACING_ID, header::ETAG, header::RETRY_AFTER, header::LOCATION])
        .max_age(std::time::Duration::from_secs(600))
}

/// A random (version 4) UUID from the thread's generator: a correlation id needs to be
/// unique, not secret, and the system's generator costs a system call per request.
fn new_tracing_id() -> String {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
        .into_uuid()
        .to_string()
}

fn acceptable_tracing_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_TRACING_ID_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Accepts the caller's `X-Tracing-ID` or makes one when there is none, logs every line
/// under it, and returns it. A malformed one is refused (400 naming the header) under a new
/// id, rather than replaced silently: the caller would otherwise look for its id in vain.
async fn trace(mut request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(&TRACING_ID)
        .map(|v| v.to_str().ok().filter(|v| acceptable_tracing_id(v)).map(str::to_owned));
    let malformed = matches!(given, Some(None));
    let tracing_id = given.flatten().unwrap_or_else(new_tracing_id);
    request.extensions_mut().insert(TracingId(tracing_id.clone()));
    let span = tracing::info_span!("request", tracing_id = %tracing_id, method = %request.method(), path = %request.uri().path());
    async move {
        let started = std::time::Instant::now();
        let (mut response, store_calls) = if malformed {
            let refusal = AppError::field(FieldError::header(
                "X-Tracing-ID",
                format!("must be 1 to {MAX_TRACING_ID_LEN} letters, digits, '.', '_', ':' or '-'"),
            ));
            (refusal.into_response(), 0)
        } else {
            count_store_calls(next.run(request)).await
        };
        tracing::info!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            store_calls,
            "answered"
        );
        if let Ok(value) = HeaderValue::from_str(&tracing_id) {
            response.headers_mut().insert(TRACING_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}

/// A POST with `X-HTTP-Method-Override` is handled as the named method.
async fn method_override(mut request: Request, next: Next) -> Response {
    let requested = match request.headers().get(&METHOD_OVERRIDE) {
        Some(value) if request.method() == Method::POST => value.to_str().ok().map(|v| v.trim().to_ascii_uppercase()),
        _ => return next.run(request).await,
    };
    match requested.and_then(|name| Method::from_bytes(name.as_bytes()).ok()) {
        Some(method) if [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(&method) => {
            *request.method_mut() = method;
            next.run(request).await
        }
        _ => AppError::field(FieldError::header("X-HTTP-Method-Override", "must be GET, PUT, PATCH or DELETE")).into_response(),
    }
}

/// Whether an `Accept` header admits one of `produces`.
pub fn accepts(accept: &str, produces: Produces) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
        !refused
            && produces.0.iter().any(|produced| {
                let (kind, _) = produced.split_once('/').unwrap_or((produced, ""));
                media == "*/*" || media == *produced || media == format!("{kind}/*")
            })
    })
}

/// 406 when the client accepts nothing the router produces.
async fn negotiate(produces: Produces, request: Request, next: Next) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !accept.trim().is_empty() && !accepts(accept, produces) {
        return AppError::NotAcceptable(format!("this resource is served as {}", produces.0.join(", "))).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert!(accepts("application/json", JSON));
        assert!(accepts("text/html, application/*;q=0.8", JSON));
        assert!(accepts("*/*", JSON));
        assert!(!accepts("text/html", JSON));
        assert!(!accepts("application/json;q=0", JSON));
        assert!(!accepts("application/xml", JSON));
    }

    #[test]
    fn tracing_ids_are_bounded_tokens() {
        assert!(acceptable_tracing_id("4bf92f3577b34da6-a3ce929d0e0e4736"));
        assert!(!acceptable_tracing_id(""));
        assert!(!acceptable_tracing_id("bad id with spaces"));
        assert!(!acceptable_tracing_id(&"x".repeat(129)));
    }
}
