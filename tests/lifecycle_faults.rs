//! The authorization lifecycle where production breaks it: ties in one
//! second, a store write that fails once, a process without hooks, a hook
//! that fails, another instance that saw the corp gone, a code the ISV held
//! on to, a forged install redirect. Each was a way to lose or corrupt an
//! authorization.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scripted_store::ScriptedStore;
use common::{config, serve_callbacks, AES_KEY, SUITE};
use wecom_openwork::clock::{Clock, ManualClock};
use wecom_openwork::compat::EasyWeChat;
use wecom_openwork::crypto::MsgCrypt;
use wecom_openwork::emulator::{Emulator, EmulatorConfig, Fault};
use wecom_openwork::server::{CallbackUrl, InstallRedirect};
use wecom_openwork::store::Store;
use wecom_openwork::{Application, Error};

const CORP: &str = "wwcorpfault01";
const PERMANENT_CODE: &str = "/cgi-bin/service/v2/get_permanent_code";

/// An emulator pushing to a listener; applications sharing `store` on one
/// manual clock.
struct World {
    emulator: Emulator,
    clock: ManualClock,
    store: Arc<dyn Store>,
    base_uri: String,
}

impl World {
    async fn new(store: Option<Arc<dyn Store>>) -> (World, tokio::net::TcpListener) {
        let clock = ManualClock::starting_now();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let callback_base = format!("http://{}", listener.local_addr().expect("addr"));
        let emulator_config = EmulatorConfig::from_config(&config("http://unused"), Some(&callback_base));
        let emulator = Emulator::bind("127.0.0.1:0".parse().expect("addr"), clock.clone(), emulator_config)
            .await
            .expect("emulator");
        let store = store.unwrap_or_else(|| {
            Arc::new(wecom_openwork::store::MemoryStore::with_clock(Arc::new(clock.clone())))
        });
        let base_uri = emulator.base_uri();
        (World { emulator, clock, store, base_uri }, listener)
    }

    /// An application (an instance) on the shared store and clock.
    fn app(&self) -> Application {
        Application::builder(config(&self.base_uri))
            .clock(Arc::new(self.clock.clone()))
            .store(self.store.clone())
            .build()
            .expect("valid")
    }
}

fn counting() -> (Arc<AtomicUsize>, impl Fn() -> Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let handle = count.clone();
    (count, move || handle.clone())
}

/// A command push for `SUITE`, sealed as WeCom seals it.
fn command_push(message: &str, nonce: &str) -> (String, Vec<u8>) {
    let timestamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs();
    let crypt = MsgCrypt::new("SuiteToken", AES_KEY, SUITE).expect("key");
    let sealed = crypt.encrypt(message, &timestamp.to_string(), nonce).expect("sealed");
    let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    let body = format!(
        "<xml><ToUserName><![CDATA[{SUITE}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>",
        sealed.encrypt
    );
    (query, body.into_bytes())
}

/// WeCom's `TimeStamp` is in whole seconds, so an authorization and its
/// cancel often share one (and always do on a frozen clock): the cancel,
/// which arrived later, wins.
#[tokio::test]
async fn a_cancel_in_the_authorizations_own_second_removes_it() {
    let (world, listener) = World::new(None).await;
    let app = world.app();
    let (cancelled, on_cancelled) = counting();
    let server = app.server().on_cancelled(move |_| {
        on_cancelled().fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    assert!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_some(), "authorized");
    // The same second: the emulator's clock has not moved.
    world.emulator.cancel_authorization(SUITE, CORP).await.expect("cancelled");
    server.drain().await;
    assert!(
        app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_none(),
        "the cancel removed it"
    );
    assert_eq!(cancelled.load(Ordering::SeqCst), 1);
    let statuses = app.authorization_statuses().await.expect("store");
    assert!(statuses.is_empty(), "{statuses:?}");
}

/// WeCom hands a permanent code out once: when writing it into the journal
/// fails, it is kept in memory and written again, not dropped (which made
/// the next attempt meet 40078 and record the corp as failed).
#[tokio::test]
async fn a_permanent_code_survives_a_journal_write_that_fails_once() {
    let clock = ManualClock::starting_now();
    let store = ScriptedStore::new(Arc::new(clock.clone()));
    let (mut world, listener) = World::new(Some(store.clone())).await;
    world.clock = clock;
    let app = world.app();
    let server = app.server();
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    store.fail_writes_of("\"status\":\"exchanged\"", 1);
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    assert_eq!(server.resume().await.expect("resume"), 0, "nothing left to resume");
    server.drain().await;
    let statuses = app.authorization_statuses().await.expect("store");
    assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), ["authorized"], "{statuses:?}");
    assert_eq!(world.emulator.calls(PERMANENT_CODE), 1, "the code was exchanged once");
}

