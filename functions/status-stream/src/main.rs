#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run_streaming::<{ accountcentral_status_stream::WIRING }>(accountcentral_status_stream::routes()).await
}
