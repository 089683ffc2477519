//! `wecom-openwork serve` as operators run it: its log (and no secret in
//! it), its metrics, its limits against slow clients, its drain on SIGTERM
//! and its exit on a second one; `config check`; the emulator on the wall
//! clock.

#[path = "common/child.rs"]
mod child;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use child::Running;
use serde_json::{json, Value};

const SUITE: &str = "wwsuiteops01";
const CORP: &str = "wwcorpops01";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const PROVIDER_SECRET: &str = "provider-secret-ops-7f3a";
const SUITE_SECRET: &str = "suite-secret-ops-91bc";
const TOKEN: &str = "SuiteTokenOps";
const DEADLINE: Duration = Duration::from_secs(60);

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wecom-openwork-ops-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_SCRATCH").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The emulator's and the application's configurations; `extra` is added
/// to the application's.
fn write_configs(dir: &Path, emulator_port: u16, serve_port: u16, extra: &str) -> (PathBuf, PathBuf) {
    let emulator = dir.join("emulator.toml");
    std::fs::write(
        &emulator,
        format!(
            r#"provider_corp_id = "wwproviderops"
provider_secret = "{PROVIDER_SECRET}"

[[suites]]
suite_id = "{SUITE}"
suite_secret = "{SUITE_SECRET}"
token = "{TOKEN}"
aes_key = "{AES_KEY}"
command_url = "http://127.0.0.1:{serve_port}/callback/command/{SUITE}"
"#
        ),
    )
    .expect("written");
    let app = dir.join("app.toml");
    std::fs::write(
        &app,
        format!(
            r#"corp_id = "wwproviderops"
provider_secret = "{PROVIDER_SECRET}"
token = "ProviderTokenOps"
aes_key = "{AES_KEY}"

[[suites]]
suite_id = "{SUITE}"
suite_secret = "{SUITE_SECRET}"
token = "{TOKEN}"
aes_key = "{AES_KEY}"

[http]
base_uri = "http://127.0.0.1:{emulator_port}"
timeout = 2.0
retry = false

[tokens]
refresh_lease = 5

[store]
url = "sqlite://{}"
{extra}"#,
            dir.join("state.sqlite3").display()
        ),
    )
    .expect("written");
    (emulator, app)
}

fn emulator(config: &Path, port: u16) -> Running {
    let mut command = binary();
    command
        .args(["emulator", "--manual-clock", "--port", &port.to_string(), "--config"])
        .arg(config)
        .stderr(Stdio::null());
    let running = Running::start(command, DEADLINE);
    running.line_with("emulator listening on");
    running
}

/// `serve`, its log (stderr) going to `log`.
fn serve(config: &Path, port: u16, log: &Path, args: &[&str]) -> Running {
    let mut command = binary();
    let file = std::fs::File::create(log).expect("log file");
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .stderr(file);
    let running = Running::start(command, DEADLINE);
    running.line_with("serving callbacks");
    running
}