/// Hooks belong to the application: a server without hooks (here the one
/// answering WeCom) finishes the work, and the hook another server of the
/// same application set runs; a process with no hooks at all (like
/// `wecom-openwork serve`) leaves it for one that has them.
#[tokio::test]
async fn on_authorized_runs_whichever_server_or_process_finished_the_work() {
    let (world, listener) = World::new(None).await;
    let app = world.app();
    let answering = app.server();
    serve_callbacks(&answering, listener);
    let (authorized, on_authorized) = counting();
    let hooked = app.server().on_authorized(move |_| {
        on_authorized().fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    answering.drain().await;
    hooked.drain().await;
    assert_eq!(authorized.load(Ordering::SeqCst), 1, "the application's hook ran");

    // Two processes on one store: one without hooks answers WeCom, the
    // other has the hook.
    let (world, listener) = World::new(None).await;
    let hookless = world.app();
    let server = hookless.server();
    serve_callbacks(&server, listener);
    let (other, on_other) = counting();
    let with_hooks = world.app().server().on_authorized(move |_| {
        on_other().fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    let record =
        hookless.corp(SUITE, CORP).permanent_code().authorization().await.expect("store").expect("stored");
    assert!(record.awaiting_on_authorized, "no hook ran it: still owed");
    assert!(with_hooks.resume().await.expect("resume") >= 1);
    with_hooks.drain().await;
    assert_eq!(other.load(Ordering::SeqCst), 1, "the process with the hook ran it");
    assert_eq!(with_hooks.resume().await.expect("resume"), 0, "delivered: not again");
}

/// `on_cancelled` runs until it succeeds: its failure fails the push, and
/// WeCom's retry of the cancel runs it again (it used to meet the cancel's
/// record and skip it).
#[tokio::test]
async fn on_cancelled_runs_again_when_wecom_retries_a_cancel_whose_hook_failed() {
    let (world, listener) = World::new(None).await;
    let app = world.app();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    let server = app.server().on_cancelled(move |corp| {
        let mut seen = seen.lock().expect("lock");
        seen.push(corp.corp_id.to_string());
        let first = seen.len() == 1;
        async move {
            if first {
                Err("the mailer was down".into())
            } else {
                Ok(())
            }
        }
    });
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    world.clock.advance(Duration::from_secs(5));
    let cancel = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><InfoType>cancel_auth</InfoType><TimeStamp>{}</TimeStamp><AuthCorpId>{CORP}</AuthCorpId></xml>",
        world.clock.now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs()
    );
    let url = CallbackUrl::Command(SUITE.into());
    let (query, body) = command_push(&cancel, "first");
    assert_eq!(server.serve(&url, "POST", &query, &body).await.status, 500, "the hook failed");
    let (query, body) = command_push(&cancel, "retry");
    assert_eq!(server.serve(&url, "POST", &query, &body).await.status, 200);
    assert_eq!(*runs.lock().expect("lock"), [CORP, CORP], "ran again on WeCom's retry");
    assert!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_none());
    let (query, body) = command_push(&cancel, "late");
    assert_eq!(server.serve(&url, "POST", &query, &body).await.status, 200);
    assert_eq!(runs.lock().expect("lock").len(), 2, "delivered: not again");
}

/// One instance learns from WeCom that a corp's authorization is gone; the
/// corp's new permanent code is stored by another instance. The first serves
/// the corp again at once (it used to refuse it for five minutes).
#[tokio::test]
async fn a_corp_with_a_new_code_is_served_by_every_instance_at_once() {
    let (world, listener) = World::new(None).await;
    let answering = world.app();
    let server = answering.server();
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    let other = world.app();
    let corp = other.corp(SUITE, CORP);
    corp.jsapi().get_jsapi_ticket().await.expect("served");
    // WeCom says the authorization is gone (a reset under way, a cancel).
    world.emulator.inject(Some("/cgi-bin/get_jsapi_ticket"), 1, Fault::Errcode(48004));
    let err = corp.jsapi().get_jsapi_ticket().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationGone { .. }), "{err:?}");
    // The provider resets the code; the answering instance stores the new one.
    world.emulator.reset_permanent_code(SUITE, CORP).await.expect("reset");
    server.drain().await;
    corp.jsapi().get_jsapi_ticket().await.expect("served again at once with the new code");
}

