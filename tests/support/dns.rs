//! A local DNS-over-HTTPS stand-in: it answers `GET /dns-query?name=…&type=TXT` in the JSON
//! form, as a test tells it per name — the record, nothing (NXDOMAIN), other values, a
//! slow answer (beyond the Worker's timeout) or garbage. Names it was told nothing about
//! do not exist. Every test server points `DNS_RESOLVER_URL` here, so no test ever asks a
//! real resolver.

use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What the stand-in answers for one name.
#[derive(Debug, Clone)]
pub enum Answer {
    /// TXT records with these values (each split into 10-character quoted strings, as long
    /// records are).
    Txt(Vec<String>),
    /// NXDOMAIN.
    Nothing,
    /// SERVFAIL.
    Failure,
    /// A valid answer with these values, after this long.
    Slow(Duration, Vec<String>),
    /// A body that is no DNS answer.
    Garbage,
}

pub struct Dns {
    base: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    asked: Arc<Mutex<Vec<String>>>,
}

static DNS: OnceLock<Dns> = OnceLock::new();

/// The stand-in of this test binary, started on first use.
pub fn dns() -> &'static Dns {
    DNS.get_or_init(Dns::start)
}

impl Dns {
    fn start() -> Dns {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("DNS stand-in binds");
        let base = format!("http://{}", server.server_addr());
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (shared, log) = (answers.clone(), asked.clone());
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let (shared, log) = (shared.clone(), log.clone());
                // One thread per request, so that a slow answer holds up nobody else.
                std::thread::spawn(move || answer(request, &shared, &log));
            }
        });
        Dns {
            base,
            answers,
            asked,
        }
    }

    /// The resolver's URL, for `DNS_RESOLVER_URL`.
    pub fn url(&self) -> String {
        format!("{}/dns-query", self.base)
    }

    /// Answers `answer` for `name` from now on.
    pub fn set(&self, name: &str, answer: Answer) {
        self.answers
            .lock()
            .unwrap()
            .insert(name.to_ascii_lowercase(), answer);
    }

    /// Publishes `value` as the one TXT record at `name`.
    pub fn publish(&self, name: &str, value: &str) {
        self.set(name, Answer::Txt(vec![value.to_string()]));
    }

    /// How many times `name` was asked for.
    pub fn asked(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|n| **n == name)
            .count()
    }
}

/// A TXT record's presentation form: quoted strings of at most 10 characters.
fn quoted(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    chars
        .chunks(10)
        .map(|c| {
            let s: String = c.iter().collect();
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn txt_answer(name: &str, values: &[String]) -> String {
    let records: Vec<_> = values
        .iter()
        .map(|v| json!({"name": format!("{name}."), "type": 16, "TTL": 300, "data": quoted(v)}))
        .collect();
    json!({"Status": 0, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
           "Question": [{"name": format!("{name}."), "type": 16}], "Answer": records})
    .to_string()
}

fn answer(
    request: tiny_http::Request,
    answers: &Mutex<HashMap<String, Answer>>,
    asked: &Mutex<Vec<String>>,
) {
    let url = format!("http://stand-in{}", request.url());
    let query: HashMap<String, String> = url::Url::parse(&url)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let name = query
        .get("name")
        .cloned()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let accepts_json = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("accept") && h.value.as_str() == "application/dns-json");
    asked.lock().unwrap().push(name.clone());
    let known = answers.lock().unwrap().get(&name).cloned();
    let body = if !accepts_json || query.get("type").map(String::as_str) != Some("TXT") {
        // A resolver asked the wrong way answers something else entirely.
        "not a DNS JSON question".to_string()
    } else {
        match known.unwrap_or(Answer::Nothing) {
            Answer::Txt(values) => txt_answer(&name, &values),
            Answer::Nothing => {
                json!({"Status": 3, "Question": [{"name": name, "type": 16}]}).to_string()
            }
            Answer::Failure => json!({"Status": 2}).to_string(),
            Answer::Slow(delay, values) => {
                std::thread::sleep(delay);
                txt_answer(&name, &values)
            }
            Answer::Garbage => "<html><body>502 Bad Gateway</body></html>".to_string(),
        }
    };
    let header = tiny_http::Header::from_bytes(&b"content-type"[..], &b"application/dns-json"[..])
        .expect("a valid header");
    let _ = request.respond(tiny_http::Response::from_string(body).with_header(header));
}
