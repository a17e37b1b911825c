#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_capabilities::WIRING }>(accountcentral_capabilities::routes()).await
}
