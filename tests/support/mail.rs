//! A local stand-in for the email provider, speaking Resend's `POST /emails`: it captures
//! every email and can fail on demand, per recipient.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const API_KEY: &str = "re_test_key";

/// One email as the provider received it.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
}

impl Email {
    /// The invitation token from the link on its own line of the text part.
    pub fn token(&self) -> String {
        self.text
            .lines()
            .find_map(|line| line.trim().split("/invite/").nth(1))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no invitation link in:\n{}", self.text))
    }

    /// The invitation link itself.
    pub fn link(&self) -> String {
        self.text
            .lines()
            .map(str::trim)
            .find(|line| line.contains("/invite/"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no invitation link in:\n{}", self.text))
    }
}

/// How many more sends to a recipient to refuse.
enum Refuse {
    Times(u32),
    Always,
}

#[derive(Default)]
struct State {
    delivered: Vec<Email>,
    failing: HashMap<String, Refuse>,
    refused: u32,
}

#[derive(Clone)]
pub struct Mailbox {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Mailbox {
    pub fn start() -> Mailbox {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("mail server binds");
        let url = format!("http://{}", server.server_addr());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let (body, headers) = super::read_request(&mut request);
                let header = |name: &str| headers.get(name).cloned();
                let (status, answer) = if request.url() != "/emails" {
                    (404, json!({"message": "not found"}))
                } else {
                    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let email = Email {
                        to: parsed["to"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        from: parsed["from"].as_str().unwrap_or("").to_string(),
                        subject: parsed["subject"].as_str().unwrap_or("").to_string(),
                        html: parsed["html"].as_str().unwrap_or("").to_string(),
                        text: parsed["text"].as_str().unwrap_or("").to_string(),
                        idempotency_key: header("idempotency-key"),
                        authorization: header("authorization"),
                    };
                    let mut state = shared.lock().unwrap();
                    let fail = email.to.iter().any(|to| match state.failing.get_mut(to) {
                        Some(Refuse::Always) => true,
                        Some(Refuse::Times(left)) if *left > 0 => {
                            *left -= 1;
                            true
                        }
                        _ => false,
                    });
                    if fail {
                        state.refused += 1;
                        (500, json!({"message": "provider down (test)"}))
                    } else {
                        let id = format!("email_{}", state.delivered.len());
                        state.delivered.push(email);
                        (200, json!({"id": id}))
                    }
                };
                let response = tiny_http::Response::from_string(answer.to_string())
                    .with_status_code(status)
                    .with_header(
                        tiny_http::Header::from_bytes("content-type", "application/json").unwrap(),
                    );
                let _ = request.respond(response);
            }
        });
        Mailbox { url, state }
    }

    /// Everything delivered to `address` so far.
    pub fn to(&self, address: &str) -> Vec<Email> {
        self.state
            .lock()
            .unwrap()
            .delivered
            .iter()
            .filter(|e| e.to.iter().any(|t| t == address))
            .cloned()
            .collect()
    }

    /// Waits until `count` emails reached `address`, and returns them.
    #[track_caller]
    pub fn wait_for(&self, address: &str, count: usize) -> Vec<Email> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let emails = self.to(address);
            if emails.len() >= count || Instant::now() > deadline {
                assert!(
                    emails.len() >= count,
                    "expected {count} emails to {address}, got {}",
                    emails.len()
                );
                return emails;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last email delivered to `address` (waiting for one if needed).
    #[track_caller]
    pub fn last(&self, address: &str) -> Email {
        self.wait_for(address, 1).pop().expect("an email")
    }

    /// Refuses the next `times` sends to `address` with a 500.
    pub fn fail_next(&self, address: &str, times: u32) {
        self.refuse(address, Refuse::Times(times));
    }

    /// Refuses every send to `address` until [`recover`](Self::recover).
    pub fn fail_always(&self, address: &str) {
        self.refuse(address, Refuse::Always);
    }

    fn refuse(&self, address: &str, how: Refuse) {
        self.state
            .lock()
            .unwrap()
            .failing
            .insert(address.to_string(), how);
    }

    /// How many sends were refused so far.
    pub fn refused(&self) -> u32 {
        self.state.lock().unwrap().refused
    }

    pub fn recover(&self, address: &str) {
        self.state.lock().unwrap().failing.remove(address);
    }
}
