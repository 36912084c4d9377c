//! Renders the OpenAPI document (`src/openapi.rs`) to JSON at compile time, so the Worker
//! serves a finished string instead of carrying the code that builds it.

// The builder and the tables it documents (problem codes, webhook events), compiled here
// as they are in the library; the build script uses only part of them.
#[allow(dead_code)]
#[path = "src/domain/event.rs"]
mod event;
#[allow(dead_code)]
#[path = "src/domain/problem.rs"]
mod problem;
mod domain {
    pub(crate) use super::{event, problem};
}
#[allow(dead_code)]
#[path = "src/openapi.rs"]
mod openapi;

fn main() {
    println!("cargo:rerun-if-changed=src/openapi.rs");
    println!("cargo:rerun-if-changed=src/domain/problem.rs");
    println!("cargo:rerun-if-changed=src/domain/event.rs");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let json = serde_json::to_string(&openapi::document()).expect("the document serializes");
    std::fs::write(out.join("openapi.json"), json).expect("OUT_DIR is writable");
}
