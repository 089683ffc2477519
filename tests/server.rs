//! The callback server end to end, through the axum adapter on a loopback
//! port: encrypted pushes of suite_ticket, create_auth, change_contact and an
//! unknown InfoType; URL verification; limits, replay and receive-id rules.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{app_on_emulator, AES_KEY, CORP, PROVIDER, SUITE};
use wecom_openwork::clock::Clock;
use wecom_openwork::crypto::MsgCrypt;
use wecom_openwork::events::{ChangeContact, CreateAuth, Event, SuiteTicket};
use wecom_openwork::server::{CallbackServer, Reply};
use wecom_openwork::Application;

const SUITE_TOKEN: &str = "SuiteToken";

/// Serves `server` on a loopback port; returns its base URL.
async fn serve(server: &CallbackServer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = server.router();
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serves");
    });
    format!("http://{addr}")
}

/// The `timestamp` WeCom puts on a push sent now.
fn now_timestamp() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .to_string()
}

/// An encrypted push, as WeCom sends it now, for `receive_id`.
fn push(message: &str, receive_id: &str, nonce: &str) -> (String, String) {
    push_at(message, receive_id, nonce, &now_timestamp())
}

/// An encrypted push sent at `timestamp`.
fn push_at(message: &str, receive_id: &str, nonce: &str, timestamp: &str) -> (String, String) {
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, receive_id).expect("key");
    let sealed = crypt.encrypt(message, timestamp, nonce).expect("encrypts");
    let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    let body = format!(
        "<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>",
        sealed.encrypt
    );
    (query, body)
}

