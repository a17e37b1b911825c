//! A customer's configuration, SFTP accounts, applications and hub counters. Secrets
//! never leave: an API key is shown by its prefix, a password by its dates.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use jiff::Timestamp;
use serde::Serialize;

use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::configuration::{
    ApiKey, Application, ApplicationName, CounterKind, DataExchange, GenericUser, HubCounter, HubWorkspace, SftpAccount, SftpAuthentication,
};
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{GroupPkPath, QueryParams, path_param};
use shared::repositories::configuration::Configurations;

/// The path parameters besides `{groupPk}`, read with [`path_param`] so that a bad one is a 400 naming it.
pub(crate) struct PathParams(RawPathParams);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        RawPathParams::from_request_parts(parts, state)
            .await
            .map(PathParams)
            .map_err(|_| AppError::NotFound("resource".into()))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigurationInfo {
    gid: Option<String>,
    api_key: Option<ApiKeyInfo>,
    smart_relay_enable: bool,
    generic_users: Vec<GenericUser>,
    data_exchanges: Vec<DataExchange>,
}

/// An API key by its metadata: the digest stays in the store.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyInfo {
    id: String,
    prefix: String,
    creation_date: Timestamp,
    expiration_date: Option<Timestamp>,
    last_use_date: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyInfo {
    fn from(key: ApiKey) -> Self {
        ApiKeyInfo {
            id: key.id,
            prefix: key.prefix,
            creation_date: key.created_at,
            expiration_date: key.expires_at,
            last_use_date: key.last_used_at,
        }
    }
}

pub(crate) async fn get_customer_configuration(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
) -> AppResult<Json<ConfigurationInfo>> {
    let customer = caller.require(&state, Access::ADMIN, group).await?.value;
    let configuration = Configurations::new(state.store.as_ref())
        .configuration(group)
        .await?
        .unwrap_or_default();
    Ok(Json(ConfigurationInfo {
        gid: customer.gid,
        api_key: configuration.api_key.map(ApiKeyInfo::from),
        smart_relay_enable: configuration.smart_relay_enable,
        generic_users: configuration.generic_users,
        data_exchanges: configuration.data_exchanges,
    }))
}

/// An SFTP account with its password's dates, never the password or its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SftpInfo {
    username: String,
    host: String,
    port: u16,
    home_directory: String,
    authentication: SftpAuthentication,
    public_key_fingerprints: Vec<String>,
    password: Option<PasswordInfo>,
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordInfo {
    creation_date: Timestamp,
    last_use_date: Option<Timestamp>,
}

impl From<SftpAccount> for SftpInfo {
    fn from(account: SftpAccount) -> Self {
        SftpInfo {
            username: account.username,
            host: account.host,
            port: account.port,
            home_directory: account.home_directory,
            authentication: account.authentication,
            public_key_fingerprints: account.public_key_fingerprints,
            password: account.password.map(|password| PasswordInfo {
                creation_date: password.created_at,
                last_use_date: password.last_used_at,
            }),
            enabled: account.enabled,
        }
    }
}

pub(crate) async fn get_customer_sftp_configuration(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
) -> AppResult<Json<Vec<SftpInfo>>> {
    caller.require(&state, Access::ADMIN, group).await?;
    let accounts = Configurations::new(state.store.as_ref()).sftp_accounts(group).await?;
    Ok(Json(accounts.into_iter().map(SftpInfo::from).collect()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationInfo {
    application: ApplicationName,
    enabled: bool,
    activation_date: Option<Timestamp>,
    settings: BTreeMap<String, String>,
    /// Hub only: the workspaces and their nodes (their counts come with the counters).
    #[serde(skip_serializing_if = "Option::is_none")]
    workspaces: Option<Vec<WorkspaceInfo>>,
}

#[derive(Serialize)]
struct WorkspaceInfo {
    id: String,
    name: String,
    nodes: Vec<NodeInfo>,
}

#[derive(Serialize)]
struct NodeInfo {
    id: String,
    name: String,
}

impl ApplicationInfo {
    fn new(application: ApplicationName, configuration: Application) -> Self {
        let workspaces =
            (application == ApplicationName::Hub).then(|| configuration.workspaces.into_iter().map(WorkspaceInfo::from).collect());
        ApplicationInfo {
            application,
            enabled: configuration.enabled,
            activation_date: configuration.activated_at,
            settings: configuration.settings,
            workspaces,
        }
    }
}

impl From<HubWorkspace> for WorkspaceInfo {
    fn from(workspace: HubWorkspace) -> Self {
        WorkspaceInfo {
            id: workspace.id,
            name: workspace.name,
            nodes: workspace
                .nodes
                .into_iter()
                .map(|node| NodeInfo {
                    id: node.id,
                    name: node.name,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ApplicationsInfo {
    hub: Option<ApplicationInfo>,
    plan: Option<ApplicationInfo>,
    send: Option<ApplicationInfo>,
}

pub(crate) async fn get_customer_applications(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
) -> AppResult<Json<ApplicationsInfo>> {
    caller.require(&state, Access::MEMBER, group).await?;
    let mut applications = Configurations::new(state.store.as_ref()).applications(group).await?;
    let mut take = |app| {
        applications
            .remove(&app)
            .map(|configuration| ApplicationInfo::new(app, configuration))
    };
    Ok(Json(ApplicationsInfo {
        hub: take(ApplicationName::Hub),
        plan: take(ApplicationName::Plan),
        send: take(ApplicationName::Send),
    }))
}

pub(crate) async fn get_customer_application(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    PathParams(params): PathParams,
) -> AppResult<Json<ApplicationInfo>> {
    caller.require(&state, Access::MEMBER, group).await?;
    let application: ApplicationName = path_param(&params, "application", "hub, plan or send")?;
    let configuration = Configurations::new(state.store.as_ref())
        .application(group, application)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("application {} of customer {group}", application.as_str())))?;
    Ok(Json(ApplicationInfo::new(application, configuration)))
}

#[derive(Serialize)]
pub(crate) struct Counters {
    data: Vec<CounterInfo>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CounterInfo {
    r#type: CounterKind,
    id: String,
    name: String,
    node_id: Option<String>,
    count: u64,
}

impl From<HubCounter<'_>> for CounterInfo {
    fn from(counter: HubCounter<'_>) -> Self {
        CounterInfo {
            r#type: counter.kind,
            id: counter.id.into(),
            name: counter.name.into(),
            node_id: counter.node_id.map(Into::into),
            count: counter.count,
        }
    }
}

pub(crate) async fn get_hub_workspace_counters(
    State(state): State<AppState>,
    caller: Caller,
    GroupPkPath(group): GroupPkPath,
    PathParams(params): PathParams,
    query: QueryParams,
) -> AppResult<Json<Counters>> {
    caller.require(&state, Access::MEMBER, group).await?;
    let workspace_id: String = path_param(&params, "workspaceId", "a workspace id")?;
    let workspaces = Configurations::new(state.store.as_ref()).hub_workspaces(group).await?;
    let workspace = workspaces
        .iter()
        .find(|workspace| workspace.id == workspace_id)
        .ok_or_else(|| AppError::NotFound(format!("hub workspace {workspace_id} of customer {group}")))?;
    let counters = workspace
        .counters(&query.all("nodes"))
        .map_err(|unknown| AppError::field(FieldError::query("nodes", format!("{unknown:?} is not a node of the workspace"))))?;
    Ok(Json(Counters {
        data: counters.into_iter().map(CounterInfo::from).collect(),
    }))
}
