//! State shared by separate OS processes, as an ISV runs them: four
//! processes on one Redis (or one SQLite file) and one emulated WeCom make
//! exactly one token fetch per scope between them, and a process killed with
//! SIGKILL finds its ticket and permanent codes when it comes back.
//!
//! The processes are this test binary run again as a child, with the
//! ignored `worker` test selected and its role in the environment.

#[path = "common/child.rs"]
mod child;
mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use child::Running;

use common::{config, CORP, SUITE};
use redis_server::RedisServer;
use wecom_openwork::emulator::{Emulator, EmulatorConfig};
use wecom_openwork::store::{keys, RedisOptions, RedisStore, SqliteStore, Store, DEFAULT_SQLITE_FILE};
use wecom_openwork::{Application, Config, Secret, SuiteId};

const SUITE_TOKEN: &str = "/cgi-bin/service/get_suite_token";
const CORP_TOKEN: &str = "/cgi-bin/service/get_corp_token";
const PRE_AUTH: &str = "/cgi-bin/service/get_pre_auth_code";
const PERMANENT_CODE: &str = "/cgi-bin/service/v2/get_permanent_code";
/// Concurrent calls per process.
const CALLS: usize = 1000;
/// Longest a child may take to answer one step.
const STEP_DEADLINE: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------ workers

/// `store_url` "default" leaves the store unconfigured: the SQLite file in
/// the working directory.
fn worker_config(base_uri: &str, store_url: &str) -> Config {
    let mut config = config(base_uri);
    config.store.url = (store_url != "default").then(|| Secret::new(store_url));
    // Fail fast in a test rather than wait out the production defaults.
    config.store.timeout = 5.0;
    // 4,000 concurrent calls on two cores: a reply may take seconds, and a
    // timed-out token fetch would be repeated, which is not what is tested.
    config.http.timeout = 30.0;
    config.tokens.refresh_lease = 300;
    config
}

/// One child process: builds an application on the shared store and obeys
/// the lines it reads, answering on stdout.
#[test]
#[ignore = "a child process of the other tests in this file, not a test of its own"]
fn worker() {
    let (Ok(base_uri), Ok(store_url)) = (std::env::var("WORKER_BASE_URI"), std::env::var("WORKER_STORE_URL"))
    else {
        panic!("run by the other tests of this file only");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let app = Application::new(worker_config(&base_uri, &store_url)).expect("valid config");
        if let Ok(port) = std::env::var("WORKER_CALLBACK_PORT") {
            let listener =
                tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap())).await.unwrap();
            let router = app.server().router();
            tokio::spawn(async move { axum::serve(listener, router).await });
        }
        println!("ready");
        let mut lines = BufReader::new(std::io::stdin()).lines();
        while let Some(Ok(line)) = lines.next() {
            let answer = match line.as_str() {
                "suite-and-corp" => burst(&app, true).await,
                "suite" => burst(&app, false).await,
                "await-authorization" => loop {
                    // The callback server stores it in the background.
                    if let Ok(Some(_)) = app.corp(SUITE, CORP).permanent_code().authorization().await {
                        break "authorized".to_owned();
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                },
                other => format!("unknown command {other}"),
            };
            println!("{answer}");
        }
    });
}

/// `CALLS` concurrent calls needing the suite token, and the corp token too
/// when asked; answers `ok N` with the number that succeeded, or the first
/// error.
async fn burst(app: &Application, corp_too: bool) -> String {
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.suite(SUITE).get_pre_auth_code().await?;
                if corp_too {
                    app.corp(SUITE, CORP).jsapi().get_jsapi_ticket().await?;
                }
                Ok::<_, wecom_openwork::Error>(())
            })
        })
        .collect();
    let mut ok = 0;
    for call in calls {
        match call.await {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => return format!("error {e}"),
            Err(e) => return format!("panic {e}"),
        }
    }
    format!("ok {ok}")
}

// ------------------------------------------------------------------ parent side

/// A worker process, speaking its line protocol.
struct Worker(Running);

impl Worker {
    fn spawn(base_uri: &str, store_url: &str, callback_port: Option<u16>) -> Worker {
        Worker::spawn_in(base_uri, store_url, callback_port, None)
    }

    fn spawn_in(
        base_uri: &str,
        store_url: &str,
        callback_port: Option<u16>,
        dir: Option<&std::path::Path>,
    ) -> Worker {
        let mut command = Command::new(std::env::current_exe().expect("test binary"));
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        command
            .args(["worker", "--exact", "--ignored", "--nocapture", "--test-threads=1", "--quiet"])
            .env("WORKER_BASE_URI", base_uri)
            .env("WORKER_STORE_URL", store_url)
            .stderr(Stdio::inherit());
        if let Some(port) = callback_port {
            command.env("WORKER_CALLBACK_PORT", port.to_string());
        }
        let mut worker = Worker(Running::start(command, STEP_DEADLINE));
        worker.expect("ready");
        worker
    }

    fn send(&mut self, command: &str) {
        self.0.send(command);
    }

    /// The next line of the worker's protocol (test-harness lines skipped).
    fn expect(&mut self, want: &str) {
        let protocol = ["ready", "ok ", "error ", "panic ", "authorized", "unknown "];
        let got = self.0.next_line(|line| protocol.iter().any(|p| line.starts_with(p)));
        assert_eq!(got, want, "child process answered");
    }