async fn control(port: u16, path: &str, body: Value) -> Value {
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

fn sigterm(running: &Running) {
    let status =
        Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}

/// Waits for the child to exit, at most `limit`; its exit code.
fn exits_within(running: &mut Running, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = running.child.try_wait().expect("wait") {
            return Some(status.code().unwrap_or(-1));
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A run of `serve` with the emulator: its log holds the refused push and
/// the authorization, in JSON lines, and not one secret the run used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_shows_what_happened_and_no_secret() {
    let dir = Scratch::new("log");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) = write_configs(&dir.0, emulator_port, serve_port, "");
    let _emulator = emulator(&emulator_config, emulator_port);
    let log = dir.0.join("serve.log");
    let mut running = serve(&app_config, serve_port, &log, &["--log-format", "json"]);

    let ticket = control(emulator_port, "suite_ticket", json!({ "suite_id": SUITE })).await;
    assert_eq!(ticket["body"], "success", "{ticket}");
    let authorized = control(emulator_port, "authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    assert_eq!(authorized["body"], "success", "{authorized}");
    let auth_code = authorized["auth_code"].as_str().expect("an auth code").to_owned();
    // A forged push: a signature that does not match.
    let forged = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{serve_port}/callback/command/{SUITE}?msg_signature=0000&timestamp={}&nonce=1",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs()
        ))
        .body("<xml><Encrypt><![CDATA[Zm9yZ2Vk]]></Encrypt></xml>")
        .send()
        .await
        .expect("sent");
    assert_eq!(forged.status().as_u16(), 400);
    // Wait until the authorization is stored, then stop.
    let deadline = Instant::now() + DEADLINE;
    while !authorizations(&app_config).iter().any(|a| a["status"] == "authorized") {
        assert!(Instant::now() < deadline, "never authorized");
        std::thread::sleep(Duration::from_millis(100));
    }
    let metrics = reqwest::get(format!("http://127.0.0.1:{serve_port}/metrics")).await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    sigterm(&running);
    assert_eq!(exits_within(&mut running, Duration::from_secs(40)), Some(0));

    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let said = |words: &str| lines.iter().any(|l| l.to_string().contains(words));
    assert!(said("callback refused") && said("-40001"), "the refused push is logged:\n{text}");
    assert!(lines.iter().any(|l| l["level"] == "WARN" && l.to_string().contains("callback refused")));
    assert!(said("a corp authorized the suite") && said(CORP), "the authorization is logged:\n{text}");
    // Every secret the run used: configured, pushed, issued.
    let mut secrets =
        vec![PROVIDER_SECRET.to_owned(), SUITE_SECRET.to_owned(), TOKEN.to_owned(), AES_KEY.to_owned()];
    secrets.push(auth_code);
    secrets.push(ticket["ticket"].as_str().expect("a ticket").to_owned());
    let requests: Vec<Value> = reqwest::get(format!("http://127.0.0.1:{emulator_port}/__emulator/requests"))
        .await
        .expect("requests")
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("json"))
        .expect("body");
    for request in &requests {
        for (name, value) in request["query"].as_object().into_iter().flatten() {
            if name.ends_with("token") {
                secrets.push(value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    secrets.extend(stored_permanent_codes(&dir.0.join("state.sqlite3")).await);
    assert!(secrets.len() > 6, "{secrets:?}");
    for secret in secrets.iter().filter(|s| s.len() >= 6) {
        assert!(!text.contains(secret.as_str()), "a secret is in the log: {secret}");
    }
    // The pushes were counted.
    let counted = metrics
        .lines()
        .filter(|l| l.starts_with("wecom_callback_pushes_total{"))
        .filter(|l| l.contains("outcome=\"success\"") || l.contains("outcome=\"refused_signature\""))
        .count();
    assert!(counted >= 2, "{metrics}");
    assert!(metrics.contains("kind=\"create_auth\""), "{metrics}");
    assert!(metrics.contains("wecom_callback_ack_seconds_bucket"), "{metrics}");
    assert!(metrics.contains("wecom_token_fetches_total"), "{metrics}");
    assert!(metrics.contains("wecom_store_operations_total"), "{metrics}");
}

fn authorizations(config: &Path) -> Vec<Value> {
    let out =
        binary().args(["authorizations", "list", "--json", "--config"]).arg(config).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

/// The permanent codes in the SQLite store, read as the store holds them.
async fn stored_permanent_codes(path: &Path) -> Vec<String> {
    let store = wecom_openwork::store::SqliteStore::open(path).expect("opens");
    {
        use wecom_openwork::store::Store;
        let mut codes = Vec::new();
        for key in store.record_keys("authorization:").await.expect("keys") {
            let record = store.get_record(&key).await.expect("read").expect("there");
            let value: Value = serde_json::from_str(&record.value).expect("json");
            if let Some(code) = value["permanent_code"].as_str() {
                codes.push(code.to_owned());
            }
        }
        codes
    }
}

/// Connections that send half a request header are closed within the
/// header timeout, and the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_closed_within_the_header_timeout() {
    let dir = Scratch::new("slow");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let extra = "\n[server]\nheader_timeout = 1.0\nmax_connections = 64\n";
    let (_, app_config) = write_configs(&dir.0, emulator_port, serve_port, extra);
    let log = dir.0.join("serve.log");
    let _running = serve(&app_config, serve_port, &log, &[]);
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", serve_port)).expect("connects");
            stream.write_all(b"POST /callback/system HTTP/1.1\r\nHost: x\r\n").expect("half a header");
            stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            stream
        })
        .collect();
    for stream in &mut slow {
        let mut rest = Vec::new();
        // Closed by the server: the read ends (with or without a 408 first).
        stream.read_to_end(&mut rest).expect("closed, not timed out on our side");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    let health = reqwest::get(format!("http://127.0.0.1:{serve_port}/healthz")).await.expect("answers");
    assert_eq!(health.text().await.expect("body"), "ok");
    let ready = reqwest::get(format!("http://127.0.0.1:{serve_port}/readyz")).await.expect("answers");
    assert_eq!(ready.status().as_u16(), 200);
}

/// SIGTERM drains at most `server.drain`: an exchange still retrying is
/// left to resume; a second signal exits at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_within_its_bound_and_a_second_signal_exits_at_once() {
    let dir = Scratch::new("drain");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) =
        write_configs(&dir.0, emulator_port, serve_port, "\n[server]\ndrain = 2.0\n");
    let _emulator = emulator(&emulator_config, emulator_port);
    let log = dir.0.join("serve.log");
    let busy = json!({ "path": "/cgi-bin/service/v2/get_permanent_code", "times": 1000, "fault": { "errcode": -1 } });

    // A bounded drain: WeCom keeps refusing, the exchange keeps retrying.
    let mut running = serve(&app_config, serve_port, &log, &[]);
    control(emulator_port, "suite_ticket", json!({ "suite_id": SUITE })).await;
    control(emulator_port, "faults", busy.clone()).await;
    control(emulator_port, "authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    let started = Instant::now();
    sigterm(&running);
    assert_eq!(exits_within(&mut running, Duration::from_secs(10)), Some(0), "stopped after the drain");
    assert!(started.elapsed() >= Duration::from_millis(1500), "it drained first: {:?}", started.elapsed());
    let listed = authorizations(&app_config);
    assert_eq!(listed.iter().map(|a| a["status"].clone()).collect::<Vec<_>>(), ["pending"], "left to resume");

    // A second signal does not wait for the drain.
    let mut config = std::fs::read_to_string(&app_config).expect("config");
    config = config.replace("drain = 2.0", "drain = 60.0");
    std::fs::write(&app_config, config).expect("written");
    let mut running = serve(&app_config, serve_port, &dir.0.join("second.log"), &[]);
    sigterm(&running);
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    sigterm(&running);
    assert_eq!(exits_within(&mut running, Duration::from_secs(5)), Some(130), "exited at once");
    assert!(second.elapsed() < Duration::from_secs(5));
}

/// `config check` validates and shows what `serve` would use: the store by
/// its absolute place (said to be the default when it is), no secret.
#[test]
fn config_check_shows_the_store_and_hides_the_secrets() {
    let dir = Scratch::new("check");
    let (_, app_config) = write_configs(&dir.0, 1, 2, "");
    let text = std::fs::read_to_string(&app_config).expect("config");
    let without_store: String = text
        .lines()
        .filter(|l| !l.starts_with("[store]") && !l.starts_with("url ="))
        .collect::<Vec<_>>()
        .join("\n");
    let default_config = dir.0.join("default.toml");
    std::fs::write(&default_config, without_store).expect("written");
    let out = binary()
        .current_dir(&dir.0)
        .args(["config", "check", "--config"])
        .arg(&default_config)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let location = shown["store"]["location"].as_str().expect("a location");
    let expected = dir.0.canonicalize().expect("dir").join("wecom-openwork.sqlite3");
    assert!(
        location.ends_with(&*expected.to_string_lossy()) || location.contains("wecom-openwork.sqlite3"),
        "{location}"
    );
    assert!(location.starts_with("sqlite:///"), "absolute: {location}");
    assert_eq!(shown["store"]["default"], true);
    let printed = String::from_utf8_lossy(&out.stdout);
    for secret in [PROVIDER_SECRET, SUITE_SECRET, TOKEN, AES_KEY] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }
    // --store wins, and a bad configuration names its field.
    let out = binary()
        .args(["config", "check", "--store", "redis://:pw-secret@127.0.0.1:6379/0", "--config"])
        .arg(&default_config)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("redis://") && !printed.contains("pw-secret"), "{printed}");
    std::fs::write(&default_config, text.replace("timeout = 2.0", "timeout = -1.0")).expect("written");
    let out = binary().args(["config", "check", "--config"]).arg(&default_config).output().expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("http.timeout"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `wecom-openwork emulator` keeps WeCom's time unless asked for a manual
/// clock: its clock moves with the wall clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_follows_the_wall_clock_by_default() {
    let port = free_port();
    let mut command = binary();
    command.args(["emulator", "--port", &port.to_string()]).stderr(Stdio::null());
    let running = Running::start(command, DEADLINE);
    running.line_with("emulator listening on");
    assert!(running.line_with("clock:").contains("wall clock"));
    let now = |stats: Value| stats["now"].as_u64().expect("now");
    let stats = |port| async move {
        reqwest::get(format!("http://127.0.0.1:{port}/__emulator/stats"))
            .await
            .expect("stats")
            .text()
            .await
            .map(|t| serde_json::from_str::<Value>(&t).expect("json"))
            .expect("body")
    };
    let first = now(stats(port).await);
    // The clock's own movement is what is checked: it takes a second.
    std::thread::sleep(Duration::from_millis(1500));
    let second = now(stats(port).await);
    assert!(second > first, "the clock moved: {first} → {second}");
}

/// The command-line tool as the README installs it (`--features cli`)
/// serves a Redis store and Prometheus metrics.
#[test]
fn the_cli_feature_includes_redis_and_metrics() {
    let manifest: toml::Table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("read")
        .parse()
        .expect("TOML");
    let cli = manifest["features"]["cli"].as_array().expect("a cli feature");
    for wanted in ["redis", "prometheus"] {
        assert!(cli.iter().any(|f| f.as_str() == Some(wanted)), "cli lacks {wanted}: {cli:?}");
    }
}
