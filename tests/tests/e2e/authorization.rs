//! The authorization matrix of the implemented operations: every operation, as
//! every demo user, every caller the matrix adds, and an anonymous caller, gets the
//! status its auth rule implies (docs/authorization.md).
//! Each operation states its auth rule once (`Access`); who passes it is computed
//! from the demo tenant (`DEMO`, docs/demo-tenant.md), never written down per user.

use accountcentral_e2e::operations::{Access, DEMO, Tokens, callers, demo_user, implemented_operations};
use accountcentral_e2e::{DEMO_USERS, TestApp, on_the_embedded_backend};

on_the_embedded_backend!(every_operation_as_every_caller);

async fn every_operation_as_every_caller(app: TestApp) {
    let mut failures = Vec::new();
    let tokens = Tokens::of_matrix_callers(&app).await;
    for operation in implemented_operations() {
        for user in callers() {
            let (status, answer) = operation.call_with(&app, &tokens, user).await;
            let want = operation.expected(user);
            if status != want {
                failures.push(format!(
                    "{} as {}: {status}, expected {want}: {answer}",
                    operation.describe(),
                    user.unwrap_or("anonymous")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} calls:\n{}", failures.len(), failures.join("\n"));
}

/// The demo table the matrix computes from is the one the tests log in with, and its
/// rules give the answers docs/authorization.md spells out.
#[test]
fn the_rules_read_the_demo_table_as_the_docs_do() {
    assert_eq!(DEMO.map(|u| u.username), DEMO_USERS);
    let allowed = |access: Access| -> Vec<&str> { DEMO_USERS.into_iter().filter(|user| access.allows(Some(demo_user(user)))).collect() };
    assert_eq!(
        allowed(Access::MemberOf(101)),
        ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user"]
    );
    assert_eq!(allowed(Access::AdminOf(101)), ["care", "acme.admin", "acme.it.admin"]);
    assert_eq!(allowed(Access::AdminOf(100)), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::MemberOf(200)), ["care", "dkimops", "globex.admin"]);
    assert_eq!(allowed(Access::AdminOfUser(&[100])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfUserAndOf(&[101], &[102])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[101])), ["care", "acme.admin", "acme.it.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[101, 100])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[100, 200])), ["care"]);
    assert_eq!(allowed(Access::ServiceOf(101)), ["mta"]);
    let mailer = demo_user("acme.mailer");
    assert!(Access::ServiceOf(101).allows(Some(mailer)) && !Access::ServiceOf(200).allows(Some(mailer)));
    assert!(!Access::Service.allows(Some(mailer)), "SERVICE on a customer is not platform-wide");
    assert_eq!(allowed(Access::Care), ["care"]);
    assert_eq!(allowed(Access::Service), ["mta"]);
    assert_eq!(allowed(Access::CareOrService), ["care", "mta"]);
    assert!(
        !Access::CareOrService.allows(Some(mailer)),
        "SERVICE on a customer is not platform-wide"
    );
    assert!(!Access::User.allows(None));
    assert!(Access::Public.allows(None));
}
