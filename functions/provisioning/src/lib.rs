//! The `provisioning` function: customer care asks for a job on a customer's subtree
//! (`PREPARE_DEACTIVATION`, `DEACTIVATE`) and follows it; the provisioning worker
//! (`functions/provisioning-worker`) runs it off the queue.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Serialize;

use shared::api::provisioning::JobMessage;
use shared::app::{AppState, wiring};
use shared::consumer::enqueue;
use shared::domain::access::Access;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::provisioning::{Action, ActionStatus, ActionType, Job, JobStatus, ProvisioningOperation, RawJobRequest, Step, Targets};
use shared::error::{AppError, AppResult};
use shared::http::accepted;
use shared::http::caller::Caller;
use shared::http::extract::{JobIdPath, JsonBody, QueryParams};
use shared::http::paging::{Page, PageRequest};
use shared::http::service::TracingId;
use shared::repositories::provisioning::{Jobs, StoredJob};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::QUEUES;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/provisioning/jobs", get(list_provisioning_jobs).post(create_provisioning_job))
        .route("/v1/provisioning/jobs/{jobId}", get(get_provisioning_job))
}

/// `ProvisioningJob`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JobView {
    id: String,
    group_pk: GroupPk,
    operation: ProvisioningOperation,
    status: JobStatus,
    created_by: UserPk,
    creation_date: Timestamp,
    update_date: Timestamp,
    actions: Vec<ActionView>,
    /// What DEACTIVATE touches (or would touch), once planned.
    plan: Option<Targets>,
}

/// `ProvisioningAction`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionView {
    #[serde(rename = "type")]
    action_type: ActionType,
    status: ActionStatus,
    targets: Targets,
    message: Option<String>,
    start_date: Option<Timestamp>,
    end_date: Option<Timestamp>,
}

impl JobView {
    /// The job with its actions in order and, once made, its plan's steps.
    fn of<'a>(job: &Job, actions: impl Iterator<Item = &'a Action>, plan: Option<&[Step]>) -> Self {
        let plan = plan.map(|steps| {
            let mut plan = Targets::default();
            steps.iter().for_each(|step| plan.extend(&step.targets));
            plan
        });
        let actions = actions
            .map(|action| ActionView {
                action_type: action.action_type,
                status: action.status,
                targets: action.targets.clone(),
                message: action.message.clone(),
                start_date: action.started_at,
                end_date: action.ended_at,
            })
            .collect();
        Self {
            id: job.id.clone(),
            group_pk: job.group_pk,
            operation: job.operation,
            status: job.status,
            created_by: job.created_by,
            creation_date: job.created_at,
            update_date: job.updated_at,
            actions,
            plan,
        }
    }

    fn stored(stored: &StoredJob) -> Self {
        Self::of(
            &stored.job.value,
            stored.actions.iter().map(|action| &action.value),
            stored.plan.as_deref(),
        )
    }
}

/// The jobs, newest first, a page at a time; `groupPk` keeps those of one customer.
async fn list_provisioning_jobs(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Page<JobView>>> {
    caller.require(&state, Access::CARE, ()).await?;
    let request = PageRequest::from_query(&query)?;
    let group = query.int_in("groupPk", 1, i64::MAX)?.map(GroupPk);
    let (jobs, total) = Jobs::new(state.store.as_ref()).list(group, request.offset(), request.size).await?;
    Ok(Json(Page::new(request, total, jobs.iter().map(JobView::stored).collect())))
}

/// Stores the job (NEW) and queues it: 202 once the queue took it. A customer with an
/// unfinished job is 409. If the queue refuses, the job is withdrawn (it must not hold
/// its customer forever) and the answer is 503: nothing was promised.
async fn create_provisioning_job(
    State(state): State<AppState>,
    caller: Caller,
    Extension(TracingId(tracing_id)): Extension<TracingId>,
    JsonBody(request): JsonBody<RawJobRequest>,
) -> AppResult<Response> {
    caller.require(&state, Access::CARE, ()).await?;
    let request = request.validate()?;
    // Care reaches every customer: an unknown one is 404.
    caller.require(&state, Access::CARE, request.group).await?;
    let (job, actions) = Job::new(request.group, request.operation, caller.user_pk(), state.clock.now());
    let jobs = Jobs::new(state.store.as_ref());
    jobs.create(&job, &actions).await?;
    let message = JobMessage { job_id: job.id.clone() };
    if let Err(refused) = enqueue(state.queues.provisioning.as_ref(), &message, &tracing_id).await {
        if let Err(error) = jobs.withdraw(&job, &actions).await {
            tracing::error!(%error, job_id = %job.id, group_pk = %job.group_pk, "a job the queue refused could not be withdrawn: it holds its customer");
        }
        return Err(refused);
    }
    // The job as stored, not read back: the worker may be at it already.
    accepted(
        &format!("/v1/provisioning/jobs/{}", job.id),
        JobView::of(&job, actions.iter(), None),
    )
}

/// The job with each action's status and, once planned, what it touches.
async fn get_provisioning_job(State(state): State<AppState>, caller: Caller, JobIdPath(id): JobIdPath) -> AppResult<Json<JobView>> {
    caller.require(&state, Access::CARE, ()).await?;
    let not_found = || AppError::NotFound(format!("provisioning job {id:.64}"));
    let id = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
    let stored = Jobs::new(state.store.as_ref()).get(&id.to_string()).await?.ok_or_else(not_found)?;
    Ok(Json(JobView::stored(&stored)))
}
