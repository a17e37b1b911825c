//! The provisioning worker: runs the job a message names, one action at a time, in
//! order. Each action is recorded RUNNING, then DONE in the same transaction as its
//! effects, or FAILED with the reason, which ends the job FAILED and releases its
//! customer (a new job plans again from what is left and retries). A job received
//! again skips its DONE actions, so nothing finished is ever repeated.

mod deactivation;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use shared::actions::notifications::dispatch;
use shared::api::provisioning::JobMessage;
use shared::app::{AppState, Queues, wiring};
use shared::consumer::{Consumer, QueueMessage, enqueue};
use shared::domain::provisioning::{Action, ActionType, Job, JobStatus, deactivation_notice};
use shared::error::AppError;
use shared::ports::queue::MessageQueue;
use shared::ports::store::MAX_TRANSACTION_OPS;
use shared::repositories::Versioned;
use shared::repositories::customers::Customers;
use shared::repositories::notifications::Notifications;
use shared::repositories::provisioning::{Jobs, ProgressFailure, StoredJob};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::QUEUES;

/// How long one run works before it hands the rest of the job to a new message, well
/// within the function's time limit (15 minutes) whatever the size of the subtree.
pub const RUN_BUDGET: Duration = Duration::from_secs(600);
/// Receives of a message before the queue dead-letters it (the queues' redrive policy):
/// on the last one, a failure that might pass later is recorded rather than retried.
const MAX_RECEIVES: u32 = 5;
/// Tries of an action whose targets change under it before it fails.
const ATTEMPTS: u32 = 3;
/// The writes one action may make: a transaction, less the action's own record.
pub(crate) const STEP_BUDGET: usize = MAX_TRANSACTION_OPS - 1;

/// The consumer of the provisioning queue.
pub struct ProvisioningWorker;

#[async_trait]
impl Consumer for ProvisioningWorker {
    fn queue(&self, queues: &Queues) -> Arc<dyn MessageQueue> {
        queues.provisioning.clone()
    }

    async fn consume(&self, state: &AppState, message: &QueueMessage) -> Result<(), AppError> {
        let JobMessage { job_id } =
            serde_json::from_str(&message.body).map_err(|e| AppError::internal(format!("unreadable provisioning message: {e}")))?;
        let tracing_id = message.tracing_id.as_deref().unwrap_or(&message.id);
        run_job(state, &job_id, tracing_id, message.receive_count >= MAX_RECEIVES, RUN_BUDGET).await
    }
}

/// What an action came to.
enum Performed {
    Action(Versioned<Action>),
    /// The plan, with the job that records it and the actions it added.
    Plan {
        job: Versioned<Job>,
        plan: Versioned<Action>,
        added: Vec<Versioned<Action>>,
    },
}

/// Runs (or goes on with) job `id`, queued under `tracing_id`. An error leaves the
/// message on the queue: the job is picked up again where it stands. On the message's
/// `last_receive`, a failure that might have passed later fails the job instead. Once
/// the run has worked for `budget`, it queues the rest of the job after the action it
/// did last.
pub async fn run_job(state: &AppState, id: &str, tracing_id: &str, last_receive: bool, budget: Duration) -> Result<(), AppError> {
    let jobs = Jobs::new(state.store.as_ref());
    let Some(StoredJob { mut job, mut actions, .. }) = jobs.get(id).await? else {
        tracing::warn!(job_id = id, "no such job: it was withdrawn when its queueing failed");
        return Ok(());
    };
    if job.value.status.is_finished() {
        return Ok(());
    }
    if job.value.status == JobStatus::New {
        job = jobs.update(&job, &job.value.started(state.clock.now()), None).await?;
    }
    let began = Instant::now();
    let mut performed = false;
    let mut index = 0;
    while let Some(action) = actions.get(index).cloned() {
        if !action.value.is_done() {
            if performed && began.elapsed() >= budget {
                enqueue(
                    state.queues.provisioning.as_ref(),
                    &JobMessage { job_id: id.to_owned() },
                    tracing_id,
                )
                .await?;
                return Ok(());
            }
            let running = jobs.update_action(id, &action, &action.value.started(state.clock.now())).await?;
            performed = true;
            match perform(state, &jobs, &job, &running, tracing_id).await {
                Ok(Performed::Action(done)) => actions[index] = done,
                Ok(Performed::Plan { job: planned, plan, added }) => {
                    job = planned;
                    actions[index] = plan;
                    actions.extend(added);
                }
                Err(failure) if retry_later(&failure, last_receive) => return Err(failure.into()),
                Err(failure) => {
                    let now = state.clock.now();
                    tracing::warn!(job_id = id, action = running.value.index, %failure, "the action failed: so does the job");
                    let failed = running.value.failed(failure.to_string(), now);
                    jobs.update(&job, &job.value.ended(JobStatus::Failed, now), Some((&running, &failed)))
                        .await?;
                    return Ok(());
                }
            }
        }
        index += 1;
    }
    jobs.update(&job, &job.value.ended(JobStatus::Completed, state.clock.now()), None)
        .await?;
    Ok(())
}

