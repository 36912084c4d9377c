//! Roster's rules as pure Rust: no `worker` types, no I/O, no clock. Everything here
//! compiles and is tested natively with `cargo test`.

pub mod console;
pub mod domains;
pub mod event;
pub mod invitation;
pub mod invite_link;
pub mod joining;
pub mod jwt;
pub mod locale;
pub mod metadata;
pub mod plan;
pub mod policy;
pub mod problem;
pub mod retention;
pub mod retry;
pub mod scim;
pub mod secret;
pub mod time;
pub mod usage;
pub mod values;
pub mod webhook;

pub use problem::{Code, FieldError, Problem, ProblemDetails};
pub use time::Timestamp;
