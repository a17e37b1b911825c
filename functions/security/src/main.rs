#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_security::WIRING }>(accountcentral_security::routes()).await
}