    fn sigkill(self) {
        self.0.sigkill();
    }
}

fn temp_sqlite(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("wecom-openwork-shared-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("state.sqlite3").display());
    (dir, url)
}

/// The four-process tests run one at a time: each loads both cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Four processes, 1,000 concurrent calls each, one fetch per scope; then
/// WeCom revokes the suite token and 4 × 1,000 calls make one more fetch.
async fn four_processes_fetch_once(store_url: &str) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let emulator = Emulator::start().await.expect("emulator");
    let base_uri = emulator.base_uri();
    // The ticket and the permanent code, stored once by whoever got them.
    let setup = Application::new(worker_config(&base_uri, store_url)).expect("valid");
    setup.suite(SUITE).ticket().set("ticket-of-the-suite").await.expect("ticket");
    setup.corp(SUITE, CORP).permanent_code().set("permanent-code-of-corp").await.expect("code");

    let mut workers: Vec<Worker> = (0..4).map(|_| Worker::spawn(&base_uri, store_url, None)).collect();
    for worker in &mut workers {
        worker.send("suite-and-corp");
    }
    for worker in &mut workers {
        worker.expect(&format!("ok {CALLS}"));
    }
    assert_eq!(emulator.calls(SUITE_TOKEN), 1, "one suite token for four processes");
    assert_eq!(emulator.calls(CORP_TOKEN), 1, "one corp token for four processes");
    // At least one each (a call that timed out on a loaded machine is retried).
    assert!(emulator.calls(PRE_AUTH) >= 4 * CALLS);

    // WeCom invalidates the suite token every process holds.
    let key = keys::suite_token(&SuiteId::new(SUITE));
    let stored = setup.store().get_token(&key).await.expect("store").expect("stored suite token");
    emulator.revoke_token(&stored.value);
    for worker in &mut workers {
        worker.send("suite");
    }
    for worker in &mut workers {
        worker.expect(&format!("ok {CALLS}"));
    }
    assert_eq!(emulator.calls(SUITE_TOKEN), 2, "exactly one more fetch after the invalidation");
    assert_eq!(emulator.calls(CORP_TOKEN), 1);
    let renewed = setup.store().get_token(&key).await.expect("store").expect("stored");
    assert_ne!(renewed.value, stored.value);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_one_redis_fetch_each_token_once() {
    let redis = RedisServer::start();
    four_processes_fetch_once(&redis.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_one_sqlite_file_fetch_each_token_once() {
    let (dir, url) = temp_sqlite("four");
    four_processes_fetch_once(&url).await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A process receives the ticket and the authorization through its callback
/// server, is killed with SIGKILL, and its successor carries on with what
/// the store kept: no new authorization, no missing ticket.
async fn a_killed_process_keeps_its_ticket_and_codes(
    store_url: &str,
    dir: Option<&std::path::Path>,
) -> Emulator {
    let callback = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = callback.local_addr().expect("addr").port();
    drop(callback);
    let clock = wecom_openwork::clock::ManualClock::starting_now();
    let emulator_config = EmulatorConfig::from_config(
        &config("http://unused.invalid"),
        Some(&format!("http://127.0.0.1:{port}")),
    );
    let emulator =
        Emulator::bind("127.0.0.1:0".parse().expect("addr"), clock, emulator_config).await.expect("emulator");
    let base_uri = emulator.base_uri();

    let mut first = Worker::spawn_in(&base_uri, store_url, Some(port), dir);
    emulator.push_suite_ticket(SUITE).await.expect("ticket pushed to the first process");
    emulator.authorize_corp(SUITE, CORP).await.expect("create_auth pushed");
    first.send("await-authorization");
    first.expect("authorized");
    first.sigkill();
    assert_eq!(emulator.calls(PERMANENT_CODE), 1);

    let mut second = Worker::spawn_in(&base_uri, store_url, None, dir);
    second.send("suite-and-corp");
    second.expect(&format!("ok {CALLS}"));
    assert_eq!(emulator.calls(PERMANENT_CODE), 1, "no new authorization was needed");
    emulator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_on_redis_finds_its_state_again() {
    let redis = RedisServer::start();
    a_killed_process_keeps_its_ticket_and_codes(&redis.url(), None).await;
    let store = RedisStore::open(&redis.url(), RedisOptions::default()).expect("opens");
    let record = store.get_record(&keys::authorization(&SUITE.into(), &CORP.into())).await.expect("read");
    assert!(record.is_some_and(|r| r.value.contains("permanent_code")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_on_the_default_sqlite_store_finds_its_state_again() {
    let (dir, _) = temp_sqlite("killed");
    a_killed_process_keeps_its_ticket_and_codes("default", Some(&dir)).await;
    // Nothing configured: the file in the working directory kept it all.
    let store = SqliteStore::open(dir.join(DEFAULT_SQLITE_FILE)).expect("the default file exists");
    let record = store.get_record(&keys::authorization(&SUITE.into(), &CORP.into())).await.expect("read");
    assert!(record.is_some_and(|r| r.value.contains("permanent_code")));
    assert!(store.get_record(&keys::suite_ticket(&SUITE.into())).await.expect("read").is_some());
    let _ = std::fs::remove_dir_all(dir);
}
