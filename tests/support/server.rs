//! The Worker under `wrangler dev`: built, given a fresh state directory with the
//! migrations applied, started on a free port with the test configuration, and stopped with
//! the test binary. One server per test binary, started on first use.

use super::client::Request;
use super::{dns, mail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const JWT_SECRET: &str = "roster-tests-hs256-secret-0123456789abcdef";
pub const ISSUER: &str = "https://id.test.roster";
pub const AUDIENCE: &str = "roster-tests";

/// Requests of the tests share the Worker's database; SQL run beside it ([`Server::sql`])
/// has it alone. Local D1 is one SQLite file: a request whose statement meets the lock of
/// SQL run from outside fails with a 500, however briefly the lock is held.
pub static DATABASE: RwLock<()> = RwLock::new(());

/// How a test binary wants its server configured.
#[derive(Clone, Default)]
pub struct Options {
    /// `INVITE_TTL_SECONDS`; the Worker's default when `None`.
    pub invite_ttl_seconds: Option<u64>,
    /// Leave `EMAIL_API_URL` unset, so emails go to the log.
    pub log_emails: bool,
    /// More `--var NAME:value` pairs.
    pub vars: Vec<(String, String)>,
    /// `TOKEN_LIMITER`'s requests per minute instead of wrangler.toml's, for a client that
    /// cannot give each request an address of its own (schemathesis); the server then runs
    /// on a copy of wrangler.toml in its state directory.
    pub token_limit: Option<u32>,
    /// Start from a database of an earlier version: these migrations first, then this SQL,
    /// then the rest, as a deployment upgrading with data would.
    pub upgrade: Option<Upgrade>,
}

/// A database as an earlier version left it.
#[derive(Clone)]
pub struct Upgrade {
    /// How many of `migrations/`, in order, that version had applied.
    pub applied: usize,
    /// Its data.
    pub seed: String,
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
        if let Some(upgrade) = &options.upgrade {
            earlier_version(&root, &state_dir, upgrade);
        }
        run(
            wrangler(&root)
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&state_dir),
            "applying migrations",
        );
        let mail = mail::Mailbox::start();
        // A free port is only free until someone takes it: wrangler, or something it starts,
        // can take the one picked before wrangler binds it. Then wrangler exits at once, and
        // the server is started again on other ports.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            let config = options
                .token_limit
                .map(|limit| config_with_token_limit(&root, &state_dir, limit));
            let vars = vars(&options, &base, &mail);
            let mut wrangler = spawn(&root, &state_dir, config.as_deref(), port, &vars);
            match wait_until_ready(&base, &mut wrangler, &state_dir) {
                Ok(()) => {
                    return Server {
                        base,
                        mail,
                        state_dir,
                        _wrangler: wrangler,
                    }
                }
                Err(Startup::Exited) if attempt < 3 => continue,
                Err(_) => {
                    let log = std::fs::read_to_string(state_dir.join("wrangler.log"));
                    panic!(
                        "wrangler dev did not become ready:\n{}",
                        log.unwrap_or_default()
                    );
                }
            }
        }
    }

    /// The state directory: local D1 and KV, and the Worker's log.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Everything the Worker wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("wrangler.log")).unwrap_or_default()
    }

    /// Runs `sql` on the server's local D1 (beside the running Worker) and returns its rows,
    /// while no request of the tests is in flight (see [`DATABASE`]).
    /// The Worker holds the same SQLite file, so a statement that meets its write lock
    /// (`SQLITE_BUSY`, nothing applied) is run again after a pause.
    pub fn sql(&self, sql: &str) -> Vec<serde_json::Value> {
        let _alone = DATABASE
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut attempt = 0;
        let output = loop {
            let output = wrangler(&project_root())
                .args(["d1", "execute", "DB", "--local", "--json", "--persist-to"])
                .arg(&self.state_dir)
                .args(["--command", sql])
                .output()
                .expect("wrangler d1 execute runs");
            // With `--json`, wrangler reports the error on stdout, without it on stderr.
            let busy = [&output.stdout, &output.stderr]
                .iter()
                .any(|out| String::from_utf8_lossy(out).contains("SQLITE_BUSY"));
            if output.status.success() || !busy || attempt == 10 {
                break output;
            }
            attempt += 1;
            std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
        };
        assert!(
            output.status.success(),
            "d1 execute: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("d1 answers JSON");
        answer[0]["results"].as_array().cloned().unwrap_or_default()
    }

    /// Runs the scheduled job once, as the cron trigger would.
    pub fn run_cron(&self) {
        let reply = Request::new("GET", "/__scheduled?cron=*/15+*+*+*+*").send();
        assert_eq!(reply.status, 200, "scheduled run: {}", reply.text);
    }
}

