//! The emulator answers the way WeCom does, for clients other than ours:
//! JSON errors for unknown paths and wrong methods, WeCom's `errmsg`
//! suffix, extra token parameters tolerated (and recorded) unless strict,
//! and the legacy paths older SDKs call.

mod common;

use common::http;

use std::net::SocketAddr;

use wecom_openwork::clock::ManualClock;
use wecom_openwork::emulator::{Emulator, EmulatorConfig};

async fn lenient() -> Emulator {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    Emulator::bind(addr, ManualClock::starting_now(), EmulatorConfig::default()).await.expect("emulator")
}

async fn suite_token(base: &str) -> String {
    let reply = http::post(
        &format!("{base}/cgi-bin/service/get_suite_token"),
        &serde_json::json!({"suite_id": "wwsuite", "suite_secret": "s", "suite_ticket": "t"}),
    )
    .await
    .1;
    reply["suite_access_token"].as_str().expect("a suite token").to_owned()
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_get_wecoms_json_errors() {
    let emulator = lenient().await;
    let base = emulator.base_uri();
    let unknown = http::get(&format!("{base}/cgi-bin/no/such/api")).await.1;
    assert_eq!(unknown["errcode"], 40066);
    let errmsg = unknown["errmsg"].as_str().expect("errmsg");
    assert!(errmsg.starts_with("invalid url, hint: ["), "{errmsg}");
    assert!(errmsg.contains("from ip: 127.0.0.1"), "{errmsg}");
    assert!(
        errmsg.ends_with("more info at https://open.work.weixin.qq.com/devtool/query?e=40066"),
        "{errmsg}"
    );

    let wrong = http::get(&format!("{base}/cgi-bin/service/get_suite_token")).await.1;
    assert_eq!(wrong["errcode"], 43002, "{wrong}");
    let wrong =
        http::post(&format!("{base}/cgi-bin/service/get_pre_auth_code"), &serde_json::json!({})).await.1;
    assert_eq!(wrong["errcode"], 43001, "{wrong}");
}

#[tokio::test]
async fn an_extra_token_parameter_is_recorded_not_refused_unless_strict() {
    let emulator = lenient().await;
    let base = emulator.base_uri();
    let token = suite_token(&base).await;
    // wechatpy adds `access_token=` to every call; WeCom ignores it.
    let url = format!("{base}/cgi-bin/service/get_pre_auth_code?suite_access_token={token}&access_token=x");
    let reply = http::get(&url).await.1;
    assert_eq!(reply["errcode"], 0, "{reply}");
    let violations = emulator.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "/cgi-bin/service/get_pre_auth_code");
    assert!(violations[0].detail.contains("access_token"), "{violations:?}");
    let served = http::get(&format!("{base}/__emulator/violations")).await.1;
    assert_eq!(served[0]["path"], "/cgi-bin/service/get_pre_auth_code", "{served}");
    assert_eq!(served[0]["rule"], "exactly-one-token");

    let strict = Emulator::start().await.expect("strict emulator");
    let base = strict.base_uri();
    let token = suite_token(&base).await;
    let url = format!("{base}/cgi-bin/service/get_pre_auth_code?suite_access_token={token}&access_token=x");
    let reply = http::get(&url).await.1;
    assert_eq!(reply["errcode"], 40082, "strict refuses: {reply}");
    assert!(strict.violations().is_empty());
}

#[tokio::test]
async fn the_legacy_paths_older_sdks_call_are_answered() {
    let emulator = lenient().await;
    let base = emulator.base_uri();
    let token = suite_token(&base).await;
    // The old path took the suite token as `access_token`.
    let reply =
        http::get(&format!("{base}/cgi-bin/service/getuserinfo3rd?access_token={token}&code=CODE")).await.1;
    assert_eq!(reply["errcode"], 0, "{reply}");
    let reply = http::post(
        &format!("{base}/cgi-bin/service/getuserdetail3rd?access_token={token}"),
        &serde_json::json!({"user_ticket": "USER_TICKET"}),
    )
    .await
    .1;
    assert_eq!(reply["errcode"], 0, "{reply}");
    // The token is still checked there: a made-up one is refused.
    let bogus =
        http::get(&format!("{base}/cgi-bin/service/getuserinfo3rd?access_token=bogus&code=CODE")).await.1;
    assert_eq!(bogus["errcode"], 40082, "{bogus}");
    let recorded = emulator.requests();
    assert!(recorded.iter().any(|r| r.path == "/cgi-bin/service/getuserinfo3rd"));
}