async fn post(http: &reqwest::Client, url: &str, query: &str, body: String) -> (u16, String) {
    let response = http.post(format!("{url}?{query}")).body(body).send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// A server whose handler of text messages answers with an encrypted echo.
fn echoing(app: &Application) -> CallbackServer {
    app.server().on_kind("text", |callback| async move {
        Ok(Reply::Message(format!(
            "<xml><Content>echo {}</Content></xml>",
            callback.field("Content").unwrap_or_default()
        )))
    })
}

fn recording(app: &Application) -> (CallbackServer, Arc<Mutex<Vec<Event>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = app.server().with(move |callback, next| {
        record.lock().expect("lock").push(callback.event.clone());
        next.run(callback)
    });
    (server, seen)
}

#[tokio::test]
async fn pushes_are_verified_decoded_handled_and_acknowledged() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let (server, seen) = recording(&app);
    let base = serve(&server).await;
    let url = format!("{base}/callback/command/{SUITE}");
    let http = reqwest::Client::new();

    // suite_ticket: stored for the suite.
    let ticket = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><InfoType> <![CDATA[suite_ticket]]></InfoType><TimeStamp>{}</TimeStamp><SuiteTicket><![CDATA[fresh-ticket]]></SuiteTicket></xml>",
        now_timestamp().parse::<u64>().expect("seconds") + 60 // newer than the set-up's
    );
    let (query, body) = push(&ticket, SUITE, "n1");
    assert_eq!(post(&http, &url, &query, body).await, (200, "success".into()));
    assert_eq!(app.suite(SUITE).ticket().get().await.expect("stored"), "fresh-ticket");

    // create_auth: acknowledged at once, permanent code exchanged and stored.
    let create = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><AuthCode><![CDATA[AUTHCODE]]></AuthCode><InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>1403610513</TimeStamp><State><![CDATA[123]]></State><ExtraInfo></ExtraInfo></xml>"
    );
    let (query, body) = push(&create, SUITE, "n2");
    assert_eq!(post(&http, &url, &query, body).await, (200, "success".into()));
    server.drain().await;
    let example: serde_json::Value = serde_json::from_str(
        wecom_openwork::emulator::sample(
            &wecom_openwork::api::authorization::endpoints::GET_PERMANENT_CODE_V2,
        )
        .example_response,
    )
    .expect("JSON");
    let corp = example["auth_corp_info"]["corpid"].as_str().expect("corpid");
    let code = example["permanent_code"].as_str().expect("permanent_code");
    let stored = app.corp(SUITE, corp).permanent_code().get().await.expect("store").expect("stored");
    assert_eq!(stored.expose(), code);
    assert_eq!(emulator.calls("/cgi-bin/service/v2/get_permanent_code"), 1);

    // change_contact / create_user: typed, down to the change type.
    let contact = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_contact]]></InfoType><TimeStamp>1403610513</TimeStamp><ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><Name><![CDATA[张三]]></Name><Department><![CDATA[1,2,3]]></Department></xml>"
    );
    let (query, body) = push(&contact, SUITE, "n3");
    assert_eq!(post(&http, &url, &query, body).await, (200, "success".into()));

    // An InfoType nobody knows: kept raw, acknowledged.
    let unknown = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><InfoType><![CDATA[brand_new_thing]]></InfoType><TimeStamp>1</TimeStamp><Foo>bar</Foo></xml>"
    );
    let (query, body) = push(&unknown, SUITE, "n4");
    assert_eq!(post(&http, &url, &query, body).await, (200, "success".into()));

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4);
    assert!(matches!(&seen[0], Event::SuiteTicket(t) if t.suite_ticket.as_deref() == Some("fresh-ticket")));
    assert!(matches!(&seen[1], Event::CreateAuth(a) if a.auth_code.as_deref() == Some("AUTHCODE")));
    match &seen[2] {
        Event::ChangeContact(ChangeContact::CreateUser(user)) => {
            assert_eq!(user.user_id.as_deref(), Some("zhangsan"));
            assert_eq!(user.name.as_deref(), Some("张三"));
            assert_eq!(user.auth_corp_id.as_deref(), Some(CORP));
        }
        other => panic!("expected change_contact.create_user, got {other:?}"),
    }
    match &seen[3] {
        Event::Unknown(raw) => assert_eq!(raw.get("Foo").as_deref(), Some("bar")),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn cancel_auth_forgets_the_corp() {
    let (_emulator, app, clock) = app_on_emulator().await;
    let server = app.server();
    // An authorization WeCom issued now (a code set by hand is older than any cancel).
    app.forget_authorization(SUITE, CORP).await.expect("forgotten");
    let issued = wecom_openwork::Authorization::new(SUITE, CORP, "permanent-code-of-corp", clock.now());
    assert!(app.save_authorization(&issued).await.expect("stored"));
    // A cancel from before the authorization (WeCom's sample is from 2014) changes nothing.
    let old_cancel = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><InfoType><![CDATA[cancel_auth]]></InfoType><TimeStamp>1403610513</TimeStamp><AuthCorpId><![CDATA[{CORP}]]></AuthCorpId></xml>"
    );
    let (query, body) = push(&old_cancel, SUITE, "n5a");
    let url = wecom_openwork::server::CallbackUrl::Command(SUITE.into());
    assert_eq!(server.serve(&url, "POST", &query, body.as_bytes()).await.status, 200);
    assert!(
        app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_some(),
        "an older cancel keeps it"
    );
    clock.advance(Duration::from_secs(5));
    let cancel = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><InfoType><![CDATA[cancel_auth]]></InfoType><TimeStamp>{}</TimeStamp><AuthCorpId><![CDATA[{CORP}]]></AuthCorpId></xml>",
        clock_now_secs(&clock)
    );
    let (query, body) = push(&cancel, SUITE, "n5");
    let response = server
        .serve(&wecom_openwork::server::CallbackUrl::Command(SUITE.into()), "POST", &query, body.as_bytes())
        .await;
    assert_eq!((response.status, response.body.as_str()), (200, "success"));
    assert!(app.corp(SUITE, CORP).permanent_code().get().await.expect("store").is_none());
}

