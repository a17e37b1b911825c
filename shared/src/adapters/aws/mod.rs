//! The production adapters: DynamoDB, SQS, KMS and SNS.

pub mod dynamodb;
pub mod key_vault;
pub mod permissions;
pub mod sns;
pub mod sqs;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;

/// Loads the AWS configuration through the SDK's default chain (environment, profiles,
/// SSO, web identity, instance metadata): for the local stand-in and the operator's
/// commands, run wherever a developer's credentials are.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The configuration a Lambda function runs with: region and credentials from the
/// variables Lambda sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) and, for emulators, `AWS_ENDPOINT_URL`. Unlike the default chain
/// it reads no file and asks no other service, and links no STS or SSO client: a
/// function starts sooner and its binary is smaller.
pub fn environment_config() -> Result<SdkConfig, String> {
    let region = std::env::var("AWS_REGION").map_err(|_| "AWS_REGION is not set".to_owned())?;
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()));
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}
