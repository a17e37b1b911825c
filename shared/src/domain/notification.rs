//! Notifications: who one is for (its destination), what it says (its content), the
//! message that carries it through the queue (version 1 of a documented format, see
//! docs/notifications.md), and a notification as its recipient lists it.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::capability::AccountCentralRole;
use super::catalogue::Site;
use super::ids::{GroupPk, NotificationId, UserPk};
use super::validation::{FieldError, Violations, object};

/// How long a delivered notification is kept.
pub const RETENTION: SignedDuration = SignedDuration::from_hours(180 * 24);
/// The largest integer a browser's JavaScript number holds exactly (2^53 − 1): ids stay below it.
pub const MAX_ID: i64 = (1 << 53) - 1;
pub const MAX_TITLE: usize = 200;
pub const MAX_MESSAGE: usize = 4000;
pub const MAX_LINK: usize = 2000;
pub const MAX_APPLICATION: usize = 64;
/// The most recipients one consumer run writes to: a destination with more users is
/// fanned out through the queue in messages of at most this many recipients.
pub const CHUNK: usize = 100;
/// The most ids one `markNotificationsRead` takes (they are marked in one transaction).
pub const MAX_MARKED: usize = 100;
/// The version of the queue message this code writes and reads.
pub const MESSAGE_VERSION: u32 = 1;

/// How urgent a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    Low,
    Normal,
    High,
}

impl Priority {
    /// The priority named `text` as the API spells it (`NORMAL`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "LOW" => Some(Self::Low),
            "NORMAL" => Some(Self::Normal),
            "HIGH" => Some(Self::High),
            _ => None,
        }
    }
}

/// Who a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub enum Destination {
    /// One user.
    User { user_pk: UserPk },
    /// Every user of the customer and of its sub-customers.
    Customer { group_pk: GroupPk },
    /// The users holding the accountcentral `role` on the customer or one of its ancestors.
    Role { group_pk: GroupPk, role: AccountCentralRole },
}

/// The roles a ROLE destination may name: those held on a customer (the others are
/// platform-wide, never held on a customer).
pub const CUSTOMER_ROLES: [AccountCentralRole; 3] = [AccountCentralRole::User, AccountCentralRole::Admin, AccountCentralRole::Service];

