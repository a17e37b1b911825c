#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::consume::<{ accountcentral_notifications_delivery::WIRING }>(accountcentral_notifications_delivery::Delivery).await
}
