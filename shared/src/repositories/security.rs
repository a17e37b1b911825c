//! Security events and the security state they drive: consecutive failed logins,
//! lockouts, and first and last access per application.
//!
//! Events live in a partition of their own per user (`EVENTS#<userPk>`, newest last,
//! expiring after the retention period); failed logins are also indexed by day
//! (GSI1 `FAILED#<yyyy-mm-dd>`), so that a customer's failures over the last days are
//! a few index reads whatever the number of users. The state lives in the user's
//! partition, where loading the account reads it with everything else.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::accounts::{Account, Lock, access_key, failures_key, lock_key};
use super::record::{Transaction, TransactionFailure, delete, from_item, put, to_item};
use crate::domain::ids::UserPk;
use crate::domain::security::{AppAccess, EventFilter, Lockout, SecurityEvent, SecurityEventType, SecurityPolicy};
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

fn events_partition(user: UserPk) -> String {
    format!("EVENTS#{user}")
}

/// Sort keys order events by time; the id (time, then random) keeps each unique.
fn event_sort_key(at: Timestamp, id: &str) -> String {
    format!("{:015}#{id}", at.as_millisecond().max(0))
}

fn failures_partition(day: jiff::civil::Date) -> String {
    format!("FAILED#{day}")
}

/// The write that appends `event` to its user's events, to put in a transaction of the
/// change it records.
pub fn event_write(event: &SecurityEvent, policy: &SecurityPolicy) -> Result<WriteOp, StoreError> {
    let key = Key::new(events_partition(event.user_pk), event_sort_key(event.at, &event.id));
    let mut item = to_item(key, event)?.with_expiry(policy.event_expiry(event.at).as_second());
    if event.event_type == SecurityEventType::LoginFailed {
        let day = jiff::tz::TimeZone::UTC.to_datetime(event.at).date();
        item = item.with_index(
            Index::Gsi1,
            failures_partition(day),
            format!("{:015}#{:012}", event.at.as_millisecond().max(0), event.user_pk.0),
        );
    }
    Ok(put(item, Condition::NotExists))
}

/// One user's failed logins in a period, as the day index lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub count: u64,
    pub last: Timestamp,
}

/// The security repository.
pub struct SecurityLog<'a> {
    store: &'a dyn ItemStore,
    policy: &'a SecurityPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Event,
    State,
}

impl<'a> SecurityLog<'a> {
    /// The repository over `store`, keeping events as long as `policy` says.
    pub fn new(store: &'a dyn ItemStore, policy: &'a SecurityPolicy) -> Self {
        Self { store, policy }
    }

    /// Records events that change nothing else, in one write.
    pub async fn record(&self, events: &[SecurityEvent]) -> Result<(), StoreError> {
        let mut transaction = Transaction::new();
        for event in events {
            transaction.push(Write::Event, event_write(event, self.policy)?);
        }
        self.commit(transaction).await
    }

    /// Records a successful login (in one write): the event, the first and last access to
    /// its application and to any, and the end of the failed-login streak and lockout.
    pub async fn record_login(&self, account: &Account, event: &SecurityEvent) -> Result<(), StoreError> {
        let user = event.user_pk;
        let mut transaction = Transaction::new();
        transaction.push(Write::Event, event_write(event, self.policy)?);
        if let Some(application) = &event.application {
            let access = AppAccess::after_login(account.accesses.get(application).copied(), event.at);
            transaction.push(
                Write::State,
                put(to_item(access_key(user, Some(application)), &access)?, Condition::Always),
            );
        }
        let any = AppAccess::after_login(account.any_access, event.at);
        transaction.push(Write::State, put(to_item(access_key(user, None), &any)?, Condition::Always));
        self.push_reset(&mut transaction, account);
        self.commit(transaction).await
    }

