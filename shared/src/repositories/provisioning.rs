//! Provisioning jobs, their actions and their plans.
//!
//! A job lives in a partition of its own, `PROVISIONING#<id>`: the job (`JOB`, with
//! index entries GSI1 `JOBS#<groupPk>` and GSI3 `JOBS`, both sorted by creation time, so
//! that listings read newest first), its actions (`ACTION#<index>`) and its plan's steps
//! (`STEP#<index>`). A customer's unfinished job holds `PROVISIONING_LOCK#<groupPk>` /
//! `LOCK`, taken with the job in one conditional transaction and released with the
//! transaction that ends it: a second job on the customer meanwhile is refused.
//!
//! Every change of a job or an action is conditioned on the version it was read at.
//! The effects of an action (what it does to accounts, keys and customers) are applied
//! in the same transaction that marks it DONE, so that an action is done exactly when
//! its effects are.

use serde::{Deserialize, Serialize};

use super::record::{Transaction, TransactionFailure, delete, from_item, merge_counters, put, to_item, transact, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::ids::GroupPk;
use crate::domain::provisioning::{Action, Job, Step};
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, MAX_TRANSACTION_OPS, Query, StoreError, WriteOp, query_all};

const JOB: &str = "JOB";
const ACTION: &str = "ACTION#";
const STEP: &str = "STEP#";
/// GSI3 partition of every job.
const ALL_JOBS: &str = "JOBS";

fn partition(id: &str) -> String {
    format!("PROVISIONING#{id}")
}

fn job_key(id: &str) -> Key {
    Key::new(partition(id), JOB)
}

fn action_key(id: &str, index: u32) -> Key {
    Key::new(partition(id), format!("{ACTION}{index:06}"))
}

fn step_key(id: &str, index: u32) -> Key {
    Key::new(partition(id), format!("{STEP}{index:06}"))
}

fn lock_key(group: GroupPk) -> Key {
    Key::new(format!("PROVISIONING_LOCK#{group}"), "LOCK")
}

fn customer_jobs(group: GroupPk) -> String {
    format!("JOBS#{group}")
}

/// The job's item, in its customer's jobs and among all jobs, newest last.
fn job_item(job: &Job) -> Result<Item, StoreError> {
    let order = format!("{:015}#{}", job.created_at.as_millisecond().max(0), job.id);
    Ok(to_item(job_key(&job.id), job)?
        .with_index(Index::Gsi1, customer_jobs(job.group_pk), order.clone())
        .with_index(Index::Gsi3, ALL_JOBS, order))
}

/// Whose the customer's lock is.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    job_id: String,
}

/// A job as read: the job, its actions in order and, once made, its plan.
#[derive(Debug, Clone)]
pub struct StoredJob {
    pub job: Versioned<Job>,
    pub actions: Vec<Versioned<Action>>,
    pub plan: Option<Vec<Step>>,
}

/// Why a change of a running job was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ProgressFailure {
    /// The job or the action is not as read: another run of the same job got there first.
    #[error("job {0} changed meanwhile: another run of it is at work")]
    JobChanged(String),
    /// Something the action touches changed after it was read.
    #[error("what the action touches changed while it ran")]
    TargetsChanged,
    /// The action needs more writes than one transaction takes.
    #[error("the action takes {0} writes, more than one transaction holds ({MAX_TRANSACTION_OPS})")]
    TooManyWrites(usize),
    /// The notification the action sends could not be queued.
    #[error("the notification could not be queued: {0}")]
    Notification(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProgressFailure {
    /// Whether the store failed for the moment (unreachable, or a race lost more often
    /// than retried): trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProgressFailure::Store(StoreError::Unavailable(_) | StoreError::Conflict) | ProgressFailure::Notification(_)
        )
    }
}

/// What each write of a job's transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Lock,
    Job,
    Action,
    Effect,
}

