#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_options::WIRING }>(accountcentral_options::routes()).await
}
