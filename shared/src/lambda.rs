//! Running on AWS Lambda: a function's routes behind the HTTP API (buffered) or a
//! Function URL (streamed), and a queue consumer behind an SQS event source.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use axum::Router;
use futures_util::future::LocalBoxFuture;
use lambda_runtime::{LambdaEvent, service_fn};

use crate::app::AppState;
use crate::consumer::{Consumer, QueueMessage, TRACING_ATTRIBUTE, consume_batch};
use crate::http::service::{JSON, application, producing};
use crate::http::sse::EVENT_STREAM;

/// JSON logging at the level Lambda's logging configuration sets (`AWS_LAMBDA_LOG_LEVEL`,
/// INFO when unset or not a level): a level, not a filter expression, so no filter
/// parser is linked.
fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| level.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .without_time()
        .with_target(false)
        .init();
}

/// Builds the state, with the ports `WIRING` names (`app::wiring`), from the environment
/// once per container and serves `routes` through `lambda_http`, buffered (the HTTP API).
pub async fn run<const WIRING: u8>(routes: Router<AppState>) -> Result<(), lambda_http::Error> {
    init_logging();
    let state = AppState::from_env::<WIRING>().await?;
    serve_buffered(routes, state).await
}

// The runtime's loop, the same for every function, compiled once here: called from a
// generic entry point, it would be compiled again into each function's binary (about
// 300 KB of machine code and 6 s of release build apiece) unless it is neither inlined
// nor generic, its future boxed (an `async fn`'s body is compiled where it is awaited).
#[inline(never)]
fn serve_buffered(routes: Router<AppState>, state: AppState) -> LocalBoxFuture<'static, Result<(), lambda_http::Error>> {
    Box::pin(lambda_http::run(application(producing(routes, JSON), state)))
}

/// Serves `routes`, Server-Sent-Events streams, with the ports `WIRING` names and response
/// streaming (a Function URL in `RESPONSE_STREAM` mode).
pub async fn run_streaming<const WIRING: u8>(routes: Router<AppState>) -> Result<(), lambda_http::Error> {
    init_logging();
    let state = AppState::from_env::<WIRING>().await?;
    serve_streaming(routes, state).await
}

#[inline(never)]
fn serve_streaming(routes: Router<AppState>, state: AppState) -> LocalBoxFuture<'static, Result<(), lambda_http::Error>> {
    Box::pin(lambda_http::run_with_streaming_response(application(
        producing(routes, EVENT_STREAM),
        state,
    )))
}

/// Runs `consumer`, with the ports `WIRING` names, on the batches an SQS event source
/// delivers, reporting the messages that failed (`ReportBatchItemFailures`) so that only
/// they are received again.
pub async fn consume<const WIRING: u8>(consumer: impl Consumer) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let state = AppState::from_env::<WIRING>().await?;
    serve_consumer(state, Arc::new(consumer)).await
}

#[inline(never)]
fn serve_consumer(state: AppState, consumer: Arc<dyn Consumer>) -> LocalBoxFuture<'static, Result<(), lambda_runtime::Error>> {
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (state, consumer) = (state.clone(), consumer.clone());
        async move { Ok::<_, lambda_runtime::Error>(consume_event(&state, &consumer, event.payload).await) }
    })))
}

/// Consumes an SQS event's records and names those to be received again.
pub async fn consume_event(state: &AppState, consumer: &Arc<dyn Consumer>, event: SqsEvent) -> SqsBatchResponse {
    let mut unreadable = Vec::new();
    let mut messages = Vec::with_capacity(event.records.len());
    for record in event.records {
        match queue_message(record) {
            Ok(message) => messages.push(message),
            Err(id) => unreadable.push(id),
        }
    }
    let ids: Vec<String> = messages.iter().map(|message| message.id.clone()).collect();
    let succeeded = consume_batch(state, consumer, messages).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .into_iter()
        .filter(|id| !succeeded.contains(id))
        .chain(unreadable)
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// The record as a consumer sees it; a record without a body is reported failed by its id.
fn queue_message(record: SqsMessage) -> Result<QueueMessage, String> {
    let id = record.message_id.unwrap_or_default();
    let Some(body) = record.body else {
        tracing::warn!(message_id = %id, "an SQS record without a body");
        return Err(id);
    };
    Ok(QueueMessage {
        tracing_id: record
            .message_attributes
            .get(TRACING_ATTRIBUTE)
            .and_then(|attribute| attribute.string_value.clone()),
        receive_count: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1),
        id,
        body,
    })
}
