//! A real Chromium (Debian's `chromium` and `chromium-driver`, installed by
//! `scripts/setup.sh`), driven over the W3C WebDriver protocol with the harness's own HTTP
//! client: one `chromedriver` per test binary, one headless browser with a fresh profile
//! per test, and every command bounded in time.

use base64::Engine;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// No command may take longer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

struct Driver {
    base: String,
    _process: Child,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        use std::os::unix::process::CommandExt;
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{CHROMEDRIVER} starts (sh scripts/setup.sh installs it): {e}")
            });
        end_with_this_process(process.id());
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while request("GET", &format!("{base}/status"), None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            base,
            _process: process,
        }
    })
}

/// Ends chromedriver's process group (and so its browsers) when this test process exits.
fn end_with_this_process(pid: u32) {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; kill -TERM -{pid} 2>/dev/null",
        std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// One WebDriver command; the error is the driver's message.
fn request(method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(COMMAND_TIMEOUT))
        .build()
        .into();
    let builder = ureq::http::Request::builder().method(method).uri(url);
    let sent = match body {
        Some(body) => agent.run(
            builder
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .map_err(|e| e.to_string())?,
        ),
        None => agent.run(builder.body(()).map_err(|e| e.to_string())?),
    };
    let mut response = sent.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if status >= 400 {
        return Err(format!("{status}: {}", value["value"]["message"]));
    }
    Ok(value["value"].clone())
}

/// Browsers run one at a time: Chromium is heavy, and the tests share the machine.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// A headless Chromium with a profile of its own, closed when dropped.
pub struct Browser {
    session: String,
    profile: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

/// An element of the page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    pub fn new() -> Browser {
        let turn = one_at_a_time();
        let profile = std::env::temp_dir().join(format!(
            "roster-chromium-{}-{}",
            std::process::id(),
            super::fixtures::unique("profile")
        ));
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30000, "script": 10000, "implicit": 0},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let created = request(
            "POST",
            &format!("{}/session", driver().base),
            Some(&capabilities),
        )
        .expect("chromium starts");
        Browser {
            session: created["sessionId"]
                .as_str()
                .expect("a session id")
                .to_string(),
            profile,
            _turn: turn,
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", driver().base, self.session);
        request(method, &url, body.as_ref()).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn source(&self) -> String {
        self.command("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's visible text. A page still loading after a click may replace its body
    /// under the read: it is read again, for up to 10 seconds.
    pub fn text(&self) -> String {
        let url = |path: &str| format!("{}/session/{}{path}", driver().base, self.session);
        let find = json!({"using": "css selector", "value": "body"});
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let read = request("POST", &url("/element"), Some(&find)).and_then(|body| {
                let id = body[ELEMENT].as_str().unwrap_or_default().to_string();
                request("GET", &url(&format!("/element/{id}/text")), None)
            });
            match read {
                Ok(text) => return text.as_str().unwrap_or_default().to_string(),
                Err(e) if Instant::now() > deadline => panic!("the page's text: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Waits up to 10 seconds for the page to show `needle` (a click's navigation may still
    /// be under way), and returns its text.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never showed on {}:\n{text}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn title(&self) -> String {
        self.command("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The elements matching a CSS selector.
    pub fn all(&self, css: &str) -> Vec<Element<'_>> {
        self.command(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map(|found| {
            found
                .iter()
                .filter_map(|e| e[ELEMENT].as_str())
                .map(|id| Element {
                    browser: self,
                    id: id.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
    }

    /// The first element matching a CSS selector.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element<'_> {
        self.all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css} on {}", self.url()))
    }

    /// The element that has the keyboard's focus.
    pub fn focused(&self) -> Element<'_> {
        let found = self.command("GET", "/element/active", None);
        Element {
            browser: self,
            id: found[ELEMENT].as_str().unwrap_or_default().to_string(),
        }
    }

    /// Presses keys as a keyboard does (`\u{E004}` is Tab, `\u{E007}` Enter).
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k.to_string()}),
                    json!({"type": "keyUp", "value": k.to_string()}),
                ]
            })
            .collect();
        self.command(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    /// Presses Tab until the focus is on an element matching `matches` (at most 60 times).
    #[track_caller]
    pub fn tab_to(&self, what: &str, matches: impl Fn(&Element<'_>) -> bool) {
        for _ in 0..60 {
            self.keys("\u{E004}");
            if matches(&self.focused()) {
                return;
            }
        }
        panic!("Tab never reached {what} on {}", self.url());
    }

    /// The value of cookie `name`, as the browser keeps it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.command("GET", "/cookie", None)
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str().map(str::to_string))
    }

    pub fn set_width(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Saves a PNG of the page as `target/console-screenshots/<name>.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("a screenshot written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(
            "DELETE",
            &format!("{}/session/{}", driver().base, self.session),
            None,
        );
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Element<'_> {
    fn command(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        self.browser
            .command(method, &format!("/element/{}{what}", self.id), body)
    }

    pub fn click(&self) {
        self.command("POST", "/click", Some(json!({})));
    }

    pub fn clear(&self) {
        self.command("POST", "/clear", Some(json!({})));
    }

    pub fn type_text(&self, text: &str) {
        self.command("POST", "/value", Some(json!({ "text": text })));
    }

    pub fn text(&self) -> String {
        self.command("GET", "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.command("GET", &format!("/attribute/{name}"), None)
            .as_str()
            .map(str::to_string)
    }

    /// The element's tag name, lower case.
    pub fn tag(&self) -> String {
        self.command("GET", "/name", None)
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// Chooses the `<option>` of a `<select>` whose value is `value`.
    pub fn select(&self, value: &str) {
        let option = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": format!("option[value=\"{value}\"]")})),
        );
        let id = option[ELEMENT].as_str().expect("the option").to_string();
        Element {
            browser: self.browser,
            id,
        }
        .click();
    }
}
