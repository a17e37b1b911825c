//! The warm function's keys. Which key signs for a customer or a recipient domain is
//! read from the store at most once per `ttl`, so a key update, deactivation or deletion
//! takes effect within that time. Decrypted, parsed keys are kept by their identity and
//! version, so the hot path makes no key-vault call and no key parse, a changed key is
//! never used stale, and keys already here keep signing while the key vault is down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dkim_engine::sign::SigningKey;
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

/// How long what the store says is trusted, at most.
pub const MAX_TTL: Duration = Duration::from_secs(30);
const DEFAULT_TTL: Duration = Duration::from_secs(15);

/// A stored key with what identifies its plaintext: the encryption context and the
/// version of the item it was read from.
#[derive(Debug, Clone)]
pub struct SealedKey {
    pub key: StoredKey,
    context: EncryptionContext,
    version: u64,
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
        self.keys.get(id).map(|key| SealedKey {
            key: key.value.key.clone(),
            context: customer_key_context(group, id),
            version: key.version,
        })
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

struct Fresh<T> {
    read_at: Instant,
    value: T,
}

type Table<K, V> = Mutex<HashMap<K, Fresh<V>>>;

/// The cache; one per warm function.
pub struct KeyCache {
    ttl: Duration,
    customers: Table<GroupPk, Arc<CustomerDirectory>>,
    platform: Table<(), Option<Arc<SealedKey>>>,
    fbls: Table<String, Option<Arc<FblEntry>>>,
    signers: Mutex<HashMap<EncryptionContext, (u64, Arc<SigningKey>)>>,
}

/// Locks `mutex`; a panic elsewhere while it was held leaves plain data, still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyCache {
    /// A cache trusting the store for `ttl` (at most [`MAX_TTL`]).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl: ttl.min(MAX_TTL),
            customers: Mutex::default(),
            platform: Mutex::default(),
            fbls: Mutex::default(),
            signers: Mutex::default(),
        }
    }

    /// A cache with the TTL of `DKIM_DIRECTORY_TTL_SECONDS` (default 15, at most 30).
    pub fn from_env() -> Self {
        let ttl = std::env::var("DKIM_DIRECTORY_TTL_SECONDS")
            .ok()
            .and_then(|seconds| seconds.parse().ok())
            .map_or(DEFAULT_TTL, Duration::from_secs);
        Self::new(ttl)
    }

    /// The value under `key` in `table` if read less than a TTL ago, else `read` it anew.
    async fn fresh<K, V, F>(&self, table: &Table<K, V>, key: K, read: F) -> AppResult<V>
    where
        K: std::hash::Hash + Eq,
        V: Clone,
        F: Future<Output = AppResult<V>>,
    {
        if let Some(entry) = lock(table).get(&key).filter(|entry| entry.read_at.elapsed() < self.ttl) {
            return Ok(entry.value.clone());
        }
        let value = read.await?;
        lock(table).insert(
            key,
            Fresh {
                read_at: Instant::now(),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// The customer, if it exists, and its keys.
    pub async fn customer(&self, state: &AppState, group: GroupPk) -> AppResult<Arc<CustomerDirectory>> {
        self.fresh(&self.customers, group, async {
            let customer = Customers::new(state.store.as_ref()).get(group).await?;
            let keys = if customer.is_some() {
                Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
                    .customer_keys(group)
                    .await?
            } else {
                CustomerKeys::default()
            };
            Ok(Arc::new(CustomerDirectory { customer, keys }))
        })
        .await
    }

    /// The platform key, if it is set.
    pub async fn platform(&self, state: &AppState) -> AppResult<Option<Arc<SealedKey>>> {
        self.fresh(&self.platform, (), async {
            Ok(Dkims::new(state.store.as_ref(), state.key_vault.as_ref())
                .platform_key()
                .await?
                .map(|key| {
                    Arc::new(SealedKey {
                        key: key.value.key,
                        context: platform_key_context(),
                        version: key.version,
                    })
                }))
        })
        .await
    }

    /// The FBL of `recipient_domain`, if it has one.
    pub async fn fbl(&self, state: &AppState, recipient_domain: &str) -> AppResult<Option<Arc<FblEntry>>> {
        self.fresh(&self.fbls, recipient_domain.to_owned(), async {
            let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
            let Some(found) = dkims.fbl_for_recipient(recipient_domain).await? else {
                return Ok(None);
            };
            // The index is eventually consistent; the item itself gives the version.
            let Some(fbl) = dkims.fbl(found.id).await? else {
                return Ok(None);
            };
            Ok(Some(Arc::new(FblEntry {
                sealed: SealedKey {
                    key: fbl.value.dkim.clone(),
                    context: fbl_key_context(fbl.value.id),
                    version: fbl.version,
                },
                fbl: fbl.value,
            })))
        })
        .await
    }

    /// The ready-to-sign key of `sealed`: from the cache when this version was opened
    /// before, else opened through the key vault and parsed once.
    pub async fn signer(&self, state: &AppState, sealed: &SealedKey) -> AppResult<Arc<SigningKey>> {
        if let Some((version, signer)) = lock(&self.signers).get(&sealed.context)
            && *version == sealed.version
        {
            return Ok(signer.clone());
        }
        let plaintext = state.key_vault.open(&sealed.key.private_key, &sealed.context).await?;
        let signer = Arc::new(
            SigningKey::from_pkcs8(shared::domain::secret::ExposeSecret::expose_secret(&plaintext))
                .map_err(|error| AppError::internal(format!("a stored key does not parse: {error}")))?,
        );
        lock(&self.signers).insert(sealed.context.clone(), (sealed.version, signer.clone()));
        Ok(signer)
    }
}
