//! The HTTP edge: turns a request into typed inputs, asks the policy and the store, and
//! renders JSON or `application/problem+json`.
//!
//! `body`, `member_view` and `paging` are pure and tested natively; the rest runs only in
//! the Worker.

pub mod body;
pub mod member_view;
pub mod paging;

#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
pub use ctx::*;

#[cfg(target_arch = "wasm32")]
pub mod auth;
#[cfg(target_arch = "wasm32")]
pub mod billing;
#[cfg(target_arch = "wasm32")]
pub mod console;
#[cfg(target_arch = "wasm32")]
pub mod domains;
#[cfg(target_arch = "wasm32")]
pub mod integrations;
#[cfg(target_arch = "wasm32")]
pub mod invitations;
#[cfg(target_arch = "wasm32")]
pub mod invite_links;
#[cfg(target_arch = "wasm32")]
pub mod invitee;
#[cfg(target_arch = "wasm32")]
pub mod me;
#[cfg(target_arch = "wasm32")]
pub mod members;
#[cfg(target_arch = "wasm32")]
pub mod ops;
#[cfg(target_arch = "wasm32")]
pub mod orgs;
#[cfg(target_arch = "wasm32")]
pub mod resources;
#[cfg(target_arch = "wasm32")]
pub mod roles;
#[cfg(target_arch = "wasm32")]
pub mod router;
#[cfg(target_arch = "wasm32")]
pub mod scim;
#[cfg(target_arch = "wasm32")]
pub mod teams;
#[cfg(target_arch = "wasm32")]
pub mod usage;
