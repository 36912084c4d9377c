//! A local webhook receiver: it captures every request per path, answers 200, and can
//! refuse (500) or answer slowly on demand, per path.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub body: String,
    pub json: Value,
    pub signature: Option<String>,
    pub event_id: Option<String>,
    pub content_type: Option<String>,
    /// What the receiver answered.
    pub status: u16,
}

impl Hit {
    /// Whether `Roster-Signature` is the HMAC-SHA256 of `<t>.<body>` under `secret`, with
    /// `t` within five minutes of now.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some(header) = &self.signature else {
            return false;
        };
        let mut t = None;
        let mut v1 = None;
        for part in header.split(',') {
            match part.split_once('=') {
                Some(("t", value)) => t = value.parse::<i64>().ok(),
                Some(("v1", value)) => v1 = Some(value.to_string()),
                _ => {}
            }
        }
        let (Some(t), Some(v1)) = (t, v1) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{t}.{}", self.body).as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        expected == v1 && (super::now() - t).abs() <= 300
    }
}

#[derive(Default)]
struct State {
    hits: HashMap<String, Vec<Hit>>,
    /// Deliveries whose body is not the document's webhook of their type, and why.
    nonconforming: Vec<String>,
    failing: HashSet<String>,
    slow: HashMap<String, Duration>,
}

pub struct Hooks {
    base: String,
    state: Arc<Mutex<State>>,
}

static HOOKS: OnceLock<Hooks> = OnceLock::new();

/// The receiver of this test binary, started on first use.
pub fn hooks() -> &'static Hooks {
    HOOKS.get_or_init(Hooks::start)
}

impl Hooks {
    fn start() -> Hooks {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("webhook receiver binds");
        let base = format!("http://{}", server.server_addr());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let shared = shared.clone();
                // One thread per request, so that a slow answer holds up nobody else.
                std::thread::spawn(move || answer(request, &shared));
            }
        });
        Hooks { base, state }
    }

    /// A URL of the receiver, unique to `name` within this run.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{}", self.base, super::unique(name))
    }

    /// Every request to `url` so far, refused ones included. Fails the test if any delivery
    /// so far did not conform to the document.
    #[track_caller]
    pub fn hits(&self, url: &str) -> Vec<Hit> {
        let path = self.path(url);
        let state = self.state.lock().unwrap();
        assert!(
            state.nonconforming.is_empty(),
            "webhook deliveries that do not conform to /openapi.json:\n{}",
            state.nonconforming.join("\n")
        );
        state.hits.get(&path).cloned().unwrap_or_default()
    }

    /// The requests to `url` answered with 200.
    pub fn delivered(&self, url: &str) -> Vec<Hit> {
        self.hits(url)
            .into_iter()
            .filter(|h| h.status == 200)
            .collect()
    }

    /// Waits until `count` requests reached `url` (refused ones included), and returns them.
    #[track_caller]
    pub fn wait_for_hits(&self, url: &str, count: usize) -> Vec<Hit> {
        self.wait(url, count, Self::hits)
    }

    /// Waits until `count` deliveries to `url` were accepted, and returns them.
    #[track_caller]
    pub fn wait_for(&self, url: &str, count: usize) -> Vec<Hit> {
        self.wait(url, count, Self::delivered)
    }

    #[track_caller]
    fn wait(&self, url: &str, count: usize, read: fn(&Self, &str) -> Vec<Hit>) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let hits = read(self, url);
            if hits.len() >= count {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} requests to {url}, got {}",
                hits.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Answers 500 to every request to `url` until [`recover`](Self::recover).
    pub fn fail(&self, url: &str) {
        let path = self.path(url);
        self.state.lock().unwrap().failing.insert(path);
    }

    pub fn recover(&self, url: &str) {
        let path = self.path(url);
        self.state.lock().unwrap().failing.remove(&path);
    }

    /// Waits `delay` before answering requests to `url`.
    pub fn slow(&self, url: &str, delay: Duration) {
        let path = self.path(url);
        self.state.lock().unwrap().slow.insert(path, delay);
    }

    fn path(&self, url: &str) -> String {
        url.strip_prefix(&self.base).unwrap_or(url).to_string()
    }
}

fn answer(mut request: tiny_http::Request, state: &Mutex<State>) {
    let (body, headers) = super::read_request(&mut request);
    let header = |name: &str| headers.get(name).cloned();
    let path = request.url().to_string();
    let (failing, delay) = {
        let state = state.lock().unwrap();
        (
            state.failing.contains(&path),
            state.slow.get(&path).copied(),
        )
    };
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
    let status = if failing { 500 } else { 200 };
    let failures = super::client::delivery_failures(&body);
    if !failures.is_empty() {
        let report = format!("{path}: {}\n  body: {body}", failures.join("; "));
        state.lock().unwrap().nonconforming.push(report);
    }
    let hit = Hit {
        json: serde_json::from_str(&body).unwrap_or(Value::Null),
        body,
        signature: header("roster-signature"),
        event_id: header("roster-event-id"),
        content_type: header("content-type"),
        status,
    };
    state
        .lock()
        .unwrap()
        .hits
        .entry(path)
        .or_default()
        .push(hit);
    let _ = request.respond(tiny_http::Response::from_string("ok").with_status_code(status));
}
