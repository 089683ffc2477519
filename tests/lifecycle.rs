//! No authorization is ever lost: the auth code is journaled before
//! `success`, exchanged through WeCom's failures, reported when it cannot be;
//! cancels are ordered; hooks run at least once; a failed handler's push is
//! handled when WeCom retries it.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use common::{config, pushing_emulator, serve_callbacks, AES_KEY, SUITE};
use wecom_openwork::clock::{Clock, ManualClock};
use wecom_openwork::crypto::MsgCrypt;
use wecom_openwork::emulator::{Emulator, EmulatorConfig, Fault};
use wecom_openwork::server::{AuthorizationFailure, CallbackServer, CallbackUrl, Reply};
use wecom_openwork::Application;

const CORP: &str = "wwcorplife01";
const PERMANENT_CODE: &str = "/cgi-bin/service/v2/get_permanent_code";

struct World {
    emulator: Emulator,
    app: Application,
    clock: ManualClock,
    authorized: Arc<AtomicUsize>,
    cancelled: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<AuthorizationFailure>>>,
    server: CallbackServer,
}

/// The emulator pushes to a callback server with counting hooks; one clock.
async fn world(timeout: f64) -> World {
    let mut app_config = config("http://placeholder.invalid");
    app_config.http.timeout = timeout;
    let (emulator, app, clock, listener) = pushing_emulator(app_config).await;
    let (authorized, cancelled) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let (a, c, f) = (authorized.clone(), cancelled.clone(), failures.clone());
    let server = app
        .server()
        .on_authorized(move |corp| {
            let a = a.clone();
            async move {
                assert!(!corp.authorization.permanent_code.is_empty());
                a.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .on_cancelled(move |_| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .on_authorization_failed(move |failure| {
            let f = f.clone();
            async move {
                f.lock().unwrap().push(failure);
                Ok(())
            }
        });
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("ticket pushed");
    World { emulator, app, clock, authorized, cancelled, failures, server }
}

#[tokio::test]
async fn the_exchange_outlasts_two_minutes_of_failures_and_on_authorized_runs_once() {
    let w = world(0.3).await;
    for fault in [
        Fault::Errcode(-1),
        Fault::HttpStatus(500),
        Fault::Errcode(45009),
        Fault::Delay(Duration::from_secs(2)), // past the 0.3 s timeout
        Fault::Drop,
        Fault::Errcode(-1),
        Fault::HttpStatus(502),
        Fault::Errcode(-1),
    ] {
        w.emulator.inject(Some(PERMANENT_CODE), 1, fault);
    }
    let started = w.clock.now();
    w.emulator.authorize_corp(SUITE, CORP).await.expect("create_auth pushed and acknowledged");
    w.server.drain().await;
    let failing_for = w.clock.now().duration_since(started).expect("forward");
    assert!(failing_for >= Duration::from_secs(120), "WeCom failed for only {failing_for:?}");
    let record =
        w.app.corp(SUITE, CORP).permanent_code().authorization().await.expect("store").expect("authorized");
    assert!(!record.permanent_code.is_empty());
    assert!(!record.awaiting_on_authorized, "delivered");
    assert_eq!(w.authorized.load(Ordering::SeqCst), 1, "on_authorized ran once");
    assert!(w.failures.lock().unwrap().is_empty());
    // A later resume has nothing to do.
    assert_eq!(w.server.resume().await.expect("resume"), 0);
    w.server.drain().await;
    assert_eq!(w.authorized.load(Ordering::SeqCst), 1);
}

/// Time that stops for good at the first pause: an instance on it does
/// nothing after its first failure, as if it had been killed there.
#[derive(Debug)]
struct Killed(ManualClock);

impl Clock for Killed {
    fn now(&self) -> std::time::SystemTime {
        self.0.now()
    }
    fn sleep(&self, _: Duration) -> wecom_openwork::BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn the_code_is_journaled_before_success_and_a_fresh_instance_resumes_it() {
    let clock = ManualClock::starting_now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let callback_base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut app_config = config("http://127.0.0.1:9"); // WeCom unreachable for the first instance
    let emulator_config = EmulatorConfig::from_config(&app_config, Some(&callback_base));
    let emulator = Emulator::bind("127.0.0.1:0".parse().expect("addr"), clock.clone(), emulator_config)
        .await
        .expect("emulator");
    let store: Arc<dyn wecom_openwork::store::Store> =
        Arc::new(wecom_openwork::store::MemoryStore::with_clock(Arc::new(clock.clone())));
    let doomed = Application::builder(app_config.clone())
        .clock(Arc::new(Killed(clock.clone())))
        .store(store.clone())
        .build()
        .expect("valid");
    let router = doomed.server().router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
    emulator.push_suite_ticket(SUITE).await.expect("ticket");
    emulator.authorize_corp(SUITE, CORP).await.expect("acknowledged by the doomed instance");
    assert!(emulator.pushes().iter().all(|p| p.status == 200 && p.body == "success"));
    assert_eq!(emulator.calls(PERMANENT_CODE), 0, "the first instance never reached WeCom");

    app_config.http.base_uri = emulator.base_uri();
    let fresh =
        Application::builder(app_config).clock(Arc::new(clock.clone())).store(store).build().expect("valid");
    let statuses = fresh.authorization_statuses().await.expect("store");
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!((statuses[0].status, statuses[0].corp_id.as_ref()), ("pending", None));
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let server = fresh.server().on_authorized(move |corp| {
        let counted = counted.clone();
        async move {
            assert_eq!(corp.authorization.corp_id.as_str(), CORP);
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    assert_eq!(server.resume().await.expect("resume"), 1);
    server.drain().await;
    assert_eq!(emulator.calls(PERMANENT_CODE), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let statuses = fresh.authorization_statuses().await.expect("store");
    assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), ["authorized"]);
}

#[tokio::test]
async fn a_code_that_cannot_be_exchanged_is_recorded_and_reported() {
    let w = world(5.0).await;
    // An uncertain failure, then WeCom says the code is used.
    w.emulator.inject(Some(PERMANENT_CODE), 1, Fault::Errcode(-1));
    w.emulator.inject(Some(PERMANENT_CODE), 1, Fault::Errcode(40078));
    w.emulator.authorize_corp(SUITE, CORP).await.expect("acknowledged");
    w.server.drain().await;
    let failures = w.failures.lock().unwrap().clone();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].reason.contains("probably used it"), "{}", failures[0].reason);
    assert!(failures[0].what_to_do.contains("reset"), "{}", failures[0].what_to_do);
    let statuses = w.app.authorization_statuses().await.expect("store");
    assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), ["failed"]);
    assert_eq!(w.authorized.load(Ordering::SeqCst), 0);

    // A code that keeps failing until its ten minutes are over.
    w.emulator.inject(Some(PERMANENT_CODE), 1000, Fault::Errcode(-1));
    w.emulator.authorize_corp(SUITE, "wwcorplife02").await.expect("acknowledged");
    w.server.drain().await;
    let failures = w.failures.lock().unwrap().clone();
    assert_eq!(failures.len(), 2);
    assert!(failures[1].reason.contains("expired"), "{}", failures[1].reason);
    let attempts = w.emulator.calls(PERMANENT_CODE);
    assert!((10..100).contains(&attempts), "backed off, not hammered: {attempts} calls");
}

/// A command push for `SUITE`, sealed as WeCom seals it.
fn command_push(message: &str, timestamp: u64, nonce: &str) -> (String, Vec<u8>) {
    let crypt = MsgCrypt::new("SuiteToken", AES_KEY, SUITE).expect("key");
    let sealed = crypt.encrypt(message, &timestamp.to_string(), nonce).expect("sealed");
    let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    let body = format!("<xml><ToUserName><![CDATA[{SUITE}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>", sealed.encrypt);
    (query, body.into_bytes())
}

fn now_secs(clock: &ManualClock) -> u64 {
    clock.now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

#[tokio::test]
async fn a_late_cancel_never_removes_a_newer_authorization() {
    let w = world(5.0).await;
    w.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    w.server.drain().await;
    w.clock.advance(Duration::from_secs(10));
    let first_cancel_at = now_secs(&w.clock);
    w.emulator.cancel_authorization(SUITE, CORP).await.expect("cancelled");
    assert!(w.app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_none());
    assert_eq!(w.cancelled.load(Ordering::SeqCst), 1);
    w.clock.advance(Duration::from_secs(10));
    w.emulator.authorize_corp(SUITE, CORP).await.expect("installed again");
    w.server.drain().await;
    let code =
        w.app.corp(SUITE, CORP).permanent_code().get().await.expect("store").expect("authorized again");

    // The first cancel arrives again: WeCom's late retry (a new nonce), or a
    // replayed capture.
    let cancel = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><InfoType>cancel_auth</InfoType><TimeStamp>{first_cancel_at}</TimeStamp><AuthCorpId>{CORP}</AuthCorpId></xml>"
    );
    let url = CallbackUrl::Command(SUITE.into());
    for nonce in ["late-retry", "late-retry", "another"] {
        let (query, body) = command_push(&cancel, now_secs(&w.clock), nonce);
        let response = w.server.serve(&url, "POST", &query, &body).await;
        assert_eq!((response.status, response.body.as_str()), (200, "success"));
    }
    assert_eq!(
        w.app.corp(SUITE, CORP).permanent_code().get().await.expect("store"),
        Some(code),
        "still authorized"
    );
    assert_eq!(w.cancelled.load(Ordering::SeqCst), 1);
    // And a store a late exchange of the old install writes to loses too.
    let statuses = w.app.authorization_statuses().await.expect("store");
    assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), ["authorized"]);
}

#[tokio::test]
async fn a_push_whose_handler_failed_is_handled_when_wecom_retries_it() {
    let w = world(5.0).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let server = w.app.server().on_kind("change_contact.create_user", move |_| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err("the database blinked".into())
            } else {
                Ok(Reply::Success)
            }
        }
    });
    let message = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><AuthCorpId>wwprovider0001</AuthCorpId><InfoType>change_contact</InfoType><TimeStamp>{}</TimeStamp><ChangeType>create_user</ChangeType><UserID>zhangsan</UserID></xml>",
        now_secs(&w.clock)
    );
    let (query, body) = command_push(&message, now_secs(&w.clock), "retried");
    let url = CallbackUrl::Command(SUITE.into());
    let statuses: Vec<u16> = {
        let mut all = Vec::new();
        for _ in 0..3 {
            all.push(server.serve(&url, "POST", &query, &body).await.status);
        }
        all
    };
    assert_eq!(statuses, [500, 200, 200]);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "failed, handled on the retry, then acknowledged only");
}

