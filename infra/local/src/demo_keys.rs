//! The demo tenant's DKIM keys (docs/demo-tenant.md, "DKIM keys"): the platform key,
//! Acme Group's two keys and one FBL. Generated at first start, sealed by the key vault,
//! never shipped.

use dkim_engine::Algorithm;
use dkim_engine::key::DkimKeyPair;
use jiff::Timestamp;
use uuid::Uuid;

use shared::domain::dkim::records::{KeyMaterial, ValidFbl, ValidKey};
use shared::domain::ids::GroupPk;
use shared::error::AppError;
use shared::ports::key_vault::KeyVault;
use shared::ports::store::ItemStore;
use shared::repositories::dkims::Dkims;

/// The demo key pairs: the platform key, Acme Group's RSA and Ed25519 keys, the FBL key.
pub struct DemoKeys {
    pub platform: DkimKeyPair,
    pub acme_rsa: DkimKeyPair,
    pub acme_ed25519: DkimKeyPair,
    pub fbl: DkimKeyPair,
}

impl DemoKeys {
    /// Fresh key pairs.
    pub fn generate() -> Result<Self, AppError> {
        let generate = |algorithm| DkimKeyPair::generate(algorithm).map_err(AppError::internal);
        Ok(Self {
            platform: generate(Algorithm::RsaSha256)?,
            acme_rsa: generate(Algorithm::RsaSha256)?,
            acme_ed25519: generate(Algorithm::Ed25519Sha256)?,
            fbl: generate(Algorithm::RsaSha256)?,
        })
    }
}

/// `pair` for `domain` and `selector`, to be sealed as the repository stores it.
fn key(pair: DkimKeyPair, domain: &str, selector: &str) -> ValidKey {
    ValidKey {
        domain: domain.into(),
        selector: selector.into(),
        material: KeyMaterial::New(pair),
    }
}

/// Writes the demo keys (the store must have none yet).
pub async fn seed(store: &dyn ItemStore, key_vault: &dyn KeyVault, keys: DemoKeys, now: Timestamp) -> Result<(), AppError> {
    let dkims = Dkims::new(store, key_vault);
    dkims
        .put_platform_key(key(keys.platform, "mail.platform.test", "pf1"), None, now)
        .await?;

    let acme = GroupPk(100);
    // The first key becomes the customer's default.
    for (pair, domain, selector) in [(keys.acme_rsa, "acme.test", "s2048"), (keys.acme_ed25519, "news.acme.test", "ed1")] {
        dkims.create(acme, key(pair, domain, selector), true, now).await?;
    }

    let fbl = ValidFbl {
        esp: "platform".into(),
        recipient_domain: "gmail.com".into(),
        signable_headers: ["Feedback-ID", "From", "To", "Subject", "Date"].map(String::from).to_vec(),
        dkim: key(keys.fbl, "fbl.platform.test", "fbl1"),
    };
    dkims.create_fbl(Uuid::new_v4(), fbl, now).await?;
    Ok(())
}