#[tokio::test]
async fn a_user_handler_replaces_the_built_in_one() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let called = Arc::new(Mutex::new(0));
    let count = called.clone();
    let server = app.server().on::<CreateAuth, _, _>(move |event, _callback| {
        assert_eq!(event.auth_code.as_deref(), Some("X"));
        *count.lock().expect("lock") += 1;
        async { Ok(Reply::Success) }
    });
    let create = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><AuthCode>X</AuthCode><InfoType>create_auth</InfoType></xml>"
    );
    let (query, body) = push(&create, SUITE, "n6");
    let response = server
        .serve(&wecom_openwork::server::CallbackUrl::Command(SUITE.into()), "POST", &query, body.as_bytes())
        .await;
    assert_eq!(response.status, 200);
    server.drain().await;
    assert_eq!(*called.lock().expect("lock"), 1);
    assert_eq!(
        emulator.calls("/cgi-bin/service/v2/get_permanent_code"),
        0,
        "the built-in exchange did not run too"
    );
}

#[tokio::test]
async fn url_verification_returns_the_bare_echostr() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let base = serve(&app.server()).await;
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, PROVIDER).expect("key");
    let sealed = crypt.encrypt("1288432023552776189", "1476416373", "47744683").expect("encrypts");
    let echostr: String = url_encode(&sealed.encrypt);
    let url = format!(
        "{base}/callback/data/{SUITE}?msg_signature={}&timestamp=1476416373&nonce=47744683&echostr={echostr}",
        sealed.msg_signature
    );
    let response = reqwest::get(url).await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("body"), "1288432023552776189");
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn bad_requests_are_refused_with_reasons() {
    let (_emulator, app, clock) = app_on_emulator().await;
    let url = wecom_openwork::server::CallbackUrl::Command(SUITE.into());
    let server = app.server().max_body(2048);
    let ticket = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><InfoType>suite_ticket</InfoType><SuiteTicket>t</SuiteTicket></xml>"
    );
    let (query, body) = push(&ticket, SUITE, "n7");

    let too_big = format!("{body}{}", " ".repeat(4096));
    assert_eq!(server.serve(&url, "POST", &query, too_big.as_bytes()).await.status, 413);
    let tampered = query.replace("msg_signature=", "msg_signature=0");
    let response = server.serve(&url, "POST", &tampered, body.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40001"));
    assert_eq!(server.serve(&url, "POST", "timestamp=1", body.as_bytes()).await.status, 400);
    let other_suite = wecom_openwork::server::CallbackUrl::Command("wwnotours".into());
    assert_eq!(server.serve(&other_suite, "POST", &query, body.as_bytes()).await.status, 404);

    // Encrypted for someone else: refused by receive id.
    let (query_other, body_other) = push(&ticket, "wwstranger", "n8");
    let response = server.serve(&url, "POST", &query_other, body_other.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40005"));

    // Data URL: only corps that authorized the suite (or the provider).
    let data = wecom_openwork::server::CallbackUrl::Data(SUITE.into());
    let text = format!("<xml><ToUserName>{CORP}</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId><AgentID>1</AgentID></xml>");
    let (q, b) = push(&text, CORP, "n9");
    assert_eq!(server.serve(&data, "POST", &q, b.as_bytes()).await.status, 200);
    let (q, b) = push(&text, "wwunknowncorp", "n10");
    assert_eq!(server.serve(&data, "POST", &q, b.as_bytes()).await.body, "-40005");

    // Timestamp window and replay cache (both on by default).
    let strict = app.server();
    let (stale_query, stale_body) = push_at(&ticket, SUITE, "n7b", "1700000000");
    assert_eq!(
        strict.serve(&url, "POST", &stale_query, stale_body.as_bytes()).await.status,
        403,
        "1700000000 is long past"
    );
    let lenient = app.server().timestamp_window(None);
    assert_eq!(lenient.serve(&url, "POST", &stale_query, stale_body.as_bytes()).await.status, 200);
    let now = clock_now_secs(&clock);
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, SUITE).expect("key");
    let sealed = crypt.encrypt(&ticket, &now, "n11").expect("encrypts");
    let q = format!("msg_signature={}&timestamp={now}&nonce=n11", sealed.msg_signature);
    let b = format!("<xml><Encrypt><![CDATA[{}]]></Encrypt></xml>", sealed.encrypt);
    let seen = Arc::new(Mutex::new(0));
    let count = seen.clone();
    let strict = strict.on::<SuiteTicket, _, _>(move |_ticket, _callback| {
        *count.lock().expect("lock") += 1;
        async { Ok(Reply::Success) }
    });
    assert_eq!(strict.serve(&url, "POST", &q, b.as_bytes()).await.status, 200);
    assert_eq!(strict.serve(&url, "POST", &q, b.as_bytes()).await.body, "success");
    assert_eq!(*seen.lock().expect("lock"), 1, "the replay was acknowledged, not handled again");
}

