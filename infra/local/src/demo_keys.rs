//! The demo tenant's DKIM keys (docs/demo-tenant.md, "DKIM keys"): the platform key,
//! Acme Group's two keys and one FBL. Generated at first start, sealed by the key vault,
//! never shipped.

use dkim_engine::Algorithm;
use dkim_engine::key::DkimKeyPair;
use jiff::Timestamp;
use uuid::Uuid;

use shared::domain::ids::GroupPk;
use shared::error::AppError;
use shared::ports::key_vault::{EncryptionContext, KeyVault};
use shared::ports::store::ItemStore;
use shared::repositories::dkims::{
    CustomerDkim, Dkims, Fbl, PlatformDkim, StoredKey, customer_key_context, fbl_key_context, platform_key_context,
};

/// A new key pair for `domain` and `selector`, its private key sealed under `context`.
async fn new_key(
    key_vault: &dyn KeyVault,
    algorithm: Algorithm,
    domain: &str,
    selector: &str,
    context: &EncryptionContext,
) -> Result<StoredKey, AppError> {
    let pair = DkimKeyPair::generate(algorithm).map_err(|error| AppError::Internal(error.to_string()))?;
    Ok(StoredKey {
        domain: domain.into(),
        selector: selector.into(),
        public_key: pair.public_key().p_value().to_owned(),
        algorithm,
        private_key: key_vault.seal(pair.private_pkcs8(), context).await?,
    })
}

/// Writes the demo keys (the store must have none yet).
pub async fn seed(store: &dyn ItemStore, key_vault: &dyn KeyVault, now: Timestamp) -> Result<(), AppError> {
    let dkims = Dkims::new(store);
    let platform = PlatformDkim {
        key: new_key(
            key_vault,
            Algorithm::RsaSha256,
            "mail.platform.test",
            "pf1",
            &platform_key_context(),
        )
        .await?,
        updated_at: now,
    };
    dkims.put_platform_key(&platform, None).await?;

    let acme = GroupPk(100);
    // The first key becomes the customer's default.
    for (algorithm, domain, selector) in [
        (Algorithm::RsaSha256, "acme.test", "s2048"),
        (Algorithm::Ed25519Sha256, "news.acme.test", "ed1"),
    ] {
        let id = dkims.next_id().await?;
        let key = CustomerDkim {
            id,
            group_pk: acme,
            key: new_key(key_vault, algorithm, domain, selector, &customer_key_context(acme, id)).await?,
            active: true,
            created_at: now,
            updated_at: now,
        };
        dkims.create(&key).await?;
    }

    let id = Uuid::new_v4();
    let fbl = Fbl {
        id,
        esp: "platform".into(),
        recipient_domain: "gmail.com".into(),
        signable_headers: ["Feedback-ID", "From", "To", "Subject", "Date"].map(String::from).to_vec(),
        dkim: new_key(key_vault, Algorithm::RsaSha256, "fbl.platform.test", "fbl1", &fbl_key_context(id)).await?,
        created_at: now,
        updated_at: now,
    };
    dkims.create_fbl(&fbl).await
}
