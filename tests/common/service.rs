//! The command-line tool run as processes, as a team runs it: the emulator
//! and `serve` with their configuration files, the emulator's control API,
//! and `authorizations` reading the store from outside. Standalone: include
//! it with `#[path = "common/service.rs"] mod service;` (it needs
//! `common/child.rs` as `child`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::child::Running;

/// How long a process may take to print what a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The provider, the suite and their secrets, as both configurations hold them.
pub struct Names {
    pub provider: &'static str,
    pub provider_secret: &'static str,
    pub suite: &'static str,
    pub suite_secret: &'static str,
    pub token: &'static str,
    pub aes_key: &'static str,
}

pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A scratch directory, removed when dropped (kept with `KEEP_SCRATCH=1`).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wecom-openwork-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        Scratch(dir)
    }

    /// The SQLite store's URL in this directory.
    pub fn sqlite(&self) -> String {
        format!("sqlite://{}", self.0.join("state.sqlite3").display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_SCRATCH").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The emulator's configuration (pushing to `serve` on `serve_port`) and
/// the application's (calling the emulator on `emulator_port`, keeping its
/// state at `store`); `extra` is appended to the application's.
pub fn write_configs(
    dir: &Path,
    names: &Names,
    emulator_port: u16,
    serve_port: u16,
    store: &str,
    extra: &str,
) -> (PathBuf, PathBuf) {
    let Names { provider, provider_secret, suite, suite_secret, token, aes_key } = names;
    let emulator = dir.join("emulator.toml");
    std::fs::write(
        &emulator,
        format!(
            r#"provider_corp_id = "{provider}"
provider_secret = "{provider_secret}"

[[suites]]
suite_id = "{suite}"
suite_secret = "{suite_secret}"
token = "{token}"
aes_key = "{aes_key}"
command_url = "http://127.0.0.1:{serve_port}/callback/command/{suite}"
"#
        ),
    )
    .expect("written");
    let app = dir.join("app.toml");
    std::fs::write(
        &app,
        format!(
            r#"corp_id = "{provider}"
provider_secret = "{provider_secret}"
token = "ProviderToken"
aes_key = "{aes_key}"

[[suites]]
suite_id = "{suite}"
suite_secret = "{suite_secret}"
token = "{token}"
aes_key = "{aes_key}"

[http]
base_uri = "http://127.0.0.1:{emulator_port}"
timeout = 2.0
retry = false

# A process killed mid-exchange holds its lease until it lapses: keep it short
# (it must still cover the slowest fetch: 2 × 2 s here).
[tokens]
refresh_lease = 5

[store]
url = "{store}"
{extra}"#
        ),
    )
    .expect("written");
    (emulator, app)
}

/// The emulator on `port`, on a manual clock, once it listens.
pub fn emulator(config: &Path, port: u16) -> Running {
    let mut command = binary();
    command
        .args(["emulator", "--manual-clock", "--port", &port.to_string(), "--config"])
        .arg(config)
        .stderr(Stdio::null());
    let running = Running::start(command, DEADLINE);
    running.line_with("emulator listening on");
    running
}

/// `serve` on `port` with `args`, its log (stderr) going to `log` (nowhere
/// when `None`), once it serves.
pub fn serve(config: &Path, port: u16, log: Option<&Path>, args: &[&str]) -> Running {
    serve_announced(config, port, log, args).0
}

/// [`serve`], with the line it announced itself with (how many unfinished
/// authorizations it resumed, which store).
pub fn serve_announced(config: &Path, port: u16, log: Option<&Path>, args: &[&str]) -> (Running, String) {
    let mut command = binary();
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
        None => Stdio::null(),
    };
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .stderr(stderr);
    let running = Running::start(command, DEADLINE);
    let announced = running.line_with("serving callbacks");
    (running, announced)
}

/// A call to the emulator's control API (`POST /__emulator/PATH`).
pub async fn control(port: u16, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/__emulator/{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success(), "{path}: {}", response.status());
    serde_json::from_str(&response.text().await.expect("body")).expect("json")
}

/// `authorizations list --json`.
pub fn authorizations(config: &Path) -> Vec<Value> {
    let out =
        binary().args(["authorizations", "list", "--json", "--config"]).arg(config).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

/// Waits (at most [`DEADLINE`]) until `corp` is listed as authorized.
pub fn until_authorized(config: &Path, corp: &str) -> Vec<Value> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let listed = authorizations(config);
        if listed.iter().any(|a| a["status"] == "authorized" && a["corp_id"] == corp) {
            return listed;
        }
        assert!(Instant::now() < deadline, "never authorized: {listed:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends SIGTERM.
pub fn sigterm(running: &Running) {
    let status =
        Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}
