//! The black-box harness: the real Worker under `wrangler dev` on local D1 and KV
//! (`server`), a client whose every reply is checked against the OpenAPI document
//! (`client`), users, JWTs and organizations to test with (`fixtures`), a local stand-in
//! for the email provider (`mail`), console sessions as a browser without scripts has them
//! (`console`), a real Chromium driven over WebDriver (`browser`), a webhook receiver (`hooks`) and a DNS-over-HTTPS
//! resolver (`dns`).
//!
//! Each test binary starts one server (on first use) on a free port with a fresh state
//! directory; tests share it and stay apart by using unique users and organization slugs.

#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod browser;
pub mod client;
pub mod console;
pub mod dns;
pub mod fixtures;
pub mod hooks;
pub mod mail;
pub mod scim;
pub mod server;

// Test files reach the harness as `support::*`; each uses only part of it.
#[allow(unused_imports)]
pub use client::*;
#[allow(unused_imports)]
pub use console::*;
#[allow(unused_imports)]
pub use fixtures::*;
#[allow(unused_imports)]
pub use server::*;

use std::collections::HashMap;

/// The body of a request a test server received, and its headers by lower-case name.
pub fn read_request(request: &mut tiny_http::Request) -> (String, HashMap<String, String>) {
    let mut body = String::new();
    let _ = std::io::Read::read_to_string(request.as_reader(), &mut body);
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.to_string(),
            )
        })
        .collect();
    (body, headers)
}
