//! The callback side run as its own process, as a team would run it:
//! `wecom-openwork emulator` pushes to `wecom-openwork serve`, which is
//! killed with SIGKILL after acknowledging `create_auth` and before the
//! exchange went through; the restarted `serve` finishes it, and
//! `wecom-openwork authorizations` shows all of it from outside.

#[path = "common/child.rs"]
mod child;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use child::Running;

use serde_json::{json, Value};

const SUITE: &str = "wwsuiteserve01";
const CORP: &str = "wwcorpserve01";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const DEADLINE: Duration = Duration::from_secs(60);

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
}

/// `wecom-openwork ARGS…`, running.
fn start(args: &[&str]) -> Running {
    let mut command = binary();
    command.args(args).stderr(Stdio::null());
    Running::start(command, DEADLINE)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn authorizations(config: &Path) -> Vec<Value> {
    let out =
        binary().args(["authorizations", "list", "--json", "--config"]).arg(config).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

fn write_configs(dir: &Path, emulator_port: u16, serve_port: u16) -> (PathBuf, PathBuf) {
    let store = format!("sqlite://{}", dir.join("state.sqlite3").display());
    write_configs_with(dir, emulator_port, serve_port, &store)
}

fn write_configs_with(dir: &Path, emulator_port: u16, serve_port: u16, store: &str) -> (PathBuf, PathBuf) {
    let emulator = dir.join("emulator.toml");
    std::fs::write(
        &emulator,
        format!(
            r#"provider_corp_id = "wwproviderserve"
provider_secret = "provider-secret"

[[suites]]
suite_id = "{SUITE}"
suite_secret = "suite-secret"
token = "SuiteToken"
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
            r#"corp_id = "wwproviderserve"
provider_secret = "provider-secret"
token = "ProviderToken"
aes_key = "{AES_KEY}"

[[suites]]
suite_id = "{SUITE}"
suite_secret = "suite-secret"
token = "SuiteToken"
aes_key = "{AES_KEY}"

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
"#
        ),
    )
    .expect("written");
    (emulator, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_survives_sigkill_and_authorizations_shows_it() {
    let dir = std::env::temp_dir().join(format!("wecom-openwork-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) = write_configs(&dir, emulator_port, serve_port);
    let emulator = start(&[
        "emulator",
        "--manual-clock",
        "--port",
        &emulator_port.to_string(),
        "--config",
        emulator_config.to_str().expect("utf-8"),
    ]);
    emulator.line_with("emulator listening on");
    let control = format!("http://127.0.0.1:{emulator_port}/__emulator");
    let listen = format!("127.0.0.1:{serve_port}");
    let serve_args = ["serve", "--config", app_config.to_str().expect("utf-8"), "--listen", &listen];
    let serve = start(&serve_args);
    serve.line_with("serving callbacks");
    let http = reqwest::Client::new();
    let health = http.get(format!("http://{listen}/healthz")).send().await.expect("sent");
    assert_eq!(health.text().await.expect("body"), "ok");

    let post = |path: &'static str, body: Value| {
        let request = http
            .post(format!("{control}/{path}"))
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let response = request.send().await.expect("sent");
            assert!(response.status().is_success(), "{path}: {}", response.status());
            serde_json::from_str::<Value>(&response.text().await.expect("body")).expect("json")
        }
    };
    let ticket = post("suite_ticket", json!({ "suite_id": SUITE })).await;
    assert_eq!(ticket["body"], "success", "{ticket}");
    // WeCom answers the exchange with "system busy" three times (the first
    // process pauses 1 s after the first), so the kill comes before it ends.
    post(
        "faults",
        json!({ "path": "/cgi-bin/service/v2/get_permanent_code", "times": 3, "fault": { "errcode": -1 } }),
    )
    .await;
    post("authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    serve.sigkill();

    let listed = authorizations(&app_config);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["status"], "pending", "{listed:?}");
    assert_eq!(listed[0]["suite_id"], SUITE);

    // The restarted service resumes the exchange.
    let serve = start(&serve_args);
    serve.line_with("resumed 1 unfinished");
    let deadline = Instant::now() + DEADLINE;
    let authorized = loop {
        let listed = authorizations(&app_config);
        if listed.iter().any(|a| a["status"] == "authorized") {
            break listed;
        }
        assert!(Instant::now() < deadline, "never authorized: {listed:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(authorized.len(), 1, "{authorized:?}");
    assert_eq!(authorized[0]["corp_id"], CORP);
    assert_eq!(authorized[0]["app_kind"], "third_party");

    let shown = binary()
        .args(["authorizations", "show", SUITE, CORP, "--config"])
        .arg(&app_config)
        .output()
        .expect("runs");
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains(CORP) && !text.contains("permanent_code"), "{text}");

    // SIGTERM drains and stops.
    let status = Command::new("kill").args(["-TERM", &serve.child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    serve.line_with("stopped");

    let forgot = binary()
        .args(["authorizations", "forget", SUITE, CORP, "--config"])
        .arg(&app_config)
        .output()
        .expect("runs");
    assert!(forgot.status.success(), "{}", String::from_utf8_lossy(&forgot.stderr));
    assert!(authorizations(&app_config).is_empty());
    drop(emulator);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve` on Redis, Redis down for 8 s while an exchange is retrying
/// WeCom's errors: once Redis is back, the same process stores the corp (the
/// exchange used to stop at the first store error until a restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_redis_finishes_an_exchange_after_an_outage_without_a_restart() {
    let mut redis = redis_server::RedisServer::start();
    let dir = std::env::temp_dir().join(format!("wecom-openwork-serve-redis-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) = write_configs_with(&dir, emulator_port, serve_port, &redis.url());
    let emulator = start(&[
        "emulator",
        "--manual-clock",
        "--port",
        &emulator_port.to_string(),
        "--config",
        emulator_config.to_str().expect("utf-8"),
    ]);
    emulator.line_with("emulator listening on");
    let listen = format!("127.0.0.1:{serve_port}");
    let serve = start(&["serve", "--config", app_config.to_str().expect("utf-8"), "--listen", &listen]);
    serve.line_with("serving callbacks");
    let control = format!("http://127.0.0.1:{emulator_port}/__emulator");
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: Value| {
        let request = http
            .post(format!("{control}/{path}"))
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let response = request.send().await.expect("sent");
            assert!(response.status().is_success(), "{path}: {}", response.status());
            serde_json::from_str::<Value>(&response.text().await.expect("body")).expect("json")
        }
    };
    assert_eq!(post("suite_ticket", json!({ "suite_id": SUITE })).await["body"], "success");
    // WeCom is busy for the first attempts: the exchange is retrying when
    // Redis goes away.
    post(
        "faults",
        json!({ "path": "/cgi-bin/service/v2/get_permanent_code", "times": 2, "fault": { "errcode": -1 } }),
    )
    .await;
    let pushed = post("authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    assert_eq!(pushed["body"], "success", "{pushed}");
    redis.kill();
    // The outage itself, as long as the scenario says.
    std::thread::sleep(Duration::from_secs(8));
    redis.restart();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let listed = authorizations(&app_config);
        if listed.iter().any(|a| a["status"] == "authorized" && a["corp_id"] == CORP) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never authorized after the outage, without a restart: {listed:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(serve);
    drop(emulator);
    let _ = std::fs::remove_dir_all(&dir);
}
