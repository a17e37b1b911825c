#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::consume::<{ accountcentral_provisioning_worker::WIRING }>(accountcentral_provisioning_worker::ProvisioningWorker).await
}
