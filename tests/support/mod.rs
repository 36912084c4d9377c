//! The black-box harness: the real Worker under `wrangler dev` on local D1 and KV, a local
//! stand-in for the email provider, and a client that mints JWTs.
//!
//! Each test binary starts one server (on first use) on a free port with a fresh state
//! directory; tests share it and stay apart by using unique users and organization slugs.

#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod hooks;
pub mod mail;

use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The webhook events of the contract, as a client would list them.
pub const WEBHOOK_EVENTS: [&str; 10] = [
    "member.added",
    "member.removed",
    "member.role_changed",
    "invitation.created",
    "invitation.accepted",
    "invitation.declined",
    "invitation.expired",
    "invitation.canceled",
    "seats.changed",
    "organization.updated",
];

pub const JWT_SECRET: &str = "roster-tests-hs256-secret-0123456789abcdef";
pub const ISSUER: &str = "https://id.test.roster";
pub const AUDIENCE: &str = "roster-tests";

/// How a test binary wants its server configured.
#[derive(Clone, Default)]
pub struct Options {
    /// `INVITE_TTL_SECONDS`; the Worker's default when `None`.
    pub invite_ttl_seconds: Option<u64>,
    /// Leave `EMAIL_API_URL` unset, so emails go to the log.
    pub log_emails: bool,
    /// More `--var NAME:value` pairs.
    pub vars: Vec<(String, String)>,
}

pub struct Server {
    pub base: String,
    pub mail: mail::Mailbox,
    state_dir: PathBuf,
    _wrangler: Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The server of this test binary, started with default options on first use.
pub fn server() -> &'static Server {
    server_with(Options::default())
}

/// The server of this test binary, started with `options` on first use (the first caller's
/// options win).
pub fn server_with(options: Options) -> &'static Server {
    SERVER.get_or_init(|| Server::start(options))
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn wrangler(root: &Path) -> Command {
    let mut command = Command::new(root.join("node_modules/.bin/wrangler"));
    command
        .current_dir(root)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1");
    command
}

impl Server {
    fn start(options: Options) -> Server {
        let root = project_root();
        run(
            Command::new("sh")
                .arg("scripts/build.sh")
                .current_dir(&root),
            "building the Worker",
        );
        let state_dir = std::env::temp_dir().join(format!(
            "roster-test-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&state_dir).expect("state dir");
        run(
            wrangler(&root)
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&state_dir),
            "applying migrations",
        );
        let mail = mail::Mailbox::start();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut vars = vec![
            ("JWT_HS256_SECRET".to_string(), JWT_SECRET.to_string()),
            ("JWT_ISSUER".into(), ISSUER.into()),
            ("JWT_AUDIENCE".into(), AUDIENCE.into()),
            ("PUBLIC_URL".into(), base.clone()),
            ("APP_URL".into(), "https://app.test.roster".into()),
            ("EMAIL_API_KEY".into(), mail::API_KEY.into()),
            (
                "EMAIL_FROM".into(),
                "Roster Tests <invites@test.roster>".into(),
            ),
            ("ALLOW_HTTP_WEBHOOKS".into(), "true".into()),
        ];
        if !options.log_emails {
            vars.push(("EMAIL_API_URL".into(), mail.url.clone()));
        }
        if let Some(ttl) = options.invite_ttl_seconds {
            vars.push(("INVITE_TTL_SECONDS".into(), ttl.to_string()));
        }
        vars.extend(options.vars);

        let log_path = state_dir.join("wrangler.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = wrangler(&root);
        command
            .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &free_port().to_string()])
            .args([
                "--test-scheduled",
                "--show-interactive-dev-session=false",
                "--persist-to",
            ])
            .arg(&state_dir);
        for (name, value) in &vars {
            command.arg("--var").arg(format!("{name}:{value}"));
        }
        use std::os::unix::process::CommandExt;
        let wrangler = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("wrangler dev starts");
        reap_with_this_process(wrangler.id());

        let server = Server {
            base,
            mail,
            state_dir,
            _wrangler: wrangler,
        };
        server.wait_until_ready(&log_path);
        server
    }

    fn wait_until_ready(&self, log_path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(reply) = ureq::get(&format!("{}/health", self.base))
                .config()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .call()
            {
                if reply.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let mut log = String::new();
        let _ = std::fs::File::open(log_path).and_then(|mut f| f.read_to_string(&mut log));
        panic!("wrangler dev did not become ready:\n{log}");
    }

    /// Everything the Worker wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("wrangler.log")).unwrap_or_default()
    }

    /// Runs the scheduled job once, as the cron trigger would.
    pub fn run_cron(&self) {
        let reply = Request::new("GET", "/__scheduled?cron=*/15+*+*+*+*").send();
        assert_eq!(reply.status, 200, "scheduled run: {}", reply.text);
    }
}

/// Kills wrangler's process group when this test process exits: a watchdog shell polls
/// for our pid, so no server outlives its test binary (even on a panic or a kill).
fn reap_with_this_process(wrangler_pid: u32) {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; kill -TERM -{wrangler_pid} 2>/dev/null; sleep 2; kill -KILL -{wrangler_pid} 2>/dev/null",
        std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A string unique within this test run: `prefix-<random>`.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{:x}{:x}{n}",
        std::process::id() % 4096,
        nanos % 65536
    )
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A person of the product, with a fresh id and address.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub verified: bool,
}

