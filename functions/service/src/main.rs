#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_service::WIRING }>(accountcentral_service::routes()).await
}
