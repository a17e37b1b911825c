//! Security events, as a user's own listing and an administrator's share it.

use crate::api::security::SecurityEventView;
use crate::app::AppState;
use crate::domain::ids::UserPk;
use crate::domain::reports::RawEventFilter;
use crate::error::AppResult;
use crate::http::extract::QueryParams;
use crate::http::paging::{Page, PageRequest};
use crate::repositories::security::SecurityLog;

/// The one listing of a user's security events, behind both `listMySecurityEvents` (the
/// caller's own, a bare array) and `listUserSecurityEvents` (a page): reads `size`,
/// `page`, `type`, `exclude-app` (repeatable), `from` and `to` from `query` (each bad one
/// named in a 400), and answers the page of `user`'s matching events, newest first.
pub async fn list_security_events(state: &AppState, user: UserPk, query: &QueryParams) -> AppResult<Page<SecurityEventView>> {
    let request = PageRequest::from_query(query)?;
    let filter = RawEventFilter {
        event_type: query.one("type")?,
        exclude_applications: query.all("exclude-app"),
        from: query.one("from")?,
        to: query.one("to")?,
    }
    .validate()?;
    let (events, total) = SecurityLog::new(state.store.as_ref(), &state.security)
        .list(user, &filter, request.offset(), request.size)
        .await?;
    Ok(Page::new(request, total, events.into_iter().map(SecurityEventView::from).collect()))
}
