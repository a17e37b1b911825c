#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<{ accountcentral_provisioning::WIRING }>(accountcentral_provisioning::routes()).await
}