fn clock_now_secs(clock: &wecom_openwork::clock::ManualClock) -> String {
    use wecom_openwork::clock::Clock;
    clock.now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs().to_string()
}

#[tokio::test]
async fn a_data_callback_can_answer_with_an_encrypted_message() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let server = echoing(&app);
    let data = wecom_openwork::server::CallbackUrl::Data(SUITE.into());
    let text =
        format!("<xml><ToUserName>{CORP}</ToUserName><MsgType>text</MsgType><Content>hi</Content></xml>");
    let timestamp = now_timestamp();
    let (query, body) = push_at(&text, CORP, "n12", &timestamp);
    let response = server.serve(&data, "POST", &query, body.as_bytes()).await;
    assert_eq!(response.status, 200);
    let envelope =
        wecom_openwork::crypto::parse_envelope(response.body.as_bytes()).expect("an encrypted reply");
    let signature = response
        .body
        .split("<MsgSignature><![CDATA[")
        .nth(1)
        .and_then(|s| s.split("]]>").next())
        .expect("signed");
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, CORP).expect("key");
    let reply =
        crypt.decrypt(signature, &timestamp, "n12", &envelope.encrypt).expect("decrypts for the corp");
    assert_eq!(reply, "<xml><Content>echo hi</Content></xml>");
}

#[tokio::test]
async fn create_auth_is_acknowledged_before_a_slow_exchange_and_the_exchange_is_not_lost() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let server = app.server();
    // WeCom is slow to answer get_permanent_code this time.
    emulator.inject(
        Some("/cgi-bin/service/v2/get_permanent_code"),
        1,
        wecom_openwork::emulator::Fault::Delay(Duration::from_millis(300)),
    );
    let create = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><AuthCode>SLOW</AuthCode><InfoType>create_auth</InfoType></xml>"
    );
    let (query, body) = push(&create, SUITE, "n13");
    let url = wecom_openwork::server::CallbackUrl::Command(SUITE.into());
    let response = server.serve(&url, "POST", &query, body.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (200, "success"));
    assert!(
        app.corp(SUITE, "xxxx").permanent_code().get().await.expect("store").is_none(),
        "replied before the exchange ended"
    );
    server.drain().await;
    assert!(
        app.corp(SUITE, "xxxx").permanent_code().get().await.expect("store").is_some(),
        "the exchange finished and was stored"
    );
}

/// ~1 MiB of nesting no parser accepts, after an `Encrypt` element.
fn garbage_after(encrypt: &str) -> String {
    let head =
        format!("<xml><ToUserName><![CDATA[{SUITE}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>");
    let mut body = head;
    let limit = wecom_openwork::server::DEFAULT_MAX_BODY - 16;
    while body.len() + 12 < limit {
        body.push_str("<a><b x='>'>");
    }
    body
}