    /// Records a failed login in two writes: the count of consecutive failures goes up
    /// by one atomically (so concurrent failures all count), then the event is stored,
    /// with the lockout it starts when the count reaches the threshold. Of failures racing
    /// to start a lockout, one does (the lockout is conditioned on the one read); the
    /// others are stored as plain failures. Returns the lockout after the failure.
    pub async fn record_failure(&self, account: &Account, event: &SecurityEvent) -> Result<Lockout, StoreError> {
        let user = event.user_pk;
        let consecutive = self.store.increment(&failures_key(user), 1).await?;
        let mut lockout = Lockout {
            consecutive_failures: consecutive,
            locked_until: account.lockout.locked_until,
        };
        let mut transaction = Transaction::new();
        transaction.push(Write::Event, event_write(event, self.policy)?);
        let Some(until) = self.policy.lock_after_failure(consecutive, &account.lockout, event.at) else {
            self.commit(transaction).await?;
            return Ok(lockout);
        };
        let (condition, version) = match account.lock_version {
            None => (Condition::NotExists, 1),
            Some(version) => (Condition::VersionIs(version), version + 1),
        };
        let lock = to_item(lock_key(user), &Lock { locked_until: until })?.with_version(version);
        transaction.push(Write::State, put(lock, condition));
        let locked = SecurityEvent {
            application: event.application.clone(),
            ..SecurityEvent::new(user, SecurityEventType::LockedOut, event.at, None)
        };
        transaction.push(Write::Event, event_write(&locked, self.policy)?);
        match transaction.commit(self.store).await {
            Ok(()) => {
                lockout.locked_until = Some(until);
                Ok(lockout)
            }
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::State) => {
                let mut transaction = Transaction::new();
                transaction.push(Write::Event, event_write(event, self.policy)?);
                self.commit(transaction).await?;
                Ok(lockout)
            }
            Err(failure) => Err(Self::failure(failure)),
        }
    }

    /// Ends the user's failed-login streak and lockout, recording `event` (UNLOCKED) with it.
    pub async fn unlock(&self, account: &Account, event: &SecurityEvent) -> Result<(), StoreError> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Event, event_write(event, self.policy)?);
        self.push_reset(&mut transaction, account);
        self.commit(transaction).await
    }

    /// Resets the streak unconditionally (a failure racing with it counts from zero) and
    /// lifts the lockout.
    fn push_reset(&self, transaction: &mut Transaction<Write>, account: &Account) {
        let user = account.user.value.user_pk;
        if account.lockout.consecutive_failures > 0 {
            let zero = Item::new(failures_key(user), serde_json::Map::new()).with_version(0);
            transaction.push(Write::State, put(zero, Condition::Always));
        }
        if account.lockout.locked_until.is_some() {
            transaction.push(Write::State, delete(lock_key(user), Condition::Always));
        }
    }

    async fn commit(&self, transaction: Transaction<Write>) -> Result<(), StoreError> {
        transaction.commit(self.store).await.map_err(Self::failure)
    }

    fn failure(failure: TransactionFailure<Write>) -> StoreError {
        match failure {
            // Event ids are random: a clash means a duplicate write of the same event.
            TransactionFailure::Conditions(failed) => StoreError::Invalid(format!("security event written twice ({failed:?})")),
            TransactionFailure::Store(error) => error,
        }
    }

    /// The user's events matching `filter`, newest first: one page (from `offset`, at most
    /// `size`) and how many match in all.
    pub async fn list(
        &self,
        user: UserPk,
        filter: &EventFilter,
        offset: usize,
        size: usize,
    ) -> Result<(Vec<SecurityEvent>, u64), StoreError> {
        let from = filter.from.map_or(0, |t| t.as_millisecond().max(0));
        let to = filter.to.map_or(i64::from(i32::MAX) * 1_000_000, |t| t.as_millisecond().max(0));
        let query = Query::partition(events_partition(user))
            .between(format!("{from:015}#"), format!("{to:015}#~"))
            .backward();
        let mut matching = Vec::new();
        for item in query_all(self.store, &query).await? {
            let event: SecurityEvent = from_item(&item)?;
            if filter.admits(&event) {
                matching.push(event);
            }
        }
        let total = matching.len() as u64;
        Ok((matching.into_iter().skip(offset).take(size).collect(), total))
    }

    /// Every user's failed logins from `since` to `until`, read from the day index.
    pub async fn failures_between(&self, since: Timestamp, until: Timestamp) -> Result<BTreeMap<UserPk, Failures>, StoreError> {
        let utc = jiff::tz::TimeZone::UTC;
        let (first, last) = (utc.to_datetime(since).date(), utc.to_datetime(until).date());
        let mut failures: BTreeMap<UserPk, Failures> = BTreeMap::new();
        let mut day = first;
        while day <= last {
            let query = Query::index(Index::Gsi1, failures_partition(day)).between(
                format!("{:015}#", since.as_millisecond().max(0)),
                format!("{:015}#~", until.as_millisecond().max(0)),
            );
            for item in query_all(self.store, &query).await? {
                let event: SecurityEvent = from_item(&item)?;
                failures
                    .entry(event.user_pk)
                    .and_modify(|f| {
                        f.count += 1;
                        f.last = f.last.max(event.at);
                    })
                    .or_insert(Failures { count: 1, last: event.at });
            }
            day = day.tomorrow().map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        Ok(failures)
    }
}
