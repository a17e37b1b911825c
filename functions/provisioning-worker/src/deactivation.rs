//! Deactivating a customer's subtree: the plan (what it touches, cut into steps) and
//! each step's effects, both worked out from the same per-target rules so that what a
//! step writes is what the plan counted. A step applies the rule to its targets as they
//! are when it runs: a user who changed since the plan gets what the rule says now, and
//! what is done already (a disabled user, an inactive key or customer) writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use shared::actions::associations::lost_capabilities;
use shared::app::AppState;
use shared::domain::customer::{Customer, CustomerStatus};
use shared::domain::ids::{DkimId, GroupPk};
use shared::domain::provisioning::{Action, ActionType, Job, KeyRef, Step, Survey, UserFate, customers_to_deactivate};
use shared::domain::security::{SecurityEvent, SecurityEventType};
use shared::ports::store::{StoreError, WriteOp};
use shared::repositories::accounts::{Account, AccountChange, Accounts};
use shared::repositories::customers::Customers;
use shared::repositories::dkims::Dkims;
use shared::repositories::security::event_write;

use crate::STEP_BUDGET;

/// What deactivating the subtree of the job's customer touches, as steps of at most one
/// transaction each.
pub(crate) async fn plan(state: &AppState, job: &Job, now: Timestamp) -> Result<Vec<Step>, StoreError> {
    let subtree = subtree(state, job.group_pk).await?;
    let groups: BTreeSet<GroupPk> = subtree.iter().map(|customer| customer.group_pk).collect();
    let accounts = Accounts::new(state.store.as_ref());
    let mut survey = Survey::default();
    // The roster of a customer lists every user associated with it or a descendant.
    for entry in accounts.roster(job.group_pk).await? {
        let Some(account) = accounts.load(entry.user_pk).await? else {
            continue;
        };
        if let Some((fate, change)) = user_change(state, &account, &groups, job, now).await? {
            let writes = (entry.user_pk, accounts.writes(change).await?.len());
            match fate {
                UserFate::Disable => survey.users_to_disable.push(writes),
                UserFate::Detach => survey.users_to_detach.push(writes),
                UserFate::Untouched => {}
            }
        }
    }
    let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
    for group in &groups {
        let keys = dkims.customer_keys(*group).await?;
        let active: BTreeSet<DkimId> = keys.records().filter(|key| key.active).map(|key| key.id).collect();
        if !active.is_empty() {
            let writes = keys.deactivation_writes(*group, &active, now)?.len();
            let refs = active.into_iter().map(|id| KeyRef { group_pk: *group, id }).collect();
            survey.dkim_keys.push((refs, writes));
        }
    }
    survey.customers = customers_to_deactivate(&subtree);
    Ok(survey.steps(STEP_BUDGET))
}

/// The writes of a step of the job's plan: what it does to its targets as they are now.
pub(crate) async fn effects(state: &AppState, job: &Job, action: &Action, now: Timestamp) -> Result<Vec<WriteOp>, StoreError> {
    let targets = &action.targets;
    let mut writes = Vec::new();
    match action.action_type {
        // The plan touches nothing itself: it is recorded with the steps it makes; the
        // notice is a message on the notification queue (perform sends it).
        ActionType::Plan | ActionType::NotifyAdmins => {}
        ActionType::DisableUsers | ActionType::DetachUsers => {
            let groups: BTreeSet<GroupPk> = subtree(state, job.group_pk).await?.iter().map(|c| c.group_pk).collect();
            let accounts = Accounts::new(state.store.as_ref());
            for user in targets.users_to_disable.iter().chain(&targets.users_to_detach) {
                let Some(account) = accounts.load(*user).await? else {
                    continue;
                };
                if let Some((_, change)) = user_change(state, &account, &groups, job, now).await? {
                    writes.extend(accounts.writes(change).await?);
                }
            }
        }
        ActionType::DeactivateDkimKeys => {
            let mut by_customer: BTreeMap<GroupPk, BTreeSet<DkimId>> = BTreeMap::new();
            for key in &targets.dkim_keys {
                by_customer.entry(key.group_pk).or_default().insert(key.id);
            }
            let dkims = Dkims::new(state.store.as_ref(), state.key_vault.as_ref());
            for (group, ids) in by_customer {
                writes.extend(dkims.customer_keys(group).await?.deactivation_writes(group, &ids, now)?);
            }
        }
        ActionType::DeactivateCustomers => {
            let customers = Customers::new(state.store.as_ref());
            for group in &targets.customers {
                if let Some(before) = customers.get_versioned(*group).await?
                    && before.value.status != CustomerStatus::Inactive
                {
                    let after = Customer {
                        status: CustomerStatus::Inactive,
                        ..before.value.clone()
                    };
                    writes.push(Customers::replacement_write(&before, &after)?);
                }
            }
        }
    }
    Ok(writes)
}

/// The customer and its subtree; none when the customer is gone.
async fn subtree(state: &AppState, group: GroupPk) -> Result<Vec<Customer>, StoreError> {
    let customers = Customers::new(state.store.as_ref());
    match customers.get(group).await? {
        Some(root) => customers.subtree(&root).await,
        None => Ok(Vec::new()),
    }
}

/// What deactivating `groups` does to `account` (see [`UserFate`]), as a change made by
/// the job's creator at `now`: disabled with a DISABLED security event, or detached from
/// the subtree with its capabilities there (recorded in its capability log); `None`
/// when it is untouched.
async fn user_change<'a>(
    state: &AppState,
    account: &'a Account,
    groups: &BTreeSet<GroupPk>,
    job: &Job,
    now: Timestamp,
) -> Result<Option<(UserFate, AccountChange<'a>)>, StoreError> {
    let user = &account.user.value;
    let fate = UserFate::of(user.status, &account.associations, groups);
    let mut change = AccountChange::of(account, Some(job.created_by), now);
    match fate {
        UserFate::Untouched => return Ok(None),
        UserFate::Disable => {
            change.user.disable();
            let event = SecurityEvent::new(user.user_pk, SecurityEventType::Disabled, now, Some(job.created_by));
            change.also.push(event_write(&event, &state.security)?);
        }
        UserFate::Detach => {
            change.associations.retain(|group| !groups.contains(group));
            change.revoked = lost_capabilities(state.store.as_ref(), account, &change.associations, groups).await?;
        }
    }
    Ok(Some((fate, change)))
}