#[tokio::test]
async fn the_signature_is_checked_before_the_body_is_parsed() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let server = app.server();
    let url = wecom_openwork::server::CallbackUrl::Command(SUITE.into());
    let ticket = format!(
        "<xml><SuiteId>{SUITE}</SuiteId><InfoType>suite_ticket</InfoType><SuiteTicket>t</SuiteTicket></xml>"
    );
    let timestamp = now_timestamp();
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, SUITE).expect("key");
    let sealed = crypt.encrypt(&ticket, &timestamp, "n14").expect("encrypts");
    let body = garbage_after(&sealed.encrypt);
    assert!(body.len() > 1_000_000 && body.len() <= wecom_openwork::server::DEFAULT_MAX_BODY);

    // Unsigned (a signature of something else): refused for the signature,
    // not for the megabyte of nesting that follows.
    let forged = format!("msg_signature={}&timestamp={timestamp}&nonce=n14", "0".repeat(40));
    let response = server.serve(&url, "POST", &forged, body.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40001"));
    // The same in JSON, garbage after the member.
    let json =
        format!(r#"{{"tousername":"{SUITE}","encrypt":"{}","x":{}"#, sealed.encrypt, "[".repeat(500_000));
    let response = server.serve(&url, "POST", &forged, json.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40001"));
    // No ciphertext at all: nothing to check a signature against.
    let response = server.serve(&url, "POST", &forged, b"<xml><ToUserName>x</ToUserName></xml>").await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40002"));
    let response = server.serve(&url, "POST", &forged, br#"{"tousername":"x"}"#).await;
    assert_eq!((response.status, response.body.as_str()), (400, "-40012"));
}

#[tokio::test]
async fn signed_pushes_open_in_xml_and_json_and_replies_keep_the_format() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let server = echoing(&app);
    let data = wecom_openwork::server::CallbackUrl::Data(SUITE.into());
    let crypt = MsgCrypt::new(SUITE_TOKEN, AES_KEY, CORP).expect("key");
    for (i, json) in [false, true].into_iter().enumerate() {
        let text = format!(
            "<xml><ToUserName>{CORP}</ToUserName><MsgType>text</MsgType><Content>hi</Content><MsgId>{i}</MsgId></xml>"
        );
        let (timestamp, nonce) = (now_timestamp(), format!("n15-{i}"));
        let sealed = crypt.encrypt(&text, &timestamp, &nonce).expect("encrypts");
        let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
        let body = if json {
            format!(
                r#"{{"tousername":"{CORP}","encrypt":"{}","agentid":1}}"#,
                sealed.encrypt.replace('/', "\\/")
            )
        } else {
            format!(
                "\u{feff}<?xml version=\"1.0\"?>\n<xml>\n <ToUserName><![CDATA[{CORP}]]></ToUserName>\n <Encrypt>\n{}\n</Encrypt>\n</xml>",
                sealed.encrypt
            )
        };
        let response = server.serve(&data, "POST", &query, body.as_bytes()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let content_type =
            if json { "application/json; charset=utf-8" } else { "application/xml; charset=utf-8" };
        assert_eq!(response.content_type, content_type);
        let envelope =
            wecom_openwork::crypto::parse_envelope(response.body.as_bytes()).expect("an encrypted reply");
        let signature = if json {
            let reply: serde_json::Value = serde_json::from_str(&response.body).expect("JSON");
            reply["msgsignature"].as_str().expect("signed").to_owned()
        } else {
            response
                .body
                .split("<MsgSignature><![CDATA[")
                .nth(1)
                .and_then(|s| s.split("]]>").next())
                .expect("signed")
                .to_owned()
        };
        let reply = crypt.decrypt(&signature, &timestamp, &nonce, &envelope.encrypt).expect("decrypts");
        assert_eq!(reply, "<xml><Content>echo hi</Content></xml>");
    }
}

/// Eight different pushes WeCom sends within one second (a busy corp adding
/// customers, two corps paying, a bulk import, two batch jobs) are eight
/// pushes, each handled once; WeCom's retry of one (the same message, sealed
/// again) is acknowledged without handling it again.
#[tokio::test]
async fn distinct_pushes_in_one_second_are_all_handled_and_a_retry_is_not() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let record = handled.clone();
    let server = app.server().with(move |callback, next| {
        let record = record.clone();
        async move {
            let message = callback.message.clone();
            let result = next.run(callback).await;
            if result.is_ok() {
                record.lock().expect("lock").push(message);
            }
            result
        }
    });
    let second = now_timestamp();
    let command = |rest: &str| {
        format!("<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><TimeStamp>{second}</TimeStamp>{rest}</xml>")
    };
    let messages = [
        command(&format!("<AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_external_contact]]></InfoType><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmAAAA]]></ExternalUserID>")),
        command(&format!("<AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_external_contact]]></InfoType><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmBBBB]]></ExternalUserID>")),
        command("<PaidCorpId><![CDATA[wwpaidcorp1]]></PaidCorpId><InfoType><![CDATA[pay_for_app_success]]></InfoType><OrderId><![CDATA[ORDER1]]></OrderId>"),
        command("<PaidCorpId><![CDATA[wwpaidcorp2]]></PaidCorpId><InfoType><![CDATA[pay_for_app_success]]></InfoType><OrderId><![CDATA[ORDER2]]></OrderId>"),
        command(&format!("<AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_contact]]></InfoType><ChangeType><![CDATA[create_party]]></ChangeType><Id>2</Id><Name><![CDATA[Sales]]></Name>")),
        command(&format!("<AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_contact]]></InfoType><ChangeType><![CDATA[create_party]]></ChangeType><Id>3</Id><Name><![CDATA[Support]]></Name>")),
        command("<InfoType><![CDATA[batch_job_result]]></InfoType><BatchJob><JobId><![CDATA[job-1]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode></BatchJob>"),
        command("<InfoType><![CDATA[batch_job_result]]></InfoType><BatchJob><JobId><![CDATA[job-2]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode></BatchJob>"),
    ];
    let url = wecom_openwork::server::CallbackUrl::Command(SUITE.into());
    for (i, message) in messages.iter().enumerate() {
        let (query, body) = push(message, SUITE, &format!("n{i}"));
        let response = server.serve(&url, "POST", &query, body.as_bytes()).await;
        assert_eq!((response.status, response.body.as_str()), (200, "success"), "push {i}");
    }
    assert_eq!(*handled.lock().expect("lock"), messages.to_vec(), "eight pushes, each handled once");
    // WeCom's retry of the fourth: the same message, sealed again.
    let (query, body) = push(&messages[3], SUITE, "retry");
    let response = server.serve(&url, "POST", &query, body.as_bytes()).await;
    assert_eq!((response.status, response.body.as_str()), (200, "success"));
    assert_eq!(handled.lock().expect("lock").len(), 8, "the retry is acknowledged, not handled again");
}

/// A data push whose corp cannot be looked up because the store failed is
/// answered 503, which WeCom retries, never refused as a receive-id
/// mismatch (−40005), which it does not.
#[tokio::test]
async fn a_store_error_on_the_data_url_is_a_503_not_a_refusal() {
    let app = Application::builder(common::config("http://127.0.0.1:9"))
        .store(common::scripted_store::ScriptedStore::broken(Arc::new(wecom_openwork::clock::SystemClock)))
        .build()
        .expect("valid");
    let event = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[create_party]]></ChangeType><Id>2</Id></xml>",
        now_timestamp()
    );
    let (query, body) = push(&event, CORP, "data");
    let url = wecom_openwork::server::CallbackUrl::Data(SUITE.into());
    let response = app.server().serve(&url, "POST", &query, body.as_bytes()).await;
    assert_eq!(response.status, 503, "{}", response.body);
}
