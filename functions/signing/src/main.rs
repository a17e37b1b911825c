#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_signing::WIRING }>(accountcentral_signing::routes()).await
}
