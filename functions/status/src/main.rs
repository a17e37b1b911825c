#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_status::WIRING }>(accountcentral_status::routes()).await
}