impl Destination {
    /// The destination's rules, each broken one named under `at` (a JSON pointer).
    fn check(&self, at: &str, violations: &mut Violations) {
        let mut positive = |name: &str, key: i64| {
            if key < 1 {
                violations.body(format!("{at}/{name}"), "must be a positive integer");
            }
        };
        match *self {
            Destination::User { user_pk } => positive("userPk", user_pk.0),
            Destination::Customer { group_pk } => positive("groupPk", group_pk.0),
            Destination::Role { group_pk, role } => {
                positive("groupPk", group_pk.0);
                if !CUSTOMER_ROLES.contains(&role) {
                    violations.body(format!("{at}/role"), "must be USER, ADMIN or SERVICE: a role held on a customer");
                }
            }
        }
    }
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    pub title: String,
    pub message: String,
    pub priority: Priority,
    /// The platform application it comes from (an id of `listPlatformApplications`).
    pub application: String,
    /// Where to go from the notification: an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

fn has_control(text: &str, allowed: &[char]) -> bool {
    text.chars().any(|c| c.is_control() && !allowed.contains(&c))
}

/// A name an application can have: a lowercase letter, then up to 63 lowercase letters,
/// digits, `_` or `-`.
pub fn is_application_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && text.len() <= MAX_APPLICATION
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// An https URL (RFC 3986): `https://`, a host name (letters, digits, `.`, `-`) with an
/// optional port, then optionally a path, a query and a fragment, each of the characters
/// a URI allows there (ASCII; anything else percent-encoded).
pub fn is_https_link(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://") else {
        return false;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let (before_fragment, fragment) = tail.split_once('#').unwrap_or((tail, ""));
    let (path, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    text.len() <= MAX_LINK
        && !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.is_none_or(|port| (1..=5).contains(&port.len()) && port.chars().all(|c| c.is_ascii_digit()))
        && is_uri_text(path, "/")
        && is_uri_text(query, "/?")
        && is_uri_text(fragment, "/?")
}

/// Whether `text` is made of RFC 3986 `pchar`s (unreserved, sub-delims, `:`, `@`, or a
/// percent-encoded octet) and the characters in `also`.
fn is_uri_text(text: &str, also: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'%' {
            if !bytes.get(at + 1..at + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            at += 3;
            continue;
        }
        if !(byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) || also.as_bytes().contains(&byte)) {
            return false;
        }
        at += 1;
    }
    true
}

impl Content {
    /// The rules every notification meets, whoever enqueued it, and its application
    /// among `applications` when given (a deployment's): each broken one named under
    /// `at` (a JSON pointer).
    fn check(&self, at: &str, applications: Option<&[Site]>, violations: &mut Violations) {
        let title = &self.title;
        if title.trim().is_empty() || title.chars().count() > MAX_TITLE || has_control(title, &[]) {
            violations.body(
                format!("{at}/title"),
                format!("must be 1 to {MAX_TITLE} characters, not blank, without control characters"),
            );
        }
        let message = &self.message;
        if message.trim().is_empty() || message.chars().count() > MAX_MESSAGE || has_control(message, &['\n', '\r', '\t']) {
            violations.body(
                format!("{at}/message"),
                format!("must be 1 to {MAX_MESSAGE} characters, not blank, without control characters other than line breaks and tabs"),
            );
        }
        let application = &self.application;
        if !is_application_id(application) {
            violations.body(
                format!("{at}/application"),
                "must be an application id: a lowercase letter, then up to 63 lowercase letters, digits, '_' or '-'",
            );
        } else if let Some(applications) = applications
            && !applications.iter().any(|site| &site.id == application)
        {
            let known: Vec<&str> = applications.iter().map(|site| site.id.as_str()).collect();
            violations.body(
                format!("{at}/application"),
                format!(
                    "{application:?} is not an application of the platform; use one of {}",
                    known.join(", ")
                ),
            );
        }
        if self.link.as_deref().is_some_and(|link| !is_https_link(link)) {
            violations.body(
                format!("{at}/link"),
                format!("must be an https URL (https://host[:port][/path][?query][#fragment]) of at most {MAX_LINK} characters, in the characters a URI allows (others percent-encoded)"),
            );
        }
    }
}

/// A notification to send: `enqueueNotification`'s body, or what a service of our own
/// (the provisioning worker) sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRequest {
    #[serde(deserialize_with = "object")]
    pub destination: Destination,
    #[serde(deserialize_with = "object")]
    pub notification: Content,
}

impl NotificationRequest {
    /// Checks every field, naming each bad one: the destination's keys and role, the
    /// content's bounds, and an application among the deployment's `applications`.
    pub fn validate(&self, applications: &[Site]) -> Result<(), Violations> {
        let mut violations = Violations::new();
        self.destination.check("/destination", &mut violations);
        self.notification.check("/notification", Some(applications), &mut violations);
        violations.into_result(())
    }
}

/// A notification as its recipient lists it: the content, with its id, the date it
/// was enqueued and whether the recipient has read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: NotificationId,
    pub title: String,
    pub message: String,
    pub priority: Priority,
    pub application: String,
    pub link: Option<String>,
    pub date: Timestamp,
    pub read: bool,
}

impl Notification {
    /// When a notification enqueued at `date` is dropped.
    pub fn expiry(date: Timestamp) -> Timestamp {
        date + RETENTION
    }
}

/// Which of a user's notifications a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    pub not_read: bool,
    pub priority: Option<Priority>,
    pub application: Option<String>,
}

