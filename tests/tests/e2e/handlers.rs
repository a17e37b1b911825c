//! Every implemented operation has a handler named after its operationId, in snake case
//! (`grantCapability` is `fn grant_capability(`), somewhere under `functions/`: a search
//! for an operation of the contract lands on the code that answers it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use accountcentral_e2e::operations::implemented_operations;

/// The repository's root directory.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
}

/// `grantCapability` → `grant_capability`.
fn snake_case(operation_id: &str) -> String {
    let mut name = String::with_capacity(operation_id.len() + 4);
    for c in operation_id.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// Every Rust file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// Whether `source` defines a function `name` (generic or not).
fn defines(source: &str, name: &str) -> bool {
    source.contains(&format!("fn {name}(")) || source.contains(&format!("fn {name}<"))
}

#[test]
fn operation_ids_read_in_snake_case() {
    assert_eq!(snake_case("grantCapability"), "grant_capability");
    assert_eq!(snake_case("getMyAccountCentralRole"), "get_my_account_central_role");
    assert_eq!(snake_case("getMe"), "get_me");
}

#[test]
fn every_implemented_operation_has_a_handler_named_after_it() {
    let contract = fs::read_to_string(root().join("openapi.yaml")).expect("openapi.yaml");
    let documented: BTreeSet<&str> = contract
        .lines()
        .filter_map(|line| line.trim().strip_prefix("operationId:"))
        .map(str::trim)
        .collect();
    let implemented: BTreeSet<&str> = implemented_operations().iter().map(|operation| operation.id).collect();
    let undocumented: Vec<&&str> = implemented.difference(&documented).collect();
    assert!(undocumented.is_empty(), "implemented but not in openapi.yaml: {undocumented:?}");

    let sources: Vec<String> = rust_files(&root().join("functions"))
        .iter()
        .map(|path| fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect();
    let missing: Vec<String> = implemented
        .iter()
        .map(|id| (id, snake_case(id)))
        .filter(|(_, name)| !sources.iter().any(|source| defines(source, name)))
        .map(|(id, name)| format!("{id}: no `fn {name}(` under functions/"))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} implemented operations have no handler of their name:\n{}",
        missing.len(),
        implemented.len(),
        missing.join("\n")
    );
}
