//! Secrets stay hidden where they could leak: error bodies kept for
//! diagnosis, a serialized configuration (unless asked for explicitly), the
//! emulator's configuration in `Debug`; and the store still keeps the real
//! permanent code.

mod common;

use std::sync::Arc;

use common::{app_on_emulator, config, AES_KEY, CORP, PROVIDER, SUITE};
use wecom_openwork::api::authorization::types::GetPermanentCodeRequest;
use wecom_openwork::clock::ManualClock;
use wecom_openwork::emulator::EmulatorConfig;
use wecom_openwork::store::keys;
use wecom_openwork::{
    Application, Authorization, Client, Config, CorpId, Error, RetryPolicy, Secret, StaticTokens, SuiteId,
};

const PERMANENT_CODE: &str = "PC-9f8e7d6c5b4a";
const ACCESS_TOKEN: &str = "AT-0a1b2c3d4e5f";
const SUITE_TOKEN: &str = "ST-SUITE-TOKEN-77";

/// A server that answers every request with `status` and `body`.
async fn answering(status: u16, body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let status = axum::http::StatusCode::from_u16(status).expect("status");
    let router = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body) }
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_uri(base)
        .retry(RetryPolicy::none())
        .clock(Arc::new(ManualClock::starting_now()))
        .build(StaticTokens::new().suite(SUITE, SUITE_TOKEN))
        .expect("valid client")
}

fn assert_hidden(err: &Error, secrets: &[&str]) {
    let mut shown = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        shown.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
}

