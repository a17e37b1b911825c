//! The warm function's keys. Which key signs for a customer or a recipient domain is
//! read from the store at most once per `ttl`, so a key update, deactivation or deletion
//! takes effect within that time. Decrypted, parsed keys are kept by their identity and
//! version, so the hot path makes no key-vault call and no key parse, a changed key is
//! never used stale, and keys already here keep signing while the key vault is down; a
//! key the store no longer lists as one that signs leaves memory within
//! [`OPENED_KEY_AGE`]. Every table is bounded ([`LIMITS`]), and each entry is read or
//! opened once however many requests miss it at once.

use std::sync::Arc;
use std::time::Duration;

use dkim_engine::sign::SigningKey;
use jiff::{SignedDuration, Timestamp};
use shared::app::AppState;
use shared::domain::access::Target;
use shared::domain::customer::Customer;
use shared::domain::dkim::records::{Fbl, StoredKey, customer_key_context, fbl_key_context, platform_key_context};
use shared::domain::ids::{DkimId, GroupPk};
use shared::error::{AppError, AppResult};
use shared::http::caller::Subject;
use shared::ports::key_vault::EncryptionContext;
use shared::repositories::customers::Customers;
use shared::repositories::dkims::{CustomerKeys, Dkims};

use crate::bounded::Bounded;

/// How long what the store says is trusted, at most.
pub const MAX_TTL: Duration = Duration::from_secs(30);
const DEFAULT_TTL: Duration = Duration::from_secs(15);

/// What identifies a key's plaintext: the encryption context of its envelope and the
/// version of the item it was read from.
type KeyId = Arc<(EncryptionContext, u64)>;

/// A stored key with what identifies its plaintext.
#[derive(Debug, Clone)]
pub struct SealedKey {
    pub key: StoredKey,
    id: KeyId,
}

impl SealedKey {
    fn new(key: StoredKey, context: EncryptionContext, version: u64) -> Self {
        Self {
            key,
            id: Arc::new((context, version)),
        }
    }
}

/// What the store says about a customer and its keys; no customer when it does not exist.
#[derive(Debug, Default)]
pub struct CustomerDirectory {
    pub customer: Option<Customer>,
    pub keys: CustomerKeys,
}

impl CustomerDirectory {
    /// The sealed key of customer key `id` (as selected from `keys`).
    pub fn sealed(&self, group: GroupPk, id: DkimId) -> Option<SealedKey> {
        self.keys
            .get(id)
            .map(|key| SealedKey::new(key.value.key.clone(), customer_key_context(group, id), key.version))
    }
}

/// An FBL with its sealed key.
#[derive(Debug, Clone)]
pub struct FblEntry {
    pub fbl: Fbl,
    pub sealed: SealedKey,
}

/// Customer `g` as the cache knows it, for [`Caller::require`]: the signing path
/// decides `service(g)` without a store read per request.
pub struct CachedCustomer<'a> {
    pub keys: &'a KeyCache,
    pub group: GroupPk,
}

impl Subject for CachedCustomer<'_> {
    type Reached = Arc<CustomerDirectory>;

    async fn load(self, state: &AppState) -> AppResult<Option<Arc<CustomerDirectory>>> {
        let directory = self.keys.customer(state, self.group).await?;
        Ok(directory.customer.is_some().then_some(directory))
    }

    fn target(directory: &Arc<CustomerDirectory>) -> Target<'_> {
        directory.customer.as_ref().map_or(Target::Missing, Target::Customer)
    }

    fn describe(&self) -> String {
        format!("customer {}", self.group)
    }
}

/// How many entries each table keeps at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub customers: usize,
    /// Recipient domains, most of them without an FBL: small entries, and a sending
    /// function sees many distinct ones within a TTL.
    pub recipient_domains: usize,
    pub opened_keys: usize,
}

/// The production limits.
pub const LIMITS: Limits = Limits {
    customers: 4_096,
    recipient_domains: 16_384,
    opened_keys: 4_096,
};

/// How long an opened key is kept after the store last listed it as one that signs: a key
/// deleted, deactivated or replaced leaves memory within this time, and a key still in
/// use is confirmed at every directory read, so it is not opened again.
pub const OPENED_KEY_AGE: Duration = Duration::from_secs(300);

