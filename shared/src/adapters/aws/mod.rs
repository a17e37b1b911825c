//! The production adapters: DynamoDB, SQS and KMS.

pub mod dynamodb;
pub mod key_vault;
pub mod sns;
pub mod sqs;

/// Loads the AWS configuration from the environment (region, credentials and,
/// for emulators, `AWS_ENDPOINT_URL`).
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
