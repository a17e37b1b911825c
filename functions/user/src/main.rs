#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_user::WIRING }>(accountcentral_user::routes()).await
}
