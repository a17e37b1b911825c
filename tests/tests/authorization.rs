//! The authorization matrix of the implemented operations: every operation, as
//! every demo user and as an anonymous caller, gets the status routes.md implies.

use accountcentral_e2e::operations::{Access, callers, implemented_operations};
use accountcentral_e2e::{TestApp, on_both_backends};

on_both_backends!(every_operation_as_every_caller);

fn expected(access: Access, user: Option<&str>) -> u16 {
    match (access, user) {
        (Access::Public, _) => 200,
        (_, None) => 401,
        (Access::User, Some(_)) => 200,
        (Access::AssociatedWith101, Some(user)) => {
            if ["acme.admin", "acme.it.admin", "acme.user"].contains(&user) {
                200
            } else {
                403
            }
        }
        (Access::RoleOn101, Some(user)) => {
            if user == "globex.admin" || user == "mta" {
                403
            } else {
                200
            }
        }
    }
}

async fn every_operation_as_every_caller(app: TestApp) {
    let mut failures = Vec::new();
    for operation in implemented_operations() {
        for user in callers() {
            let (status, answer) = operation.call(&app, user).await;
            let want = expected(operation.access, user);
            if status != want {
                failures.push(format!(
                    "{} as {}: {status}, expected {want}: {answer}",
                    operation.id,
                    user.unwrap_or("anonymous")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
