//! The `news` function: news imported from the Explora feed, and the request for a new
//! import, which the news import function (`functions/news-import`) runs off the queue.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Serialize;

use shared::api::action::ActionResult;
use shared::app::{AppState, wiring};
use shared::consumer::enqueue;
use shared::domain::access::Access;
use shared::domain::news::{NewsCategory, NewsImportRequest, NewsItem, NewsLanguage, RawNewsQuery};
use shared::error::AppResult;
use shared::http::cache::revalidated_json;
use shared::http::caller::Caller;
use shared::http::extract::QueryParams;
use shared::http::paging::{Page, PageRequest};
use shared::http::service::TracingId;
use shared::repositories::news::News;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::QUEUES;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/news", get(list_news))
        .route("/v1/news/update", post(trigger_news_update))
}

/// A news item as the API spells it (`NewsItem`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewsItemView {
    id: String,
    title: String,
    summary: String,
    link: String,
    image: Option<String>,
    publish_date: Timestamp,
    lang: NewsLanguage,
    categories: Vec<NewsCategory>,
}

impl From<NewsItem> for NewsItemView {
    fn from(item: NewsItem) -> Self {
        Self {
            id: item.id,
            title: item.title,
            summary: item.summary,
            link: item.link,
            image: item.image,
            publish_date: item.published,
            lang: item.lang,
            categories: item.categories,
        }
    }
}

/// The news of one language (`lang`, else the caller's, else English), newest published
/// first, a page at a time, only those having one of the `category` ids when any is given.
async fn list_news(State(state): State<AppState>, caller: Caller, headers: HeaderMap, query: QueryParams) -> AppResult<Response> {
    let request = PageRequest::from_query(&query)?;
    let caller_language = caller.account.preferences.as_ref().map(|p| p.language.as_str());
    let filter = RawNewsQuery {
        categories: query.all("category"),
        lang: query.one("lang")?,
    }
    .validate(caller_language)?;
    let (items, total) = News::new(state.store.as_ref())
        .list(&filter, request.offset(), request.size)
        .await?;
    let page = Page::new(request, total, items.into_iter().map(NewsItemView::from).collect());
    revalidated_json(&headers, &page)
}

/// Queues an import of every language's feed; answers 202 once the queue holds it.
async fn trigger_news_update(
    State(state): State<AppState>,
    caller: Caller,
    Extension(TracingId(tracing_id)): Extension<TracingId>,
) -> AppResult<(StatusCode, Json<ActionResult>)> {
    caller.require(&state, Access::CARE | Access::SERVICE, ()).await?;
    let now = state.clock.now();
    enqueue(
        state.queues.news.as_ref(),
        &NewsImportRequest::new(caller.user_pk(), now),
        &tracing_id,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(ActionResult::ok(now, "NEWS_UPDATE_QUEUED"))))
}
