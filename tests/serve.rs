//! The callback side run as its own process, as a team would run it:
//! `wecom-openwork emulator` pushes to `wecom-openwork serve`, which is
//! killed with SIGKILL after acknowledging `create_auth` and before the
//! exchange went through; the restarted `serve` finishes it, and
//! `wecom-openwork authorizations` shows all of it from outside.

#[path = "common/child.rs"]
mod child;
#[path = "common/redis_server.rs"]
mod redis_server;
#[path = "common/service.rs"]
mod service;

use serde_json::json;
use service::{authorizations, binary, control, emulator, free_port, until_authorized, Names, Scratch};

const SUITE: &str = "wwsuiteserve01";
const CORP: &str = "wwcorpserve01";
const NAMES: Names = Names {
    provider: "wwproviderserve",
    provider_secret: "provider-secret",
    suite: SUITE,
    suite_secret: "suite-secret",
    token: "SuiteToken",
    aes_key: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_survives_sigkill_and_authorizations_shows_it() {
    let dir = Scratch::new("serve");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) =
        service::write_configs(&dir.0, &NAMES, emulator_port, serve_port, &dir.sqlite(), "");
    let _emulator = emulator(&emulator_config, emulator_port);
    let serve = service::serve(&app_config, serve_port, None, &[]);
    let health = reqwest::get(format!("http://127.0.0.1:{serve_port}/healthz")).await.expect("sent");
    assert_eq!(health.text().await.expect("body"), "ok");

    let ticket = control(emulator_port, "suite_ticket", json!({ "suite_id": SUITE })).await;
    assert_eq!(ticket["body"], "success", "{ticket}");
    // WeCom answers the exchange with "system busy" three times (the first
    // process pauses 1 s after the first), so the kill comes before it ends.
    control(
        emulator_port,
        "faults",
        json!({ "path": "/cgi-bin/service/v2/get_permanent_code", "times": 3, "fault": { "errcode": -1 } }),
    )
    .await;
    control(emulator_port, "authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    serve.sigkill();

    let listed = authorizations(&app_config);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["status"], "pending", "{listed:?}");
    assert_eq!(listed[0]["suite_id"], SUITE);

    // The restarted service resumes the exchange.
    let (serve, announced) = service::serve_announced(&app_config, serve_port, None, &[]);
    assert!(announced.contains("resumed 1 unfinished"), "{announced}");
    let authorized = until_authorized(&app_config, CORP);
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
    service::sigterm(&serve);
    serve.line_with("stopped");

    let forgot = binary()
        .args(["authorizations", "forget", SUITE, CORP, "--config"])
        .arg(&app_config)
        .output()
        .expect("runs");
    assert!(forgot.status.success(), "{}", String::from_utf8_lossy(&forgot.stderr));
    assert!(authorizations(&app_config).is_empty());
}

/// `serve` on Redis, Redis down for 8 s while an exchange is retrying
/// WeCom's errors: once Redis is back, the same process stores the corp (the
/// exchange used to stop at the first store error until a restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_redis_finishes_an_exchange_after_an_outage_without_a_restart() {
    let mut redis = redis_server::RedisServer::start();
    let dir = Scratch::new("serve-redis");
    let (emulator_port, serve_port) = (free_port(), free_port());
    let (emulator_config, app_config) =
        service::write_configs(&dir.0, &NAMES, emulator_port, serve_port, &redis.url(), "");
    let _emulator = emulator(&emulator_config, emulator_port);
    let _serve = service::serve(&app_config, serve_port, None, &[]);
    let ticket = control(emulator_port, "suite_ticket", json!({ "suite_id": SUITE })).await;
    assert_eq!(ticket["body"], "success");
    // WeCom is busy for the first attempts: the exchange is retrying when
    // Redis goes away.
    control(
        emulator_port,
        "faults",
        json!({ "path": "/cgi-bin/service/v2/get_permanent_code", "times": 2, "fault": { "errcode": -1 } }),
    )
    .await;
    let pushed = control(emulator_port, "authorize", json!({ "suite_id": SUITE, "corp_id": CORP })).await;
    assert_eq!(pushed["body"], "success", "{pushed}");
    redis.kill();
    // The outage itself, as long as the scenario says.
    std::thread::sleep(std::time::Duration::from_secs(8));
    redis.restart();
    // Without a restart of serve: it used to stop at the first store error.
    until_authorized(&app_config, CORP);
}