#[tokio::test]
async fn an_undecodable_reply_keeps_its_body_without_the_permanent_code() {
    let request = GetPermanentCodeRequest::new("AUTH");
    // `auth_corp_info` must be an object: the reply does not decode.
    let wrong_type = format!(
        r#"{{"errcode":0,"errmsg":"ok","access_token":"{ACCESS_TOKEN}","expires_in":7200,"permanent_code":"{PERMANENT_CODE}","auth_corp_info":"not-an-object"}}"#
    );
    // Cut short inside the permanent code: not JSON at all.
    let whole =
        format!(r#"{{"errcode":0,"access_token":"{ACCESS_TOKEN}","permanent_code":"{PERMANENT_CODE}"}}"#);
    let truncated = whole[..whole.find(PERMANENT_CODE).expect("in it") + 7].to_owned();
    assert!(truncated.ends_with("PC-9f8e"), "the cut falls inside the code: {truncated}");
    // A code of the wrong type: serde's message would quote it.
    let numeric = r#"{"errcode":0,"permanent_code":98765432109,"auth_corp_info":{}}"#.to_owned();
    for body in [wrong_type, truncated, numeric] {
        let base = answering(200, body.clone()).await;
        let err = client(&base).suite(SUITE).get_permanent_code_with(request.clone()).await.unwrap_err();
        let Error::Decode { body: kept, .. } = &err else { panic!("expected Decode, got {err:?}") };
        assert!(
            kept.contains("\"permanent_code\":\"<redacted>")
                || kept.contains("\"permanent_code\":<redacted>"),
            "{kept}"
        );
        assert!(kept.contains("\"errcode\":0"), "the rest is kept for diagnosis: {kept}");
        assert_hidden(&err, &[PERMANENT_CODE, "PC-9f8e", "98765432109", ACCESS_TOKEN, SUITE_TOKEN]);
    }
}

#[tokio::test]
async fn an_error_status_keeps_its_body_without_tokens() {
    let body = format!(
        r#"{{"error":"upstream","suite_access_token":"{SUITE_TOKEN}","url":"/cgi-bin/service/get_pre_auth_code?suite_access_token={SUITE_TOKEN}&x=1"}}"#
    );
    let base = answering(502, body).await;
    let err = client(&base).suite(SUITE).get_pre_auth_code().await.unwrap_err();
    let Error::Status { status: 502, body: kept, .. } = &err else { panic!("expected Status, got {err:?}") };
    assert!(kept.contains("upstream") && kept.contains("&x=1"), "{kept}");
    assert_hidden(&err, &[SUITE_TOKEN]);
}

const SECRETS: [&str; 5] =
    ["provider-secret-value", "secret-of-wwsuite0001", "ProviderToken", "SuiteToken", AES_KEY];

#[test]
fn a_serialized_config_shows_no_secret_unless_asked() {
    let config = config("https://qyapi.weixin.qq.com");
    let dumps = [
        toml::to_string(&config).expect("TOML"),
        serde_norway::to_string(&config).expect("YAML"),
        serde_json::to_string(&config).expect("JSON"),
    ];
    for dump in &dumps {
        for secret in SECRETS {
            assert!(!dump.contains(secret), "{secret} written in {dump}");
        }
        assert!(dump.contains("<redacted>") && dump.contains("wwprovider0001"), "{dump}");
    }

    // A redacted dump is not mistaken for the real secrets.
    let err = toml::from_str::<Config>(&dumps[0]).unwrap_err().to_string();
    // TOML shows the line of the field.
    let named = ["provider_secret", "token", "aes_key"]
        .iter()
        .any(|f| err.contains(&format!("{f} = \"<redacted>\"")));
    assert!(named && err.contains("Secret::exposing"), "{err}");
    let err = serde_norway::from_str::<Config>(&dumps[1]).unwrap_err().to_string();
    assert!(err.starts_with("provider_secret: ") && err.contains("Secret::exposing"), "{err}");
    // JSON gives the position.
    let err = serde_json::from_str::<Config>(&dumps[2]).unwrap_err().to_string();
    assert!(err.contains("Secret::exposing"), "{err}");
    let vars =
        [("W_CORP_ID", "ww1"), ("W_PROVIDER_SECRET", "<redacted>"), ("W_TOKEN", "t"), ("W_AES_KEY", AES_KEY)];
    let err = Config::from_vars("W_", vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).unwrap_err();
    assert!(matches!(&err, Error::Config(m) if m.starts_with("W_PROVIDER_SECRET: ")), "{err}");

    // Asked for explicitly, every format round-trips the secrets.
    let toml_full = Secret::exposing(|| toml::to_string(&config)).expect("TOML");
    assert_eq!(toml::from_str::<Config>(&toml_full).expect("loads"), config);
    let yaml_full = Secret::exposing(|| serde_norway::to_string(&config)).expect("YAML");
    assert_eq!(serde_norway::from_str::<Config>(&yaml_full).expect("loads"), config);
    let json_full = Secret::exposing(|| serde_json::to_string(&config)).expect("JSON");
    assert_eq!(serde_json::from_str::<Config>(&json_full).expect("loads"), config);
    assert!(toml::to_string(&config).expect("TOML").contains("<redacted>"), "the scope ended");
}

#[tokio::test]
async fn the_store_keeps_the_real_permanent_code() {
    let authorization = Authorization::new(SUITE, CORP, PERMANENT_CODE, std::time::SystemTime::now());
    assert!(serde_json::to_string(&authorization).expect("JSON").contains(PERMANENT_CODE));
    assert!(!format!("{authorization:?}").contains(PERMANENT_CODE));

    let (emulator, app, clock) = app_on_emulator().await;
    app.corp(SUITE, "wwcorp0042").permanent_code().set(PERMANENT_CODE).await.expect("stored");
    let key = keys::authorization(&SuiteId::new(SUITE), &CorpId::new("wwcorp0042"));
    let record = app.store().get_record(&key).await.expect("store").expect("a record");
    assert!(record.value.contains(PERMANENT_CODE), "{}", record.value);

    // Another application on the same store gets a corp token with it.
    let other = Application::builder(config(&emulator.base_uri()))
        .clock(Arc::new(clock))
        .store(app.store().clone())
        .build()
        .expect("valid");
    let code = other.corp(SUITE, "wwcorp0042").permanent_code().get().await.expect("read");
    assert_eq!(code.as_ref().map(Secret::expose), Some(PERMANENT_CODE));
}

#[test]
fn the_emulator_config_debug_hides_secrets_tokens_and_keys() {
    let config = config("https://qyapi.weixin.qq.com");
    let emulated = EmulatorConfig::from_config(&config, Some("http://127.0.0.1:8080"));
    let shown = format!("{emulated:?} {emulated:#?}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    assert!(shown.contains("wwprovider0001") && shown.contains("wwsuite0001"), "ids stay visible: {shown}");
    assert!(shown.contains("/callback/command/wwsuite0001"), "{shown}");
}

/// A push of `message` to the provider's system-event URL, sent now by `clock`.
fn system_push(message: &str, clock: &wecom_openwork::clock::ManualClock, nonce: &str) -> (String, String) {
    use wecom_openwork::clock::Clock;
    let timestamp =
        clock.now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs().to_string();
    let crypt = wecom_openwork::crypto::MsgCrypt::new("ProviderToken", AES_KEY, PROVIDER).expect("key");
    let sealed = crypt.encrypt(message, &timestamp, nonce).expect("encrypts");
    let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
    (query, format!("<xml><Encrypt><![CDATA[{}]]></Encrypt></xml>", sealed.encrypt))
}

#[tokio::test]
async fn callbacks_and_events_hide_secrets_at_every_depth_in_debug() {
    use std::sync::Mutex;
    use wecom_openwork::events::{AutoActivate, RawEvent, RegisterCorp};
    use wecom_openwork::server::{CallbackUrl, Reply};

    let (_emulator, app, clock) = app_on_emulator().await;
    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let (on_register, on_activate, on_unknown) = (shown.clone(), shown.clone(), shown.clone());
    let server = app
        .server()
        .on::<RegisterCorp, _, _>(move |event, callback| {
            let raw = RawEvent { fields: callback.fields.clone() };
            on_register
                .lock()
                .expect("lock")
                .push(format!("{callback:?}\n{callback:#?}\n{event:?}\n{event:#?}\n{raw:?}\n{raw:#?}"));
            async { Ok(Reply::Success) }
        })
        .on::<AutoActivate, _, _>(move |event, callback| {
            on_activate.lock().expect("lock").push(format!("{callback:?}\n{event:?}\n{:?}", callback.event));
            async { Ok(Reply::Success) }
        })
        .on_kind("unknown", move |callback| {
            on_unknown.lock().expect("lock").push(format!("{callback:?}\n{:?}", callback.event));
            async { Ok(Reply::Success) }
        });
    let register = format!(
        "<xml><ServiceCorpId><![CDATA[{PROVIDER}]]></ServiceCorpId><InfoType><![CDATA[register_corp]]></InfoType>\
         <TimeStamp>1502682173</TimeStamp><RegisterCode><![CDATA[RC-REGISTER-SECRET]]></RegisterCode>\
         <AuthCorpId><![CDATA[wwnewcorp01]]></AuthCorpId><ContactSync><AccessToken><![CDATA[AT-NESTED-SECRET]]></AccessToken>\
         <ExpiresIn><![CDATA[1800]]></ExpiresIn></ContactSync><AuthUserInfo><UserId><![CDATA[admin01]]></UserId></AuthUserInfo>\
         <State><![CDATA[state01]]></State></xml>"
    );
    let activate = format!(
        "<xml><ServiceCorpId><![CDATA[{PROVIDER}]]></ServiceCorpId><InfoType><![CDATA[auto_activate]]></InfoType>\
         <AuthCorpId><![CDATA[wwnewcorp01]]></AuthCorpId><Scene>1</Scene><TimeStamp>1403610513</TimeStamp>\
         <AccountList><ActiveCode><![CDATA[AC-ACTIVE-SECRET]]></ActiveCode><Type>1</Type><UserId><![CDATA[user01]]></UserId>\
         <PreviousActiveCode><![CDATA[AC-PREVIOUS-SECRET]]></PreviousActiveCode></AccountList></xml>"
    );
    // A kind nobody declared, a secret two levels down in a list.
    let unknown = format!(
        "<xml><ServiceCorpId><![CDATA[{PROVIDER}]]></ServiceCorpId><InfoType><![CDATA[from_the_future]]></InfoType>\
         <TimeStamp>1403610514</TimeStamp><Grants><Grant><Name>first</Name><SuiteTicket>ST-LISTED-SECRET</SuiteTicket></Grant>\
         <Grant><Name>second</Name><Inner><CorpSecret>CS-DEEP-SECRET</CorpSecret></Inner></Grant></Grants></xml>"
    );
    for (i, message) in [register, activate, unknown].iter().enumerate() {
        let (query, body) = system_push(message, &clock, &format!("nonce{i}"));
        let response = server.serve(&CallbackUrl::System, "POST", &query, body.as_bytes()).await;
        assert_eq!((response.status, response.body.as_str()), (200, "success"), "push {i}");
    }
    let shown = shown.lock().expect("lock").join("\n");
    for kind in ["register_corp", "auto_activate", "unknown"] {
        assert!(shown.contains(&format!("kind: \"{kind}\"")), "the {kind} handler ran: {shown}");
    }
    for secret in [
        "RC-REGISTER-SECRET",
        "AT-NESTED-SECRET",
        "AC-ACTIVE-SECRET",
        "AC-PREVIOUS-SECRET",
        "ST-LISTED-SECRET",
        "CS-DEEP-SECRET",
    ] {
        assert!(!shown.contains(secret), "{secret} shown in:\n{shown}");
    }
    assert!(shown.contains("<redacted>"), "{shown}");
    for kept in ["wwnewcorp01", "admin01", "1800", "state01", "user01", "first", "second", "from_the_future"]
    {
        assert!(shown.contains(kept), "{kept} hidden too:\n{shown}");
    }
}