/// Sends the customer's administrators the deactivation notice, under the notification id
/// the action records first, so that a repeated run sends the same notification. The
/// action, with that id, is returned.
async fn notify_admins(
    state: &AppState,
    jobs: &Jobs<'_>,
    job: &Job,
    action: &Versioned<Action>,
    tracing_id: &str,
) -> Result<Versioned<Action>, ProgressFailure> {
    let store = state.store.as_ref();
    let (action, id) = match action.value.targets.notification {
        Some(id) => (action.clone(), id),
        None => {
            let id = Notifications::new(store).next_id().await?;
            let mut numbered = action.value.clone();
            numbered.targets.notification = Some(id);
            (jobs.update_action(&job.id, action, &numbered).await?, id)
        }
    };
    let steps = jobs.get(&job.id).await?.and_then(|stored| stored.plan).unwrap_or_default();
    let name = Customers::new(store)
        .name(job.group_pk)
        .await?
        .unwrap_or_else(|| format!("customer {}", job.group_pk));
    let notice = deactivation_notice(job.group_pk, &name, &job.id, &steps);
    dispatch(state, id, &notice, tracing_id)
        .await
        .map_err(|error| ProgressFailure::Notification(error.to_string()))?;
    Ok(action)
}

/// Whether a failure is left to the queue to retry rather than recorded: another run at
/// the job always (it goes on where that one stops); a store that failed for the moment,
/// until the message's last receive.
fn retry_later(failure: &ProgressFailure, last_receive: bool) -> bool {
    match failure {
        ProgressFailure::JobChanged(_) => true,
        failure => failure.is_transient() && !last_receive,
    }
}

/// Performs the running action: the plan is recorded with the actions it adds; any
/// other action's effects are applied with its DONE, read again and retried when what
/// it touches changes under it.
async fn perform(
    state: &AppState,
    jobs: &Jobs<'_>,
    job: &Versioned<Job>,
    action: &Versioned<Action>,
    tracing_id: &str,
) -> Result<Performed, ProgressFailure> {
    let now = state.clock.now();
    if action.value.action_type == ActionType::NotifyAdmins {
        let sent = notify_admins(state, jobs, &job.value, action, tracing_id).await?;
        let done = sent.value.done(now);
        return jobs
            .complete_action(&job.value.id, &sent, &done, Vec::new())
            .await
            .map(Performed::Action);
    }
    let done = action.value.done(now);
    if action.value.action_type == ActionType::Plan {
        let steps = deactivation::plan(state, &job.value, now).await?;
        let (planned, added) = job.value.planned(&steps, now);
        let (job, plan, added) = jobs.record_plan(job, &planned, &steps, &added, (action, &done)).await?;
        return Ok(Performed::Plan { job, plan, added });
    }
    let mut attempt = 1;
    loop {
        let effects = deactivation::effects(state, &job.value, &action.value, now).await?;
        match jobs.complete_action(&job.value.id, action, &done, effects).await {
            Err(ProgressFailure::TargetsChanged) if attempt < ATTEMPTS => attempt += 1,
            outcome => return outcome.map(Performed::Action),
        }
    }
}
