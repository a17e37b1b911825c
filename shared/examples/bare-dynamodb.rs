//! The floor of a function's arm64 artifact, beside bare-lambda's: the same bare function
//! with the one AWS client every function links, DynamoDB over HTTPS, configured as the
//! functions configure it (`adapters::aws::environment_config`) and reading one item per
//! request. What a function's `bootstrap` weighs above this floor is its own code and
//! clients; scripts/measure-lambda-size prints both floors beside the functions' sizes.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let client = Client::new(&shared::adapters::aws::environment_config()?);
    let app = axum::Router::new()
        .fallback(get(|State(client): State<Client>| async move {
            let read = client
                .get_item()
                .table_name("t")
                .key("pk", AttributeValue::S("p".into()))
                .send()
                .await;
            Json(json!({ "found": read.is_ok_and(|output| output.item.is_some()) }))
        }))
        .with_state(client);
    lambda_http::run(app).await
}
