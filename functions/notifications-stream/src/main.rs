#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run_streaming::<{ accountcentral_notifications_stream::WIRING }>(accountcentral_notifications_stream::routes()).await
}
