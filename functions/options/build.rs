//! Converts the repository's `openapi.yaml` to JSON at build time, so the function
//! serves the contract without a YAML parser at run time.

use std::path::Path;

fn main() {
    // Read at run time, not with env!: a build script compiled for one checkout may be
    // reused from a shared target directory by a checkout in another folder.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    const CONTRACT: &str = "../../openapi.yaml";
    let source = Path::new(&manifest_dir).join(CONTRACT);
    // Relative, so that it names this checkout's contract whichever folder it is in.
    println!("cargo:rerun-if-changed={CONTRACT}");
    let text = std::fs::read_to_string(&source).expect("openapi.yaml at the repository root");
    let document: serde_json::Value = serde_norway::from_str(&text).expect("openapi.yaml is valid YAML");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("openapi.json");
    std::fs::write(out, serde_json::to_vec(&document).expect("JSON")).expect("writable OUT_DIR");
}
