#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_news::WIRING }>(accountcentral_news::routes()).await
}
