#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::consume::<{ accountcentral_news_import::WIRING }>(accountcentral_news_import::NewsImport).await
}