impl User {
    pub fn new(name: &str) -> User {
        let base: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        let id = unique(if base.is_empty() { "user" } else { &base });
        User {
            email: format!("{id}@example.com"),
            id,
            name: name.to_string(),
            verified: true,
        }
    }

    pub fn with_email(mut self, email: &str) -> User {
        self.email = email.to_string();
        self
    }

    pub fn unverified(mut self) -> User {
        self.verified = false;
        self
    }

    pub fn claims(&self) -> Value {
        let now = now();
        json!({
            "sub": self.id,
            "email": self.email,
            "email_verified": self.verified,
            "name": self.name,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
        })
    }

    /// A valid HS256 token for this user.
    pub fn token(&self) -> String {
        mint(&self.claims())
    }
}

/// Signs arbitrary claims with the test secret.
pub fn mint(claims: &Value) -> String {
    mint_with(claims, JWT_SECRET)
}

pub fn mint_with(claims: &Value, secret: &str) -> String {
    Hs256
        .token(
            &Header::empty(),
            &Claims::new(claims.clone()),
            &Hs256Key::new(secret.as_bytes()),
        )
        .expect("token")
}

/// An HTTP request to the server.
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The problem `code` of an error reply.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and, for problems, the code; returns the reply for more checks.
    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Reply {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected reply: {}",
            self.text
        );
        if status >= 400 {
            assert_eq!(
                self.header("content-type"),
                Some("application/problem+json"),
                "problems are problem+json"
            );
            assert_eq!(
                self.json["type"].as_str(),
                Some(format!("https://roster.dev/problems/{code}").as_str())
            );
            assert_eq!(self.json["status"].as_u64(), Some(status as u64));
        }
        self
    }

    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected reply: {}", self.text);
        self.json
    }

    /// The fields named in `errors` of a 400.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// D1 round trips the request cost, from `Server-Timing`.
    pub fn round_trips(&self) -> u32 {
        self.timing("d1")
    }

    /// KV reads the request cost, from `Server-Timing`.
    pub fn kv_reads(&self) -> u32 {
        self.timing("kv")
    }

    /// The count in the `desc` of `Server-Timing` entry `name`: `d1;desc="2 round trips"`.
    fn timing(&self, name: &str) -> u32 {
        self.header("server-timing")
            .and_then(|v| {
                v.split(',')
                    .map(str::trim)
                    .find(|entry| entry.starts_with(&format!("{name};")))
            })
            .and_then(|entry| entry.split('"').nth(1))
            .and_then(|desc| desc.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("server-timing names the {name} cost"))
    }
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn auth(self, user: &User) -> Request {
        self.bearer(&user.token())
    }

    pub fn json(self, body: &Value) -> Request {
        self.raw("application/json", body.to_string().into_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Request {
        self.headers
            .push(("content-type".to_string(), content_type.to_string()));
        self.body = Some(body);
        self
    }

    pub fn send(self) -> Reply {
        self.send_to(&server().base)
    }

    pub fn send_to(self, base: &str) -> Reply {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(format!("{base}{}", self.path));
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let sent = match self.body {
            Some(body) => agent.run(builder.body(body).expect("request")),
            None => agent.run(builder.body(()).expect("request")),
        };
        let mut response = sent.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }
}

pub fn get(path: &str) -> Request {
    Request::new("GET", path)
}

pub fn post(path: &str) -> Request {
    Request::new("POST", path)
}

pub fn put(path: &str) -> Request {
    Request::new("PUT", path)
}

pub fn patch(path: &str) -> Request {
    Request::new("PATCH", path)
}

pub fn delete(path: &str) -> Request {
    Request::new("DELETE", path)
}

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

/// Creates an organization owned by `owner` on `plan` and returns its slug.
pub fn create_org(owner: &User, plan: &str) -> String {
    let slug = unique("org");
    post("/v1/orgs")
        .auth(owner)
        .json(&json!({"name": format!("Org {slug}"), "slug": slug, "plan": plan}))
        .send()
        .ok(201);
    slug
}

/// Runs `f` on `n` threads released at the same instant; returns their results in order.
pub fn in_parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let barrier = &barrier;
                let f = &f;
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parallel request panicked"))
            .collect()
    })
}

/// Creates an invitation and returns it, without waiting for its email.
pub fn create_invitation(by: &User, slug: &str, email: &str, role: &str) -> Value {
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(by)
        .json(&json!({"email": email, "role": role}))
        .send()
        .ok(201)
}

/// Invites `email` to `slug` as `role` (by `by`) and returns the invitation and the token
/// from the email it sent.
pub fn invite(by: &User, slug: &str, email: &str, role: &str) -> (Value, String) {
    let before = server().mail.to(email).len();
    let invitation = create_invitation(by, slug, email, role);
    let emails = server().mail.wait_for(email, before + 1);
    let token = emails.last().expect("an email").token();
    (invitation, token)
}

/// Adds a new member to `slug` with `role` (invited by `by`, accepted) and returns them.
pub fn add_member(by: &User, slug: &str, role: &str) -> User {
    let user = User::new(role);
    let (_, token) = invite(by, slug, &user.email, role);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&user)
        .send()
        .ok(200);
    user
}

/// The user ids of `slug`'s members, as `by` sees them.
pub fn member_ids(by: &User, slug: &str) -> Vec<String> {
    get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["user_id"].as_str().map(str::to_string))
        .collect()
}