impl NotificationFilter {
    /// Reads `notRead` (true or false), `priority` and `application` as the query string
    /// gives them, naming each bad parameter.
    pub fn parse(not_read: Option<&str>, priority: Option<&str>, application: Option<&str>) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let not_read = match not_read.map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                violations.push(FieldError::query("notRead", "must be true or false"));
                false
            }
        };
        let priority = priority.and_then(|text| {
            let parsed = Priority::parse(text.trim());
            if parsed.is_none() {
                violations.push(FieldError::query("priority", "must be LOW, NORMAL or HIGH"));
            }
            parsed
        });
        let application = application.map(str::trim).filter(|application| {
            let valid = is_application_id(application);
            if !valid {
                violations.push(FieldError::query("application", "must be an application id"));
            }
            valid
        });
        violations.into_result(Self {
            not_read,
            priority,
            application: application.map(str::to_owned),
        })
    }

    /// Whether the filter lets `notification` through.
    pub fn admits(&self, notification: &Notification) -> bool {
        !(self.not_read && notification.read)
            && self.priority.is_none_or(|p| p == notification.priority)
            && self.application.as_ref().is_none_or(|a| *a == notification.application)
    }
}

/// Reads `markNotificationsRead`'s body: at least one positive id (a repeated one counts
/// once), each bad one named; reading the body bounds the list to [`MAX_MARKED`].
pub fn ids_to_mark(ids: &[i64]) -> Result<BTreeSet<NotificationId>, Violations> {
    let mut violations = Violations::new();
    if ids.is_empty() {
        violations.body("", format!("must hold 1 to {MAX_MARKED} notification ids"));
    }
    for (position, id) in ids.iter().enumerate() {
        if !(1..=MAX_ID).contains(id) {
            violations.body(format!("/{position}"), format!("must be a notification id, from 1 to {MAX_ID}"));
        }
    }
    violations.into_result(ids.iter().copied().map(NotificationId).collect())
}

/// The queue message that carries a notification to its recipients (format version 1,
/// described by `docs/schemas/notification-message.v1.schema.json`). Without
/// `recipients` it is to be expanded to its destination's users; with them (a chunk
/// of a fan-out), it is delivered to exactly those users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationMessage {
    pub version: u32,
    pub id: NotificationId,
    /// The tracing id of the request that enqueued it.
    pub tracing_id: String,
    pub enqueued_at: Timestamp,
    pub destination: Destination,
    pub notification: Content,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<UserPk>>,
}

/// A message the consumer cannot deliver, whatever it retries: not JSON of this format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a notification message of version {MESSAGE_VERSION}: {reason}")]
pub struct MessageRefused {
    pub reason: String,
}

impl NotificationMessage {
    /// The message announcing notification `id` of `request`, enqueued at `at` by the
    /// request traced as `tracing_id`.
    pub fn new(id: NotificationId, tracing_id: &str, at: Timestamp, request: &NotificationRequest) -> Self {
        Self {
            version: MESSAGE_VERSION,
            id,
            tracing_id: tracing_id.to_owned(),
            enqueued_at: at,
            destination: request.destination,
            notification: request.notification.clone(),
            recipients: None,
        }
    }

    /// The fan-out of this message to `users`: one message per [`CHUNK`] of them.
    pub fn chunks(&self, users: &[UserPk]) -> Vec<NotificationMessage> {
        users
            .chunks(CHUNK)
            .map(|chunk| NotificationMessage {
                recipients: Some(chunk.to_vec()),
                ..self.clone()
            })
            .collect()
    }

