#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_dkim::WIRING }>(accountcentral_dkim::routes()).await
}
