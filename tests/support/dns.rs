//! A local DNS-over-HTTPS stand-in: it answers `GET /dns-query?name=…&type=TXT` in the JSON
//! form, as a test tells it per name — the record, nothing (NXDOMAIN), other values, a
//! slow answer (beyond the Worker's timeout) or garbage. Names it was told nothing about
//! do not exist. Every test server points `DNS_RESOLVER_URL` here, so no test ever asks a
//! real resolver.

use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
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
        // A plain listener with a thread per connection: a burst of lookups at once (the
        // race tests send ten) is answered at once.
        let listener = TcpListener::bind("127.0.0.1:0").expect("DNS stand-in binds");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (shared, log) = (answers.clone(), asked.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (shared, log) = (shared.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &shared, &log));
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

/// Reads one request (a GET: the request line and headers), answers it, and closes.
fn serve(stream: TcpStream, answers: &Mutex<HashMap<String, Answer>>, asked: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut accepts_json = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    accepts_json |= name.trim().eq_ignore_ascii_case("accept")
                        && value.trim() == "application/dns-json";
                }
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let body = answer(target, accepts_json, answers, asked);
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/dns-json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}

/// The body answering the request for `target` (path and query).
fn answer(
    target: &str,
    accepts_json: bool,
    answers: &Mutex<HashMap<String, Answer>>,
    asked: &Mutex<Vec<String>>,
) -> String {
    let url = format!("http://stand-in{target}");
    let query: HashMap<String, String> = url::Url::parse(&url)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let name = query
        .get("name")
        .cloned()
        .unwrap_or_default()
        .to_ascii_lowercase();
    asked.lock().unwrap().push(name.clone());
    let known = answers.lock().unwrap().get(&name).cloned();
    if !accepts_json || query.get("type").map(String::as_str) != Some("TXT") {
        // A resolver asked the wrong way answers something else entirely.
        return "not a DNS JSON question".to_string();
    }
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
}
