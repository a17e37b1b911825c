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

/// A new key pair for `domain` and `selector`, to be sealed as the repository stores it.
fn new_key(algorithm: Algorithm, domain: &str, selector: &str) -> Result<ValidKey, AppError> {
    Ok(ValidKey {
        domain: domain.into(),
        selector: selector.into(),
        material: KeyMaterial::New(DkimKeyPair::generate(algorithm).map_err(AppError::internal)?),
    })
}

/// Writes the demo keys (the store must have none yet).
pub async fn seed(store: &dyn ItemStore, key_vault: &dyn KeyVault, now: Timestamp) -> Result<(), AppError> {
    let dkims = Dkims::new(store, key_vault);
    dkims
        .put_platform_key(new_key(Algorithm::RsaSha256, "mail.platform.test", "pf1")?, None, now)
        .await?;

    let acme = GroupPk(100);
    // The first key becomes the customer's default.
    for (algorithm, domain, selector) in [
        (Algorithm::RsaSha256, "acme.test", "s2048"),
        (Algorithm::Ed25519Sha256, "news.acme.test", "ed1"),
    ] {
        dkims.create(acme, new_key(algorithm, domain, selector)?, true, now).await?;
    }

    let fbl = ValidFbl {
        esp: "platform".into(),
        recipient_domain: "gmail.com".into(),
        signable_headers: ["Feedback-ID", "From", "To", "Subject", "Date"].map(String::from).to_vec(),
        dkim: new_key(Algorithm::RsaSha256, "fbl.platform.test", "fbl1")?,
    };
    dkims.create_fbl(Uuid::new_v4(), fbl, now).await?;
    Ok(())
}
