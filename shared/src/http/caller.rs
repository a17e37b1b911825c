//! The authenticated caller, and the one place where an operation's rule is applied:
//! [`Caller::require`].

use std::collections::BTreeSet;
use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use futures_util::future::BoxFuture;

use crate::app::AppState;
use crate::auth::tokens::TokenError;
use crate::domain::access::{Access, Decision, Principal, Target, UserFacts};
use crate::domain::capability::Grants;
use crate::domain::customer::Customer;
use crate::domain::ids::{GroupPk, UserPk};
use crate::error::{AppError, AppResult};
use crate::repositories::Versioned;
use crate::repositories::accounts::{Account, Accounts};
use crate::repositories::customers::Customers;

/// Who is calling: the verified token's user, its account, and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub principal: Principal,
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

/// The `access_token` query parameter (RFC 6750 §2.3), for EventSource, which cannot
/// send headers. The request log has the path only, so the token never reaches a log line.
fn query_token(parts: &Parts) -> Option<String> {
    form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(name, _)| name == "access_token")
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Caller::authenticate(bearer(parts)?, state).await
    }
}

/// The caller of a stream: its token in the `Authorization` header or, for EventSource,
/// in the `access_token` query parameter.
#[derive(Debug, Clone)]
pub struct StreamCaller(pub Caller);

impl FromRequestParts<AppState> for StreamCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = match (parts.headers.contains_key(header::AUTHORIZATION), query_token(parts)) {
            (false, Some(token)) => Caller::authenticate(&token, state).await?,
            _ => Caller::authenticate(bearer(parts)?, state).await?,
        };
        Ok(StreamCaller(caller))
    }
}

impl Caller {
    /// The caller a bearer token names, if the token is valid and its user may act.
    // Compiled once, here, rather than into every function that authenticates (see
    // `lambda::serve_buffered`): its body reaches the token check's HTTP client.
    #[inline(never)]
    fn authenticate<'a>(token: &'a str, state: &'a AppState) -> BoxFuture<'a, Result<Self, AppError>> {
        Box::pin(async move {
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
            if !account.may_act(state.clock.now()) {
                return Err(AppError::Unauthenticated(format!("user {user} is not active or is locked out")));
            }
            let principal = Principal {
                kind: account.user.value.user_type,
                grants: Grants::new(&account.capabilities, account.associations.iter().copied()),
            };
            Ok(Caller { account, principal })
        })
    }

    /// The caller's user key.
    pub fn user_pk(&self) -> UserPk {
        self.account.user.value.user_pk
    }

    /// What the caller's capabilities amount to: for what an answer shows, once
    /// [`Caller::require`] has let the caller in.
    pub fn grants(&self) -> &Grants {
        &self.principal.grants
    }

    /// Lets the caller act on `subject` (a customer, a user, or `()` for nothing in
    /// particular) under `access`, and hands back the subject as read. A subject out of
    /// reach is 403 whether or not it exists; only a caller whom the rule admits for
    /// every subject of its kind learns that it does not exist (404).
    pub async fn require<S: Subject>(&self, state: &AppState, access: Access, subject: S) -> AppResult<S::Reached> {
        let described = subject.describe();
        let reached = subject.load(state).await?;
        let target = reached.as_ref().map_or(Target::Missing, S::target);
        match access.decide(&self.principal, target) {
            Decision::Allowed => reached.ok_or(AppError::NotFound(described)),
            Decision::Denied => Err(AppError::Forbidden),
            Decision::Missing => Err(AppError::NotFound(described)),
        }
    }
}

/// What an operation is about, as [`Caller::require`] reads it.
pub trait Subject: Send {
    /// The subject as read.
    type Reached: Send;
    /// Reads the subject; `None` when it does not exist.
    fn load(self, state: &AppState) -> impl Future<Output = AppResult<Option<Self::Reached>>> + Send;
    /// The facts the rules weigh.
    fn target(reached: &Self::Reached) -> Target<'_>;
    /// How a 404 names it.
    fn describe(&self) -> String;
}

/// Nothing in particular: the platform, or the caller itself.
impl Subject for () {
    type Reached = ();

    async fn load(self, _: &AppState) -> AppResult<Option<()>> {
        Ok(Some(()))
    }

    fn target(_: &()) -> Target<'_> {
        Target::Platform
    }

    fn describe(&self) -> String {
        "the platform".into()
    }
}

/// Customer `g`, with the version it was read at (to change it).
impl Subject for GroupPk {
    type Reached = Versioned<Customer>;

    async fn load(self, state: &AppState) -> AppResult<Option<Versioned<Customer>>> {
        Ok(Customers::new(state.store.as_ref()).get_versioned(self).await?)
    }

    fn target(customer: &Versioned<Customer>) -> Target<'_> {
        Target::Customer(&customer.value)
    }

    fn describe(&self) -> String {
        format!("customer {self}")
    }
}

/// Several customers, each to be in reach (`admin(g) for each g`); missing when any is.
impl Subject for BTreeSet<GroupPk> {
    type Reached = Vec<Customer>;

    async fn load(self, state: &AppState) -> AppResult<Option<Vec<Customer>>> {
        let customers = Customers::new(state.store.as_ref()).get_many(self.iter().copied()).await?;
        Ok((customers.len() == self.len()).then_some(customers))
    }

    fn target(customers: &Vec<Customer>) -> Target<'_> {
        Target::Customers(customers)
    }

    fn describe(&self) -> String {
        "customer".into()
    }
}

/// A user that an operation is about: its account and the customers it is associated with.
#[derive(Debug, Clone)]
pub struct UserInReach {
    pub account: Account,
    pub facts: UserFacts,
}

/// User `u`.
impl Subject for UserPk {
    type Reached = UserInReach;

    async fn load(self, state: &AppState) -> AppResult<Option<UserInReach>> {
        let Some(account) = Accounts::new(state.store.as_ref()).load(self).await? else {
            return Ok(None);
        };
        let associated = Customers::new(state.store.as_ref())
            .get_many(account.associations.iter().copied())
            .await?;
        let facts = UserFacts::new(associated, &account.capabilities);
        Ok(Some(UserInReach { account, facts }))
    }

    fn target(user: &UserInReach) -> Target<'_> {
        Target::User(&user.facts)
    }

    fn describe(&self) -> String {
        format!("user {self}")
    }
}
