#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_notifications::WIRING }>(accountcentral_notifications::routes()).await
}
