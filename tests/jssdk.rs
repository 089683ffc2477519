//! JS-SDK tickets as runtime-managed credentials: one fetch per (suite,
//! corp) however many callers, WeCom's hourly limits kept, and the complete
//! parameter sets for `wx.config`, `wx.agentConfig` and `ww.register`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{app_on_emulator, CORP, SUITE};
use wecom_openwork::crypto::jsapi_signature;
use wecom_openwork::emulator::Fault;
use wecom_openwork::Error;

const CORP_TICKET: &str = "/cgi-bin/get_jsapi_ticket";
const AGENT_TICKET: &str = "/cgi-bin/ticket/get";
const URL: &str = "https://isv.example.com/app/page?x=1#section";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_callers_make_one_fetch_of_each_ticket() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let corp = app.corp(SUITE, CORP);
                if i % 2 == 0 {
                    corp.jsapi().ticket().await
                } else {
                    corp.jsapi().agent_ticket().await
                }
            })
        })
        .collect();
    let mut tickets = BTreeSet::new();
    for call in calls {
        tickets.insert(call.await.expect("task").expect("ticket"));
    }
    assert!(!tickets.is_empty());
    assert_eq!(emulator.calls(CORP_TICKET), 1);
    assert_eq!(emulator.calls(AGENT_TICKET), 1);
    let sent = emulator.requests().into_iter().find(|r| r.path == AGENT_TICKET).expect("recorded");
    assert_eq!(sent.query_values("type"), ["agent_config"]);
}

#[tokio::test]
async fn the_agent_config_parameter_set_is_complete_and_signed_with_the_app_ticket() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let jsapi = app.corp(SUITE, CORP);
    let jsapi = jsapi.jsapi();
    let config = jsapi.agent_config(1000002, URL, &["selectExternalContact"]).await.expect("signed");
    let json = serde_json::to_value(&config).expect("json");
    let keys: BTreeSet<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["corpid", "agentid", "timestamp", "nonceStr", "signature", "jsApiList"])
    );
    assert_eq!(json["corpid"], CORP);
    assert_eq!(json["agentid"], 1000002);
    assert_eq!(json["jsApiList"], serde_json::json!(["selectExternalContact"]));
    let ticket = jsapi.agent_ticket().await.expect("ticket");
    assert_eq!(config.signature, jsapi_signature(&ticket, &config.nonce_str, &config.timestamp, URL));
    assert_eq!(config.nonce_str.len(), 16);

    let page = jsapi.config(URL, &["scanQRCode"]).await.expect("signed");
    let json = serde_json::to_value(&page).expect("json");
    let keys: BTreeSet<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["beta", "appId", "timestamp", "nonceStr", "signature", "jsApiList"]));
    assert_eq!((json["beta"].as_bool(), json["appId"].as_str()), (Some(true), Some(CORP)));
    let corp_ticket = jsapi.ticket().await.expect("ticket");
    assert_eq!(page.signature, jsapi_signature(&corp_ticket, &page.nonce_str, &page.timestamp, URL));

    let register = jsapi.register(1000002, URL, &["scanQRCode"]).await.expect("signed");
    let signed = |set: &wecom_openwork::crypto::SignatureSet, ticket: &str| {
        set.signature == jsapi_signature(ticket, &set.nonce_str, &set.timestamp, URL)
    };
    assert!(signed(&register.config_signature, &corp_ticket));
    assert!(signed(&register.agent_config_signature, &ticket));
    let json = serde_json::to_value(&register).expect("json");
    assert!(
        json["configSignature"]["nonceStr"].is_string()
            && json["agentConfigSignature"]["signature"].is_string()
    );
}

#[tokio::test]
async fn a_hundred_and_first_app_ticket_fetch_in_an_hour_is_refused_without_asking_wecom() {
    let (emulator, app, clock) = app_on_emulator().await;
    // WeCom hands out tickets that die at once, so every call fetches.
    let short = serde_json::json!({"errcode": 0, "errmsg": "ok", "ticket": "short-lived", "expires_in": 1});
    emulator.inject(Some(AGENT_TICKET), 200, Fault::Json(short));
    let corp = app.corp(SUITE, CORP);
    for _ in 0..100 {
        corp.jsapi().agent_ticket().await.expect("within the limit");
        clock.advance(Duration::from_secs(2));
    }
    assert_eq!(emulator.calls(AGENT_TICKET), 100);
    let err = corp.jsapi().agent_ticket().await.unwrap_err();
    match &err {
        Error::RateLimited { retry_after, .. } => {
            assert!(*retry_after > Duration::from_secs(3000), "{err:?}")
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(emulator.calls(AGENT_TICKET), 100, "refused before asking");
    // Fetched with the same app's token, the corp ticket counts for that app too.
    let err = corp.jsapi().ticket().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(emulator.calls(CORP_TICKET), 0);
    // An hour after the first fetch, the app may fetch again.
    clock.advance(Duration::from_secs(3600 - 200));
    corp.jsapi().agent_ticket().await.expect("the oldest fetch left the window");
    assert_eq!(emulator.calls(AGENT_TICKET), 101);
}