    /// Reads a message body, refusing anything the format does not allow.
    pub fn parse(body: &str) -> Result<Self, MessageRefused> {
        let refused = |reason: String| MessageRefused { reason };
        let message: NotificationMessage = serde_json::from_str(body).map_err(|e| refused(e.to_string()))?;
        if message.version != MESSAGE_VERSION {
            return Err(refused(format!("version {}", message.version)));
        }
        let mut violations = Violations::new();
        if !(1..=MAX_ID).contains(&message.id.0) {
            violations.body("/id", format!("must be from 1 to {MAX_ID}"));
        }
        message.destination.check("/destination", &mut violations);
        // Any deployment's application: the format names applications, not this deployment's.
        message.notification.check("/notification", None, &mut violations);
        if let Some(recipients) = &message.recipients {
            let distinct: BTreeSet<&UserPk> = recipients.iter().collect();
            if recipients.is_empty()
                || recipients.len() > CHUNK
                || distinct.len() != recipients.len()
                || recipients.iter().any(|user| user.0 < 1)
            {
                violations.body("/recipients", format!("must be 1 to {CHUNK} distinct positive user keys"));
            }
        }
        violations.into_result(message).map_err(|errors| {
            refused(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }

    /// The notification as each recipient gets it, unread.
    pub fn notification(&self) -> Notification {
        let content = &self.notification;
        Notification {
            id: self.id,
            title: content.title.clone(),
            message: content.message.clone(),
            priority: content.priority,
            application: content.application.clone(),
            link: content.link.clone(),
            date: self.enqueued_at,
            read: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::catalogue::{Catalogue, Stage};

    fn request(body: Value) -> NotificationRequest {
        serde_json::from_value(body).expect("a well-formed request")
    }

    fn paths(errors: Violations) -> Vec<String> {
        errors.iter().map(|e| e.path.to_string()).collect()
    }

    fn applications() -> &'static [Site] {
        Catalogue::get().applications(Stage::Prod)
    }

    #[test]
    fn a_request_reads_as_the_api_spells_it() {
        let read = request(json!({
            "destination": {"type": "ROLE", "groupPk": 101, "role": "ADMIN"},
            "notification": {"title": "Export ready", "message": "Your export\nis ready", "priority": "HIGH",
                             "application": "hub", "link": "https://hub.example.test:8443/exports/1?x=1#top"}
        }));
        assert_eq!(
            read.destination,
            Destination::Role {
                group_pk: GroupPk(101),
                role: AccountCentralRole::Admin
            }
        );
        assert_eq!(read.validate(applications()), Ok(()));
        let user = request(json!({"destination": {"type": "USER", "userPk": 12},
            "notification": {"title": "t", "message": "m", "priority": "LOW", "application": "send"}}));
        assert_eq!(user.destination, Destination::User { user_pk: UserPk(12) });
        assert_eq!(user.notification.link, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = request(json!({
            "destination": {"type": "ROLE", "groupPk": 0, "role": "CUSTOMER_CARE"},
            "notification": {"title": " ", "message": "a\u{7}b", "priority": "NORMAL", "application": "Hub", "link": "http://x.test"}
        }));
        assert_eq!(
            paths(bad.validate(applications()).unwrap_err()),
            [
                "/destination/groupPk",
                "/destination/role",
                "/notification/title",
                "/notification/message",
                "/notification/application",
                "/notification/link"
            ]
        );
    }

    #[test]
    fn bounds_are_exact() {
        let content = |title: String, message: String| {
            request(json!({"destination": {"type": "CUSTOMER", "groupPk": 1},
                "notification": {"title": title, "message": message, "priority": "LOW", "application": "hub"}}))
        };
        assert!(
            content("é".repeat(MAX_TITLE), "m".repeat(MAX_MESSAGE))
                .validate(applications())
                .is_ok()
        );
        assert_eq!(
            paths(
                content("é".repeat(MAX_TITLE + 1), "m".repeat(MAX_MESSAGE + 1))
                    .validate(applications())
                    .unwrap_err()
            ),
            ["/notification/title", "/notification/message"]
        );
    }

    #[test]
    fn the_application_is_one_of_the_deployment() {
        let eddie = request(json!({"destination": {"type": "USER", "userPk": 1},
            "notification": {"title": "t", "message": "m", "priority": "LOW", "application": "eddie"}}));
        assert!(eddie.validate(Catalogue::get().applications(Stage::Dev)).is_ok());
        let errors = eddie.validate(applications()).unwrap_err();
        assert_eq!(paths(errors.clone()), ["/notification/application"]);
        assert!(errors[0].message.contains("hub"), "names the known ones: {}", errors[0].message);
    }

    #[test]
    fn links_are_https_urls() {
        for good in [
            "https://a",
            "https://hub.example.test/x/y?z=1&w=%20#f",
            "https://10.0.0.1:443",
            "https://a.test?q",
            "https://a.test/%C3%A9?q=/a?b#frag/x?y",
            "https://a.test/a;b=c/@:!$&'()*+,~",
        ] {
            assert!(is_https_link(good), "{good}");
        }
        for bad in [
            "http://a.test",
            "https://",
            "https:///path",
            "https://a b.test",
            "https://a.test/x y",
            "https://user@a.test",
            "https://a.test:",
            "https://a.test:123456",
            "javascript:alert(1)",
            "https://a.test/\n",
            "https://Q:8#\u{ec}\u{a3}",
            "https://a.test/%zz",
            "https://a.test/%4",
            "https://a.test/<script>",
            "https://a.test/a#b#c",
            "https://a.test/a\\b",
        ] {
            assert!(!is_https_link(bad), "{bad}");
        }
        assert!(!is_https_link(&format!("https://a.test/{}", "x".repeat(MAX_LINK))));
    }

    #[test]
    fn filters_read_the_query_and_select() {
        let filter = NotificationFilter::parse(Some("true"), Some("HIGH"), Some("hub")).unwrap();
        let notification = Notification {
            id: NotificationId(1),
            title: "t".into(),
            message: "m".into(),
            priority: Priority::High,
            application: "hub".into(),
            link: None,
            date: Timestamp::UNIX_EPOCH,
            read: false,
        };
        assert!(filter.admits(&notification));
        assert!(!filter.admits(&Notification {
            read: true,
            ..notification.clone()
        }));
        assert!(!filter.admits(&Notification {
            priority: Priority::Low,
            ..notification.clone()
        }));
        assert!(NotificationFilter::default().admits(&Notification {
            read: true,
            ..notification
        }));
        let errors = NotificationFilter::parse(Some("yes"), Some("urgent"), Some("Hub!")).unwrap_err();
        assert_eq!(paths(errors), ["notRead", "priority", "application"]);
    }

    #[test]
    fn ids_to_mark_are_positive_and_at_least_one() {
        assert_eq!(ids_to_mark(&[3, 1, 3]).unwrap().len(), 2);
        assert_eq!(paths(ids_to_mark(&[]).unwrap_err()), [""]);
        assert_eq!(paths(ids_to_mark(&[1, 0, MAX_ID + 1]).unwrap_err()), ["/1", "/2"]);
    }

    fn message() -> NotificationMessage {
        let request = request(json!({"destination": {"type": "CUSTOMER", "groupPk": 100},
            "notification": {"title": "t", "message": "m", "priority": "NORMAL", "application": "hub"}}));
        NotificationMessage::new(NotificationId(7), "trace-1", "2026-01-02T03:04:05Z".parse().unwrap(), &request)
    }

    #[test]
    fn messages_round_trip_and_fan_out_in_chunks() {
        let message = message();
        let body = serde_json::to_string(&message).unwrap();
        assert_eq!(NotificationMessage::parse(&body), Ok(message.clone()));
        let users: Vec<UserPk> = (1..=CHUNK as i64 * 2 + 1).map(UserPk).collect();
        let chunks = message.chunks(&users);
        assert_eq!(
            chunks.iter().map(|c| c.recipients.as_ref().unwrap().len()).collect::<Vec<_>>(),
            [CHUNK, CHUNK, 1]
        );
        for chunk in &chunks {
            let body = serde_json::to_string(chunk).unwrap();
            assert_eq!(NotificationMessage::parse(&body).as_ref(), Ok(chunk));
        }
        let delivered = message.notification();
        assert_eq!(
            (delivered.id, delivered.read, delivered.date),
            (message.id, false, message.enqueued_at)
        );
    }

    #[test]
    fn the_consumer_refuses_what_the_format_does_not_allow() {
        let good = serde_json::to_value(message()).unwrap();
        let edit = |edit: &dyn Fn(&mut Value)| {
            let mut body = good.clone();
            edit(&mut body);
            NotificationMessage::parse(&body.to_string())
        };
        assert!(edit(&|_| {}).is_ok());
        assert!(edit(&|b| b["version"] = json!(2)).is_err());
        assert!(edit(&|b| b["id"] = json!(0)).is_err());
        assert!(edit(&|b| b["destination"] = json!({"type": "TEAM", "groupPk": 1})).is_err());
        assert!(edit(&|b| b["notification"]["title"] = json!("")).is_err());
        assert!(edit(&|b| b["recipients"] = json!([])).is_err());
        assert!(edit(&|b| b["recipients"] = json!([1, 1])).is_err());
        assert!(NotificationMessage::parse("not json").is_err());
    }
}
