#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_customers::WIRING }>(accountcentral_customers::routes()).await
}