/// The cache; one per warm function.
pub struct KeyCache {
    customers: Bounded<GroupPk, Arc<CustomerDirectory>>,
    platform: Bounded<(), Option<Arc<SealedKey>>>,
    fbls: Bounded<String, Option<Arc<FblEntry>>>,
    signers: Bounded<KeyId, Arc<SigningKey>>,
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

impl KeyCache {
    /// A cache trusting the store for `ttl` (at most [`MAX_TTL`]), within `limits`.
    pub fn new(ttl: Duration, limits: Limits) -> Self {
        let ttl = signed(ttl.min(MAX_TTL));
        Self {
            customers: Bounded::new(limits.customers, ttl),
            platform: Bounded::new(1, ttl),
            fbls: Bounded::new(limits.recipient_domains, ttl),
            signers: Bounded::new(limits.opened_keys, signed(OPENED_KEY_AGE)),
        }
    }

    /// A cache with the TTL of `DKIM_DIRECTORY_TTL_SECONDS` (default 15, at most 30) and the [`LIMITS`].
    pub fn from_env() -> Self {
        let ttl = std::env::var("DKIM_DIRECTORY_TTL_SECONDS")
            .ok()
            .and_then(|seconds| seconds.parse().ok())
            .map_or(DEFAULT_TTL, Duration::from_secs);
        Self::new(ttl, LIMITS)
    }

    /// How many opened keys are held at the clock's time (for tests and measurements).
    pub fn opened_keys(&self, state: &AppState) -> usize {
        self.signers.fresh_entries(state.clock.now())
    }

    /// The store lists `sealed` as a key that signs: its opened form, if here, is kept on.
    fn confirm(&self, sealed: &SealedKey, now: Timestamp) {
        self.signers.confirm(&sealed.id, now);
    }

    /// The customer, if it exists, and its keys.
    pub async fn customer(&self, state: &AppState, group: GroupPk) -> AppResult<Arc<CustomerDirectory>> {
        let now = state.clock.now();
        self.customers
            .get_or_try_init(group, now, async {
                let customer = Customers::new(state.store.as_ref()).get(group).await?;
                let keys = if customer.is_some() {
                    Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
                        .customer_keys(group)
                        .await?
                } else {
                    CustomerKeys::default()
                };
                let directory = CustomerDirectory { customer, keys };
                for key in directory.keys.keys.iter().filter(|key| key.value.active) {
                    if let Some(sealed) = directory.sealed(group, key.value.id) {
                        self.confirm(&sealed, now);
                    }
                }
                Ok(Arc::new(directory))
            })
            .await
    }

    /// The platform key, if it is set.
    pub async fn platform(&self, state: &AppState) -> AppResult<Option<Arc<SealedKey>>> {
        let now = state.clock.now();
        self.platform
            .get_or_try_init((), now, async {
                let key = Dkims::new(state.store.as_ref(), state.key_vault.as_ref()).platform_key().await?;
                Ok(key.map(|key| {
                    let sealed = SealedKey::new(key.value.key, platform_key_context(), key.version);
                    self.confirm(&sealed, now);
                    Arc::new(sealed)
                }))
            })
            .await
    }

    /// The FBL of `recipient_domain`, if it has one.
    pub async fn fbl(&self, state: &AppState, recipient_domain: &str) -> AppResult<Option<Arc<FblEntry>>> {
        let now = state.clock.now();
        self.fbls
            .get_or_try_init(recipient_domain.to_owned(), now, async {
                let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
                let Some(found) = dkims.fbl_for_recipient(recipient_domain).await? else {
                    return Ok(None);
                };
                // The index is eventually consistent; the item itself gives the version.
                let Some(fbl) = dkims.fbl(found.id).await? else {
                    return Ok(None);
                };
                let sealed = SealedKey::new(fbl.value.dkim.clone(), fbl_key_context(fbl.value.id), fbl.version);
                self.confirm(&sealed, now);
                Ok(Some(Arc::new(FblEntry { sealed, fbl: fbl.value })))
            })
            .await
    }

    /// The ready-to-sign key of `sealed`: from the cache when this version was opened
    /// before, else opened through the key vault and parsed once, however many requests
    /// ask for it meanwhile.
    pub async fn signer(&self, state: &AppState, sealed: &SealedKey) -> AppResult<Arc<SigningKey>> {
        self.signers
            .get_or_try_init(sealed.id.clone(), state.clock.now(), async {
                let plaintext = state.key_vault.open(&sealed.key.private_key, &sealed.id.0).await?;
                let signer = SigningKey::from_pkcs8(shared::domain::secret::ExposeSecret::expose_secret(&plaintext))
                    .map_err(|error| AppError::internal(format!("a stored key does not parse: {error}")))?;
                Ok(Arc::new(signer))
            })
            .await
    }
}