/// The provisioning jobs repository.
pub struct Jobs<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Jobs<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// Stores a new job with its first actions, taking its customer's lock: a customer
    /// with an unfinished job is `Taken`, naming that job.
    pub async fn create(&self, job: &Job, actions: &[Action]) -> Result<(), RepositoryError> {
        let lock = Lock { job_id: job.id.clone() };
        let mut transaction = Transaction::new();
        transaction.push(Write::Lock, put(to_item(lock_key(job.group_pk), &lock)?, Condition::NotExists));
        transaction.push(Write::Job, put(job_item(job)?, Condition::NotExists));
        for action in actions {
            transaction.push(
                Write::Action,
                put(to_item(action_key(&job.id, action.index), action)?, Condition::NotExists),
            );
        }
        match transaction.commit(self.store).await {
            Ok(()) => Ok(()),
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::Lock) => {
                let holder = self.store.get(&lock_key(job.group_pk)).await?;
                let holder = holder.map(|item| from_item::<Lock>(&item)).transpose()?;
                Err(RepositoryError::Taken(format!(
                    "customer {} has an unfinished provisioning job{}; wait until it ends",
                    job.group_pk,
                    holder.map(|lock| format!(" ({})", lock.job_id)).unwrap_or_default()
                )))
            }
            Err(TransactionFailure::Conditions(_)) => Err(RepositoryError::Taken(format!("job {} already exists", job.id))),
            Err(TransactionFailure::Store(error)) => Err(error.into()),
        }
    }

    /// Removes a job that was never queued, with its actions, and releases its customer.
    pub async fn withdraw(&self, job: &Job, actions: &[Action]) -> Result<(), StoreError> {
        let mut ops = vec![
            delete(job_key(&job.id), Condition::Always),
            delete(lock_key(job.group_pk), Condition::Always),
        ];
        ops.extend(
            actions
                .iter()
                .map(|action| delete(action_key(&job.id, action.index), Condition::Always)),
        );
        transact(self.store, ops).await
    }

    /// The job `id` with its actions and plan.
    pub async fn get(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
        let items = query_all(self.store, &Query::partition(partition(id))).await?;
        let Some(job) = items.iter().find(|item| item.key.sk == JOB) else {
            return Ok(None);
        };
        let job: Versioned<Job> = versioned(job)?;
        // Items past the counts are left from a plan that was cut short and made again.
        let mut actions = Vec::new();
        let mut steps = Vec::new();
        for item in &items {
            let index = |prefix: &str| item.key.sk.strip_prefix(prefix).and_then(|n| n.parse::<u32>().ok());
            if let Some(index) = index(ACTION)
                && index < job.value.actions
            {
                actions.push(versioned(item)?);
            } else if let Some(index) = index(STEP)
                && index < job.value.plan_steps.unwrap_or(0)
            {
                steps.push(from_item(item)?);
            }
        }
        let plan = job.value.plan_steps.map(|_| steps);
        Ok(Some(StoredJob { job, actions, plan }))
    }

    /// One page of the jobs, newest first, of customer `group` or of all, and how many there are.
    pub async fn list(&self, group: Option<GroupPk>, offset: usize, size: usize) -> Result<(Vec<StoredJob>, u64), StoreError> {
        let query = match group {
            Some(group) => Query::index(Index::Gsi1, customer_jobs(group)),
            None => Query::index(Index::Gsi3, ALL_JOBS),
        };
        let total = self.store.count(&query).await?;
        if offset as u64 >= total {
            return Ok((Vec::new(), total));
        }
        let mut page = Vec::new();
        for item in query_all(self.store, &query.backward().limit(offset + size))
            .await?
            .iter()
            .skip(offset)
        {
            let job: Job = from_item(item)?;
            // A job withdrawn between the two reads is left out.
            if let Some(stored) = self.get(&job.id).await? {
                page.push(stored);
            }
        }
        Ok((page, total))
    }

    /// Replaces the job read as `before` with `after`; when `after` has ended, releases
    /// its customer and records `failed` (the action that failed) in the same write.
    pub async fn update(
        &self,
        before: &Versioned<Job>,
        after: &Job,
        failed: Option<(&Versioned<Action>, &Action)>,
    ) -> Result<Versioned<Job>, ProgressFailure> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Job, job_write(before, after)?);
        if after.status.is_finished() {
            transaction.push(Write::Lock, delete(lock_key(after.group_pk), Condition::Always));
        }
        if let Some((action, failed)) = failed {
            transaction.push(Write::Action, action_write(&after.id, action, failed)?);
        }
        self.commit(&after.id, transaction).await?;
        Ok(next(before, after))
    }

    /// Replaces the action read as `before` with `after` (its start, or its failure).
    pub async fn update_action(&self, job: &str, before: &Versioned<Action>, after: &Action) -> Result<Versioned<Action>, ProgressFailure> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Action, action_write(job, before, after)?);
        self.commit(job, transaction).await?;
        Ok(next(before, after))
    }

    /// Applies `effects` and marks the action read as `before` as `done`, in one transaction.
    pub async fn complete_action(
        &self,
        job: &str,
        before: &Versioned<Action>,
        done: &Action,
        effects: Vec<WriteOp>,
    ) -> Result<Versioned<Action>, ProgressFailure> {
        let effects = merge_counters(effects);
        if effects.len() + 1 > MAX_TRANSACTION_OPS {
            return Err(ProgressFailure::TooManyWrites(effects.len() + 1));
        }
        let mut transaction = Transaction::new();
        transaction.push(Write::Action, action_write(job, before, done)?);
        for effect in effects {
            transaction.push(Write::Effect, effect);
        }
        self.commit(job, transaction).await?;
        Ok(next(before, done))
    }

    /// Records the plan: its `steps` and the `added` actions, then the job read as `before`
    /// as `planned` and its plan action as `done` in one transaction. The steps and actions
    /// take as many writes as they need; a run cut short before the last write left them
    /// uncounted, and the next run writes them again.
    pub async fn record_plan(
        &self,
        before: &Versioned<Job>,
        planned: &Job,
        steps: &[Step],
        added: &[Action],
        plan: (&Versioned<Action>, &Action),
    ) -> Result<(Versioned<Job>, Versioned<Action>, Vec<Versioned<Action>>), ProgressFailure> {
        let id = &planned.id;
        let mut writes = Vec::with_capacity(steps.len() + added.len());
        for (index, step) in (0..).zip(steps) {
            writes.push(put(to_item(step_key(id, index), step)?, Condition::Always));
        }
        for action in added {
            writes.push(put(to_item(action_key(id, action.index), action)?, Condition::Always));
        }
        for chunk in writes.chunks(MAX_TRANSACTION_OPS) {
            transact(self.store, chunk.to_vec()).await?;
        }
        let mut transaction = Transaction::new();
        transaction.push(Write::Job, job_write(before, planned)?);
        transaction.push(Write::Action, action_write(id, plan.0, plan.1)?);
        self.commit(id, transaction).await?;
        let added = added
            .iter()
            .map(|action| Versioned {
                value: action.clone(),
                version: 1,
            })
            .collect();
        Ok((next(before, planned), next(plan.0, plan.1), added))
    }

    async fn commit(&self, job: &str, transaction: Transaction<Write>) -> Result<(), ProgressFailure> {
        match transaction.commit(self.store).await {
            Ok(()) => Ok(()),
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::Job) || failed.contains(&Write::Action) => {
                Err(ProgressFailure::JobChanged(job.to_owned()))
            }
            Err(TransactionFailure::Conditions(_)) => Err(ProgressFailure::TargetsChanged),
            Err(TransactionFailure::Store(error)) => Err(error.into()),
        }
    }
}

fn job_write(before: &Versioned<Job>, after: &Job) -> Result<WriteOp, StoreError> {
    Ok(put(
        job_item(after)?.with_version(before.version + 1),
        Condition::VersionIs(before.version),
    ))
}

fn action_write(job: &str, before: &Versioned<Action>, after: &Action) -> Result<WriteOp, StoreError> {
    Ok(put(
        to_item(action_key(job, after.index), after)?.with_version(before.version + 1),
        Condition::VersionIs(before.version),
    ))
}

/// `after` at the version a write of it over `before` gives.
fn next<T: Clone>(before: &Versioned<T>, after: &T) -> Versioned<T> {
    Versioned {
        value: after.clone(),
        version: before.version + 1,
    }
}