/// Leaves in `state_dir` the database of an earlier version: its migrations applied from a
/// copy of the configuration that knows only those, then its data.
fn earlier_version(root: &Path, state_dir: &Path, upgrade: &Upgrade) {
    let old = state_dir.join("earlier");
    let migrations = old.join("migrations");
    std::fs::create_dir_all(&migrations).expect("earlier migrations dir");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("migrations"))
        .expect("migrations")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for file in files.iter().take(upgrade.applied) {
        let name = file.file_name().expect("a file name");
        std::fs::copy(file, migrations.join(name)).expect("copy a migration");
    }
    let config = old.join("wrangler.toml");
    std::fs::copy(root.join("wrangler.toml"), &config).expect("copy wrangler.toml");
    run(
        wrangler(root)
            .args(["d1", "migrations", "apply", "DB", "--local", "--config"])
            .arg(&config)
            .arg("--persist-to")
            .arg(state_dir),
        "applying the earlier migrations",
    );
    let seed = old.join("seed.sql");
    std::fs::write(&seed, &upgrade.seed).expect("seed file");
    run(
        wrangler(root)
            .args(["d1", "execute", "DB", "--local", "--file"])
            .arg(&seed)
            .arg("--persist-to")
            .arg(state_dir),
        "seeding the earlier version",
    );
}

/// Why a server did not start.
enum Startup {
    /// wrangler exited (a port taken under it, say).
    Exited,
    /// It did not answer `/health` in time.
    TimedOut,
}

/// The `--var`s of a server at `base` with `options`.
fn vars(options: &Options, base: &str, mail: &mail::Mailbox) -> Vec<(String, String)> {
    let mut vars = vec![
        ("JWT_HS256_SECRET".to_string(), JWT_SECRET.to_string()),
        ("JWT_ISSUER".into(), ISSUER.into()),
        ("JWT_AUDIENCE".into(), AUDIENCE.into()),
        ("PUBLIC_URL".into(), base.to_string()),
        ("APP_URL".into(), "https://app.test.roster".into()),
        ("EMAIL_API_KEY".into(), mail::API_KEY.into()),
        (
            "EMAIL_FROM".into(),
            "Roster Tests <invites@test.roster>".into(),
        ),
        ("ALLOW_HTTP_WEBHOOKS".into(), "true".into()),
        // Domains are verified against the stand-in: no test asks a real resolver.
        ("DNS_RESOLVER_URL".into(), dns::dns().url()),
    ];
    if !options.log_emails {
        vars.push(("EMAIL_API_URL".into(), mail.url.clone()));
    }
    if let Some(ttl) = options.invite_ttl_seconds {
        vars.push(("INVITE_TTL_SECONDS".into(), ttl.to_string()));
    }
    vars.extend(options.vars.iter().cloned());
    vars
}

/// A copy of the project's wrangler.toml, written to `state_dir`, whose `TOKEN_LIMITER`
/// allows `limit` requests a minute; its paths lead back to the project.
fn config_with_token_limit(root: &Path, state_dir: &Path, limit: u32) -> PathBuf {
    let original = std::fs::read_to_string(root.join("wrangler.toml")).expect("wrangler.toml");
    let root = root.display();
    let limiter = "simple = { limit = 60, period = 60 }";
    assert!(
        original.contains(limiter),
        "wrangler.toml binds TOKEN_LIMITER"
    );
    let copy = original
        .replace(
            limiter,
            &format!("simple = {{ limit = {limit}, period = 60 }}"),
        )
        .replace("main = \"build/", &format!("main = \"{root}/build/"))
        .replace(
            "command = \"sh scripts/",
            &format!("command = \"sh {root}/scripts/"),
        )
        // The harness built the Worker before starting the server: nothing to watch.
        .replace("watch_dir = [\"src\", \"migrations\"]", "")
        .replace(
            "migrations_dir = \"migrations\"",
            &format!("migrations_dir = \"{root}/migrations\""),
        );
    let path = state_dir.join("wrangler.toml");
    std::fs::write(&path, copy).expect("writing the configuration");
    path
}

/// Starts `wrangler dev` on `port` with local state in `state_dir` (and the configuration
/// `config`, or the project's), logging to `state_dir/wrangler.log`.
fn spawn(
    root: &Path,
    state_dir: &Path,
    config: Option<&Path>,
    port: u16,
    vars: &[(String, String)],
) -> Child {
    let log = std::fs::File::create(state_dir.join("wrangler.log")).expect("log file");
    let mut command = wrangler(root);
    command.arg("dev");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--inspector-port", &free_port().to_string()])
        .args([
            "--test-scheduled",
            "--show-interactive-dev-session=false",
            "--persist-to",
        ])
        .arg(state_dir);
    for (name, value) in vars {
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
    wrangler
}

/// Waits until the server at `base` answers `/health`, or `wrangler` exits.
fn wait_until_ready(base: &str, wrangler: &mut Child, state_dir: &Path) -> Result<(), Startup> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(reply) = ureq::get(&format!("{base}/health"))
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .call()
        {
            if reply.status() == 200 {
                return Ok(());
            }
        }
        let log = std::fs::read_to_string(state_dir.join("wrangler.log")).unwrap_or_default();
        // wrangler reports a port taken under it, but does not always exit.
        let port_taken = log.contains("Address already in use");
        if port_taken || matches!(wrangler.try_wait(), Ok(Some(_))) {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", wrangler.id())])
                .status();
            let _ = wrangler.wait();
            eprintln!("wrangler dev exited before it was ready; starting it again:\n{log}");
            return Err(Startup::Exited);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(Startup::TimedOut)
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