/// A permanent code set by hand (one the ISV held since before a reset or a
/// cancel) never replaces the code WeCom issued later, nor brings back a
/// corp that cancelled; the EasyWeChat alias that takes a code on every call
/// keeps working with WeCom's newest.
#[tokio::test]
async fn a_code_set_by_hand_never_beats_a_newer_one_or_a_cancel() {
    let (world, listener) = World::new(None).await;
    let app = world.app();
    let server = app.server();
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    world.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    let old = app.corp(SUITE, CORP).permanent_code().get().await.expect("store").expect("code");
    world.clock.advance(Duration::from_secs(3));
    world.emulator.reset_permanent_code(SUITE, CORP).await.expect("reset");
    server.drain().await;
    let new = app.corp(SUITE, CORP).permanent_code().get().await.expect("store").expect("code");
    assert_ne!(old, new);

    let err = app.corp(SUITE, CORP).permanent_code().set(old.clone()).await.unwrap_err();
    assert!(err.to_string().contains("issued by WeCom"), "{err}");
    assert_eq!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store"), Some(new.clone()));
    let token = app.authorizer_access_token(CORP, old.clone(), SUITE).get().await;
    assert!(token.is_ok(), "the alias serves the newest code's token: {token:?}");
    assert_eq!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store"), Some(new.clone()));

    world.clock.advance(Duration::from_secs(3));
    world.emulator.cancel_authorization(SUITE, CORP).await.expect("cancelled");
    server.drain().await;
    assert!(
        app.corp(SUITE, CORP).permanent_code().set(new).await.is_err(),
        "a cancelled corp stays cancelled"
    );
    assert!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_none());
}

/// The install page's redirect lands on a public URL: one whose state this
/// application did not sign (or signed over an hour ago) costs no WeCom call
/// and writes nothing; failed exchanges can be forgotten.
#[tokio::test]
async fn a_forged_install_redirect_costs_nothing_and_failures_can_be_forgotten() {
    let (world, listener) = World::new(None).await;
    let app = world.app();
    let server = app.server();
    serve_callbacks(&server, listener);
    world.emulator.push_suite_ticket(SUITE).await.expect("ticket");
    for query in [
        "auth_code=forged0123456789&state=anything".to_owned(),
        "auth_code=forged0123456789".to_owned(),
        format!("auth_code=forged0123456789&state={}", "9".repeat(30)),
    ] {
        let redirect = InstallRedirect::from_query(&query).expect("reads");
        let err = server.complete_install(SUITE, &redirect).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{query}: {err:?}");
    }
    let link =
        app.suite(SUITE).install_url("PRE", "https://isv.example.com/done", Some("mine")).expect("link");
    let state = link.split_once("state=").expect("state").1.to_owned();
    world.clock.advance(Duration::from_secs(3601));
    let stale =
        InstallRedirect::from_query(&format!("auth_code=forged0123456789&state={state}")).expect("reads");
    assert!(matches!(server.complete_install(SUITE, &stale).await, Err(Error::InvalidRequest(_))));
    assert_eq!(world.emulator.calls(PERMANENT_CODE), 0, "WeCom was not asked");
    assert!(app.authorization_statuses().await.expect("store").is_empty(), "nothing was written");

    // A signed redirect whose code WeCom refuses is recorded, and forgettable.
    let link = app.suite(SUITE).install_url("PRE", "https://isv.example.com/done", None).expect("link");
    let state = link.split_once("state=").expect("state").1.to_owned();
    let refused =
        InstallRedirect::from_query(&format!("auth_code=madeup0123456789&state={state}")).expect("reads");
    assert!(matches!(server.complete_install(SUITE, &refused).await, Err(Error::InstallIncomplete { .. })));
    assert_eq!(app.authorization_statuses().await.expect("store").len(), 1);
    assert_eq!(app.forget_failed_exchanges(SUITE).await.expect("store"), 1);
    assert!(app.authorization_statuses().await.expect("store").is_empty());
}
