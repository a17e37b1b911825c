//! The authenticated caller: token verified, account loaded, grants computed.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::tokens::TokenError;
use crate::app::AppState;
use crate::domain::capability::{Grants, Role};
use crate::domain::customer::Customer;
use crate::domain::ids::{GroupPk, UserPk};
use crate::domain::user::UserType;
use crate::error::AppError;
use crate::repositories::Versioned;
use crate::repositories::accounts::{Account, Accounts};
use crate::repositories::customers::Customers;

/// Who is calling, and what they may do here.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub grants: Grants,
}

fn bearer(parts: &Parts) -> Result<&str, AppError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthenticated("no Authorization header".into()))?
        .to_str()
        .map_err(|_| AppError::Unauthenticated("unreadable Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(AppError::Unauthenticated("the Authorization header is not a bearer token".into())),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)?;
        let claims = state.tokens.verify(token).await.map_err(|error| match error {
            TokenError::KeysUnavailable(reason) => AppError::Dependency(reason),
            refused => AppError::Unauthenticated(refused.to_string()),
        })?;
        let user = claims
            .sub
            .parse()
            .map(UserPk)
            .map_err(|_| AppError::Unauthenticated("the token's subject is not a user".into()))?;
        let account = Accounts::new(state.store.as_ref())
            .load(user)
            .await?
            .ok_or_else(|| AppError::Unauthenticated(format!("user {user} does not exist")))?;
        if !account.user.value.may_act(state.clock.now()) {
            return Err(AppError::Unauthenticated(format!("user {user} is not active or is locked out")));
        }
        let grants = Grants::new(&account.capabilities, account.associations.iter().copied());
        Ok(Caller { account, grants })
    }
}

impl Caller {
    /// The caller's user key.
    pub fn user_pk(&self) -> UserPk {
        self.account.user.value.user_pk
    }

    /// The customer, if the caller is member(g). A missing customer is 403 as well, so
    /// that callers cannot probe which customers exist; only platform staff, who reach
    /// every customer, learn that it does not exist (404).
    pub async fn customer_as_member(&self, state: &AppState, group: GroupPk) -> Result<Customer, AppError> {
        self.customer_where(state, group, self.grants.is_staff(), |grants, customer| {
            grants.is_member_of(customer)
        })
        .await
        .map(|customer| customer.value)
    }

    /// The customer, if the caller is admin(g): ADMIN on it or an ancestor, or customer
    /// care. A missing customer is 403, or 404 for care.
    pub async fn customer_as_admin(&self, state: &AppState, group: GroupPk) -> Result<Customer, AppError> {
        self.customer_to_change(state, group).await.map(|customer| customer.value)
    }

    /// The customer with the version it was read at, to change it, if the caller is
    /// admin(g); refused as [`Caller::customer_as_admin`] refuses.
    pub async fn customer_to_change(&self, state: &AppState, group: GroupPk) -> Result<Versioned<Customer>, AppError> {
        self.customer_where(state, group, self.grants.is_care(), |grants, customer| grants.is_admin_of(customer))
            .await
    }

    /// The user's account, if the caller is admin(u): admin of a customer the user is
    /// associated with, or customer care. A user out of reach is 403 whether or not it
    /// exists; only care, who reaches everyone, learns that a user does not exist (404).
    pub async fn user_as_admin(&self, state: &AppState, user: UserPk) -> Result<Account, AppError> {
        let account = Accounts::new(state.store.as_ref()).load(user).await?;
        if self.grants.is_care() {
            return account.ok_or_else(|| AppError::NotFound(format!("user {user}")));
        }
        let account = account.ok_or(AppError::Forbidden)?;
        let customers = Customers::new(state.store.as_ref())
            .get_many(account.associations.iter().copied())
            .await?;
        if customers.iter().any(|customer| self.grants.is_admin_of(customer)) {
            Ok(account)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether the caller is a platform service: an APPLICATION user holding SERVICE.
    pub fn is_service(&self) -> bool {
        self.account.user.value.user_type == UserType::Application && self.grants.has_platform_role(Role::Service)
    }

    /// Whether the caller holds the DKIM role (the platform's mail operator).
    pub fn is_dkim_operator(&self) -> bool {
        self.grants.has_platform_role(Role::Dkim)
    }

    /// The customer, if the caller is admin(g) or `staff` says it acts for the whole
    /// platform here (the DKIM role, a service): those reach every customer and learn
    /// that a missing one does not exist (404); anyone else gets 403.
    pub async fn customer_as_admin_or(
        &self,
        state: &AppState,
        group: GroupPk,
        staff: impl Fn(&Caller) -> bool,
    ) -> Result<Customer, AppError> {
        let staff = staff(self);
        self.customer_where(state, group, staff || self.grants.is_care(), |grants, customer| {
            staff || grants.is_admin_of(customer)
        })
        .await
        .map(|customer| customer.value)
    }

    /// The customer with the caller's role on it; 403 when it has none, or when it does not exist.
    pub async fn customer_with_role(&self, state: &AppState, group: GroupPk) -> Result<(Customer, Role), AppError> {
        let customer = self
            .customer_where(state, group, false, |grants, customer| grants.role_on(customer).is_some())
            .await?
            .value;
        let role = self.grants.role_on(&customer).ok_or(AppError::Forbidden)?;
        Ok((customer, role))
    }

    /// The customer, if the caller is associated with it or an ancestor (staff roles do not count).
    pub async fn customer_as_associate(&self, state: &AppState, group: GroupPk) -> Result<Customer, AppError> {
        self.customer_where(state, group, false, |grants, customer| grants.is_associated_with(customer))
            .await
            .map(|customer| customer.value)
    }

    /// The customer if `allowed`; otherwise 403, except that a caller who `reaches_all`
    /// customers this way is told that a missing one does not exist (404).
    async fn customer_where(
        &self,
        state: &AppState,
        group: GroupPk,
        reaches_all: bool,
        allowed: impl Fn(&Grants, &Customer) -> bool,
    ) -> Result<Versioned<Customer>, AppError> {
        match Customers::new(state.store.as_ref()).get_versioned(group).await? {
            Some(customer) if allowed(&self.grants, &customer.value) => Ok(customer),
            None if reaches_all => Err(AppError::NotFound(format!("customer {group}"))),
            _ => Err(AppError::Forbidden),
        }
    }
}
