#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_users::WIRING }>(accountcentral_users::routes()).await
}