#[tokio::test]
async fn an_on_authorized_that_fails_runs_again_at_resume() {
    let w = world(5.0).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let server = w.server.clone().on_authorized(move |_| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err("the welcome mail could not be sent".into())
            } else {
                Ok(())
            }
        }
    });
    w.emulator.authorize_corp(SUITE, CORP).await.expect("installed");
    server.drain().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let record = w
        .app
        .corp(SUITE, CORP)
        .permanent_code()
        .authorization()
        .await
        .expect("store")
        .expect("stored anyway");
    assert!(record.awaiting_on_authorized);
    assert_eq!(server.resume().await.expect("resume"), 1);
    server.drain().await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(server.resume().await.expect("resume"), 0, "delivered: not again");
}

#[tokio::test]
async fn stale_pushes_and_absurd_timestamps_are_refused_without_a_panic() {
    let w = world(5.0).await;
    let url = CallbackUrl::Command(SUITE.into());
    let ticket = format!("<xml><SuiteId>{SUITE}</SuiteId><InfoType>suite_ticket</InfoType><TimeStamp>1</TimeStamp><SuiteTicket>t</SuiteTicket></xml>");
    let (query, body) = command_push(&ticket, now_secs(&w.clock) - 3600, "old");
    assert_eq!(w.server.serve(&url, "POST", &query, &body).await.status, 403, "outside the default window");
    for absurd in [u64::MAX.to_string(), i64::MAX.to_string(), "-5".to_owned()] {
        let message = ticket.replace("<TimeStamp>1</TimeStamp>", &format!("<TimeStamp>{absurd}</TimeStamp>"));
        let (query, body) = command_push(&message, now_secs(&w.clock), &format!("n{}", absurd.len()));
        let status = w.server.serve(&url, "POST", &query, &body).await.status;
        assert!(status == 200 || status == 500, "{absurd}: {status}");
    }
    let cancel = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><InfoType>cancel_auth</InfoType><TimeStamp>{}</TimeStamp><AuthCorpId>{CORP}</AuthCorpId></xml>",
        i64::MAX
    );
    let (query, body) = command_push(&cancel, now_secs(&w.clock), "absurd-cancel");
    assert_eq!(w.server.serve(&url, "POST", &query, &body).await.status, 500);
}

