//! Converts the repository's `openapi.yaml` to JSON at build time, so the function
//! serves the contract without a YAML parser at run time.

use std::path::Path;

fn main() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    println!("cargo:rerun-if-changed={}", source.display());
    let text = std::fs::read_to_string(&source).expect("openapi.yaml at the repository root");
    let document: serde_json::Value = serde_norway::from_str(&text).expect("openapi.yaml is valid YAML");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("openapi.json");
    std::fs::write(out, serde_json::to_vec(&document).expect("JSON")).expect("writable OUT_DIR");
}