#[tokio::test]
async fn a_callback_debug_shows_no_ticket_or_auth_code() {
    let w = world(5.0).await;
    let shown = Arc::new(Mutex::new(Vec::new()));
    let keep = shown.clone();
    let server = w.app.server().with(move |callback, next| {
        keep.lock().unwrap().push(format!("{callback:?}"));
        next.run(callback)
    });
    let url = CallbackUrl::Command(SUITE.into());
    let now = now_secs(&w.clock);
    for (message, nonce) in [
        (format!("<xml><SuiteId>{SUITE}</SuiteId><InfoType>suite_ticket</InfoType><TimeStamp>{now}</TimeStamp><SuiteTicket>TICKET-SECRET</SuiteTicket></xml>"), "d1"),
        (format!("<xml><SuiteId>{SUITE}</SuiteId><InfoType>create_auth</InfoType><TimeStamp>{now}</TimeStamp><AuthCode>AUTHCODE-SECRET</AuthCode></xml>"), "d2"),
    ] {
        let (query, body) = command_push(&message, now, nonce);
        assert_eq!(server.serve(&url, "POST", &query, &body).await.status, 200);
    }
    server.drain().await;
    let shown = shown.lock().unwrap().join("\n");
    assert!(shown.contains("suite_ticket") && shown.contains("create_auth"), "{shown}");
    assert!(!shown.contains("TICKET-SECRET") && !shown.contains("AUTHCODE-SECRET"), "{shown}");
}
