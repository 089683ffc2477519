//! The emulator's control API over HTTP, as a test in another language uses
//! it: tickets and auth codes in the answers, change_auth and
//! reset_permanent_code, clearing faults, reset, and its OpenAPI document
//! (every route the router serves is in it and vice versa; the validator
//! accepts it; every answer of a session fits its operation's schema).

mod emulator_listener;
#[path = "common/http.rs"]
mod http;

use std::collections::BTreeSet;
use std::process::Command;

use emulator_listener::{element, emulator_config, Listener, CORP, SUITE};
use serde_json::{json, Value};
use wecom_openwork::api::authorization::types::GetPermanentCodeRequest;
use wecom_openwork::clock::ManualClock;
use wecom_openwork::config::{Config, StoreConfig, SuiteConfig};
use wecom_openwork::emulator::{admin, Emulator, EmulatorConfig, Fault};
use wecom_openwork::{AppKind, Application, Secret};

struct World {
    listener: Listener,
    emulator: Emulator,
    control: String,
}

async fn world() -> World {
    let listener = Listener::start().await;
    let emulator = Emulator::bind(
        "127.0.0.1:0".parse().expect("addr"),
        ManualClock::starting_now(),
        emulator_config(&listener.base),
    )
    .await
    .expect("emulator");
    let control = format!("{}/__emulator", emulator.base_uri());
    World { listener, emulator, control }
}

/// An application on the emulator with SUITE's credentials (no callback
/// server: the test learns tickets and codes from the control answers).
fn application(emulator: &Emulator) -> Application {
    let mut config = Config {
        corp_id: "wwprovidercontrol".into(),
        provider_secret: "provider-secret".into(),
        token: "ProviderToken".into(),
        aes_key: emulator_listener::AES_KEY.into(),
        suites: vec![SuiteConfig {
            suite_id: SUITE.into(),
            suite_secret: Secret::new("suite-secret".to_owned()),
            token: emulator_listener::TOKEN.into(),
            aes_key: emulator_listener::AES_KEY.into(),
            kind: AppKind::ThirdParty,
        }],
        store: StoreConfig::memory(),
        ..Config::default()
    };
    config.http.base_uri = emulator.base_uri();
    Application::new(config).expect("valid")
}

#[tokio::test]
async fn answers_that_push_carry_the_ticket_and_the_auth_code() {
    let w = world().await;
    let (status, ticket) =
        http::post(&format!("{}/suite_ticket", w.control), &json!({ "suite_id": SUITE })).await;
    assert_eq!(status, 200, "{ticket}");
    assert_eq!((ticket["body"].as_str(), ticket["attempt"].as_u64()), (Some("success"), Some(1)), "{ticket}");
    let pushed = w.listener.received()[0].open(SUITE).2.expect("decrypts");
    assert_eq!(
        ticket["ticket"].as_str().map(str::to_owned),
        element(&pushed, "SuiteTicket"),
        "the pushed ticket"
    );

    let body = json!({ "suite_id": SUITE, "corp_id": CORP });
    let (status, authorized) = http::post(&format!("{}/authorize", w.control), &body).await;
    assert_eq!(status, 200, "{authorized}");
    assert_eq!(authorized["info_type"], "create_auth");
    let pushed = w.listener.received()[1].open(SUITE).2.expect("decrypts");
    assert_eq!(authorized["auth_code"].as_str().map(str::to_owned), element(&pushed, "AuthCode"));

    // The answers are enough to install without a callback server.
    let app = application(&w.emulator);
    app.suite(SUITE).ticket().set(ticket["ticket"].as_str().expect("ticket")).await.expect("set");
    let request = GetPermanentCodeRequest::new(authorized["auth_code"].as_str().expect("code"));
    let info = app.suite(SUITE).get_permanent_code_with(request).await.expect("the auth code is good");
    assert!(info.permanent_code.is_some_and(|c| c.starts_with("emu-pc-")));

    // The advance answer lists the tickets pushed.
    let (status, advanced) =
        http::post(&format!("{}/clock/advance", w.control), &json!({ "seconds": 1800 })).await;
    assert_eq!(status, 200, "{advanced}");
    let tickets = advanced["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 3, "{advanced}");
    assert_eq!(w.listener.received().len(), 5, "answered once the pushes were made");
    let (status, refused) =
        http::post(&format!("{}/clock/advance", w.control), &json!({ "seconds": u64::MAX })).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].is_string());
}

#[tokio::test]
async fn change_auth_is_pushed_and_reset_permanent_code_replaces_the_code() {
    let w = world().await;
    let app = application(&w.emulator);
    let (_, ticket) = http::post(&format!("{}/suite_ticket", w.control), &json!({ "suite_id": SUITE })).await;
    app.suite(SUITE).ticket().set(ticket["ticket"].as_str().expect("ticket")).await.expect("set");
    let corp = json!({ "suite_id": SUITE, "corp_id": CORP });

    // Not authorized yet: nothing to reset.
    let (status, refused) = http::post(&format!("{}/reset_permanent_code", w.control), &corp.clone()).await;
    assert_eq!(status, 400, "{refused}");

    let (_, authorized) = http::post(&format!("{}/authorize", w.control), &corp.clone()).await;
    let suite = app.suite(SUITE);
    let request = GetPermanentCodeRequest::new(authorized["auth_code"].as_str().expect("code"));
    let old = suite.get_permanent_code_with(request).await.expect("exchanged").permanent_code.expect("code");

    let (status, changed) = http::post(&format!("{}/change_auth", w.control), &corp.clone()).await;
    assert_eq!((status, changed["info_type"].as_str()), (200, Some("change_auth")), "{changed}");
    let pushed = w.listener.received().last().expect("pushed").open(SUITE).2.expect("decrypts");
    assert_eq!(element(&pushed, "InfoType").as_deref(), Some("change_auth"));
    assert_eq!(element(&pushed, "AuthCorpId").as_deref(), Some(CORP));

    let (status, reset) = http::post(&format!("{}/reset_permanent_code", w.control), &corp).await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(reset["info_type"], "reset_permanent_code");
    let new = reset["permanent_code"].as_str().expect("new code").to_owned();
    assert_ne!(new, old);
    let pushed = w.listener.received().last().expect("pushed").open(SUITE).2.expect("decrypts");
    assert_eq!(element(&pushed, "InfoType").as_deref(), Some("reset_permanent_code"));
    assert_eq!(reset["auth_code"].as_str().map(str::to_owned), element(&pushed, "AuthCode"));

    // The pushed auth code gets the new code; the old one no longer works.
    let request = GetPermanentCodeRequest::new(reset["auth_code"].as_str().expect("code"));
    let exchanged = suite.get_permanent_code_with(request).await.expect("exchanged");
    assert_eq!(exchanged.permanent_code.as_deref(), Some(new.as_str()));
    let err = suite.get_corp_token(CORP, old).await.unwrap_err();
    assert_eq!(err.code(), Some(40084), "{err:?}");
    suite.get_corp_token(CORP, new).await.expect("the new code works");
}

#[tokio::test]
async fn delete_faults_clears_them_and_reset_forgets_all_but_the_config() {
    let w = world().await;
    let fault =
        json!({ "path": "/cgi-bin/service/get_provider_token", "times": 5, "fault": { "errcode": -1 } });
    assert_eq!(http::post(&format!("{}/faults", w.control), &fault).await.0, 200);
    w.emulator.inject(None, 1, Fault::HttpStatus(503));
    let (status, cleared) = http::send(reqwest::Method::DELETE, &format!("{}/faults", w.control), None).await;
    assert_eq!((status, cleared["cleared"].as_u64()), (200, Some(2)), "{cleared}");
    let app = application(&w.emulator);
    app.provider().access_token().get().await.expect("no fault left");
    assert_eq!(w.emulator.calls("/cgi-bin/service/get_provider_token"), 1, "answered at the first call");

    // Issue some state, then reset.
    let token = app.provider().access_token().get().await.expect("cached");
    assert!(w.emulator.token_owner(&token).is_some(), "issued by the emulator");
    http::post(&format!("{}/suite_ticket", w.control), &json!({ "suite_id": SUITE })).await;
    w.emulator.inject(None, 1, Fault::Errcode(-1));
    let (status, reset) = http::post(&format!("{}/reset", w.control), &json!({})).await;
    assert_eq!((status, reset["ok"].as_bool()), (200, Some(true)), "{reset}");
    assert!(w.emulator.requests().is_empty() && w.emulator.pushes().is_empty());
    let (_, stats) = http::send(reqwest::Method::GET, &format!("{}/stats", w.control), None).await;
    assert_eq!((stats["requests"].as_u64(), stats["pushes"].as_u64()), (Some(0), Some(0)), "{stats}");
    assert!(w.emulator.suite_ticket(SUITE).is_none(), "tickets forgotten");
    assert!(w.emulator.token_owner(&token).is_none(), "tokens forgotten");

    // No fault left: a new application's token call is answered at once.
    application(&w.emulator).provider().access_token().get().await.expect("token");
    assert_eq!(w.emulator.calls("/cgi-bin/service/get_provider_token"), 1, "no fault answered first");
    // The configuration stays: it still pushes.
    let (status, again) =
        http::post(&format!("{}/suite_ticket", w.control), &json!({ "suite_id": SUITE })).await;
    assert_eq!((status, again["body"].as_str()), (200, Some("success")), "{again}");
}

#[tokio::test]
async fn events_push_to_the_data_url_and_bad_requests_are_400_json() {
    let w = world().await;
    let xml = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>1000005</AgentID></xml>"
    );
    let body = json!({ "suite_id": SUITE, "corp_id": CORP, "xml": xml });
    let (status, pushed) = http::post(&format!("{}/events", w.control), &body).await;
    assert_eq!(status, 200, "{pushed}");
    assert_eq!(
        (pushed["receive_id"].as_str(), pushed["info_type"].as_str()),
        (Some(CORP), Some("enter_agent"))
    );
    let received = w.listener.received();
    assert_eq!(received[0].path, format!("/data/{CORP}"));
    let (to, agent, opened) = received[0].open(CORP);
    assert_eq!((to.as_str(), agent.as_str(), opened.as_deref()), (CORP, "1000005", Ok(xml.as_str())));

    let body = json!({ "suite_id": SUITE, "corp_id": CORP, "xml": xml, "url": "command" });
    let (_, pushed) = http::post(&format!("{}/events", w.control), &body).await;
    assert_eq!(pushed["receive_id"], SUITE);
    assert_eq!(w.listener.received()[1].path, "/command");

    for bad in [json!({ "suite_id": SUITE }), json!({ "suite_id": SUITE, "corp_id": CORP, "xml": "<oops" })] {
        let (status, answer) = http::post(&format!("{}/events", w.control), &bad).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, answer) = http::post(&format!("{}/authorize", w.control), &json!("not an object")).await;
    assert_eq!((status, answer["error"].is_string()), (400, true));
}

fn document_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_has_every_control_route_and_no_other() {
    let w = world().await;
    let (status, doc) = http::send(reqwest::Method::GET, &format!("{}/openapi.json", w.control), None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(admin::openapi_json()).expect("JSON"),
        "the served document"
    );

    let listed: BTreeSet<(String, String)> =
        admin::routes().into_iter().map(|(m, p)| (m.to_owned(), p.to_owned())).collect();
    assert_eq!(listed.len(), admin::routes().len(), "no route listed twice");
    assert_eq!(document_routes(&doc), listed, "the document and the router's routes");

    // Each listed route is really served with its method (a wrong method is
    // 405, an unknown path falls through to the WeCom routes' 404-like answer).
    for (method, path) in &listed {
        if path.ends_with("/reset") {
            continue; // would forget what the other checks need; tested above
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = reqwest::Client::new()
            .request(method.clone(), format!("{}{path}", w.emulator.base_uri()))
            .body("{}")
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert!(matches!(status, 200 | 400), "{method} {path}: {status} {text}");
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(answer.is_object() || answer.is_array(), "{method} {path}: JSON answer, got {text}");
        // An unrouted path would reach the WeCom routes and get their 40066.
        assert!(answer.get("errcode").is_none(), "{method} {path}: not a control route: {text}");
        if status == 400 {
            assert!(answer["error"].is_string(), "{method} {path}: {text}");
        }
    }
    // A method the router does not have for a path is refused.
    let (status, _) = http::send(reqwest::Method::PUT, &format!("{}/faults", w.control), None).await;
    assert_eq!(status, 405);
}

#[test]
fn openapi_spec_validator_accepts_the_control_document() {
    let dir = std::env::temp_dir().join(format!("wecom-emulator-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let check = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        Command::new("python3")
            .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
            .arg(&path)
            .output()
            .expect("python3 runs (install the validator with `bash tests/interop/setup.sh`)")
    };
    let out = check("controls.json", admin::openapi_json());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with(": OK"),
        "openapi-spec-validator refuses the control document (run `bash tests/interop/setup.sh` if it is missing):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator notices a broken reference, so its verdict means something.
    let mut broken: Value = serde_json::from_str(admin::openapi_json()).expect("JSON");
    broken["components"]["schemas"].as_object_mut().expect("schemas").remove("PushRecord");
    let out = check("broken.json", &broken.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "a dangling $ref passes");
}

#[test]
fn the_config_takes_data_urls_and_realtime() {
    let config: EmulatorConfig = serde_json::from_value(json!({
        "realtime": true,
        "suites": [{
            "suite_id": SUITE, "suite_secret": "s", "token": "t",
            "aes_key": emulator_listener::AES_KEY,
            "command_url": "http://127.0.0.1:1/command",
            "data_url": "http://127.0.0.1:1/data/$CORPID$"
        }]
    }))
    .expect("parses");
    assert!(config.realtime);
    assert_eq!(config.suites[0].data_url.as_deref(), Some("http://127.0.0.1:1/data/$CORPID$"));
    let shown = format!("{config:?}");
    assert!(!shown.contains(emulator_listener::AES_KEY), "{shown}");
}

/// Every `$ref` in `value`, and whether any key names a schema dialect or a
/// definitions table (which would mean schemars' root-schema keys leaked in).
fn refs_and_leaks(value: &Value, refs: &mut Vec<String>, leaks: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => refs.push(target.clone()),
                    ("$schema" | "definitions" | "$defs", _) => leaks.push(key.clone()),
                    _ => {}
                }
                refs_and_leaks(member, refs, leaks);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs_and_leaks(item, refs, leaks)),
        _ => {}
    }
}

/// `schema` with every object that declares its members closed to others:
/// an answer must not carry a member its document does not describe.
fn closed(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(closed);
        }
        Value::Array(items) => items.iter_mut().for_each(closed),
        _ => {}
    }
}

/// A JSON Schema 2020-12 validator of `schema` as it stands in `doc`: the
/// document's components beside it, so its `#/components/schemas/…` resolve.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut components = doc["components"].clone();
    closed(&mut components);
    let mut schema = schema.clone();
    closed(&mut schema);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "allOf": [schema],
    });
    jsonschema::draft202012::new(&root).expect("a valid JSON Schema")
}

/// The schemas of a control operation in the served document.
struct Schemas {
    /// Of its request body, if it reads one.
    request: Option<jsonschema::Validator>,
    /// Of its 200 answer.
    answer: jsonschema::Validator,
    /// Of the shared 400 answer.
    refusal: jsonschema::Validator,
}

/// The request, answer and refusal schemas of `method path` in `doc`.
fn schemas(doc: &Value, method: &str, path: &str) -> Schemas {
    let operation = &doc["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not in the document");
    let request = &operation["requestBody"]["content"]["application/json"]["schema"];
    let answer = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(answer.is_object(), "{method} {path}: no 200 schema");
    let refusal = &doc["components"]["responses"]["BadRequest"]["content"]["application/json"]["schema"];
    Schemas {
        request: (!request.is_null()).then(|| validator(doc, request)),
        answer: validator(doc, answer),
        refusal: validator(doc, refusal),
    }
}

/// What `validator` finds wrong with `value`, readable in a failure.
fn complaints(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

/// One control call of the session: sends it, checks the request against
/// the operation's request schema and the 200 answer against its answer
/// schema, and keeps the answer for the strictness checks.
struct Session<'a> {
    /// The served document.
    doc: &'a Value,
    /// The emulator's base URI.
    base: String,
    /// The routes called, to show the session missed none.
    seen: BTreeSet<(String, String)>,
}

impl Session<'_> {
    /// `method path` with `body`: its 200 answer, checked.
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let schemas = schemas(self.doc, method, path);
        if let (Some(request), Some(body)) = (&schemas.request, &body) {
            let wrong = complaints(request, body);
            assert!(wrong.is_empty(), "{method} {path}: the request {body} does not fit: {wrong:?}");
        }
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let (status, answer) = http::send(verb, &format!("{}{path}", self.base), body.as_ref()).await;
        assert_eq!(status, 200, "{method} {path}: {answer}");
        let wrong = complaints(&schemas.answer, &answer);
        assert!(wrong.is_empty(), "{method} {path}: the answer {answer} does not fit its schema: {wrong:?}");
        self.seen.insert((method.to_owned(), path.to_owned()));
        answer
    }

    /// A body the route refuses: the 400 answer fits the shared BadRequest.
    async fn refused(&self, path: &str) {
        let schemas = schemas(self.doc, "POST", path);
        let (status, answer) =
            http::post(&format!("{}{path}", self.base), &json!(["not", "an", "object"])).await;
        assert_eq!(status, 400, "POST {path}: {answer}");
        let wrong = complaints(&schemas.refusal, &answer);
        assert!(wrong.is_empty(), "POST {path}: the refusal {answer} does not fit: {wrong:?}");
    }
}

#[tokio::test]
async fn every_control_answer_of_a_session_fits_its_schema_in_the_served_document() {
    use wecom_openwork::api::license::types::{AccountCount, AccountDuration, CreateNewOrderRequest};
    use wecom_openwork::api::media::types::UploadMediaQuery;

    let w = world().await;
    let (status, doc) = http::get(&format!("{}/openapi.json", w.control)).await;
    assert_eq!(status, 200);
    let (mut refs, mut leaks) = (Vec::new(), Vec::new());
    refs_and_leaks(&doc, &mut refs, &mut leaks);
    assert!(leaks.is_empty(), "schemars' root keys in the document: {leaks:?}");
    for target in &refs {
        let pointer = target.strip_prefix('#').expect("a local $ref");
        assert!(doc.pointer(pointer).is_some(), "a dangling $ref: {target}");
    }
    let mut s = Session { doc: &doc, base: w.emulator.base_uri(), seen: BTreeSet::new() };

    // Install: a ticket, an authorization, the permanent code.
    let ticket = s.call("POST", "/__emulator/suite_ticket", Some(json!({ "suite_id": SUITE }))).await;
    let corp = json!({ "suite_id": SUITE, "corp_id": CORP });
    let authorized = s.call("POST", "/__emulator/authorize", Some(corp.clone())).await;
    let app = application(&w.emulator);
    app.suite(SUITE).ticket().set(ticket["ticket"].as_str().expect("ticket")).await.expect("set");
    let request = GetPermanentCodeRequest::new(authorized["auth_code"].as_str().expect("code"));
    let installed = app.suite(SUITE).get_permanent_code_with(request).await.expect("exchanged");
    let code = installed.permanent_code.expect("a permanent code");
    app.corp(SUITE, CORP).permanent_code().set(code).await.expect("stored");
    // An upload, so a recorded request carries one.
    let file = wecom_openwork::UploadFile::new("a.txt", "text/plain", b"hello, world".to_vec());
    app.corp(SUITE, CORP).media().upload(&UploadMediaQuery::new("file"), file).await.expect("uploaded");
    // A call with a second token, which a lenient emulator records.
    let suite_token = app.suite(SUITE).access_token().get().await.expect("suite token");
    let extra = format!(
        "{}/cgi-bin/service/get_pre_auth_code?suite_access_token={suite_token}&access_token=x",
        w.emulator.base_uri()
    );
    assert_eq!(http::get(&extra).await.1["errcode"], 0);
    // A license order to pay.
    let order = CreateNewOrderRequest::new(
        CORP,
        "buyer",
        AccountCount::new().base_count(1),
        AccountDuration::new().months(12),
    );
    let provider = app.provider();
    let order_id =
        provider.license().create_new_order_with(order).await.expect("ordered").order_id.expect("an id");

    let member = json!({ "suite_id": SUITE, "corp_id": CORP, "userid": "zhangsan" });
    s.call("POST", "/__emulator/oauth_code", Some(member)).await;
    s.call("POST", "/__emulator/change_auth", Some(corp.clone())).await;
    s.call("POST", "/__emulator/reset_permanent_code", Some(corp.clone())).await;
    let xml = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>1000005</AgentID></xml>"
    );
    s.call("POST", "/__emulator/events", Some(json!({ "suite_id": SUITE, "corp_id": CORP, "xml": xml })))
        .await;
    // A customer writes to a kf account the corp added.
    let account = app.corp(SUITE, CORP).kf().add_account("客服", "MEDIA_ID").await.expect("added");
    let open_kfid = account.open_kfid.expect("an account id");
    let message = json!({
        "suite_id": SUITE, "corp_id": CORP, "open_kfid": open_kfid, "external_userid": "wmCUSTOMER", "text": "hi",
    });
    s.call("POST", "/__emulator/kf/customer_message", Some(message)).await;
    s.call("POST", "/__emulator/license/pay", Some(json!({ "order_id": order_id }))).await;
    for fault in [
        json!({ "path": "/cgi-bin/nowhere", "times": 1, "fault": { "errcode": -1 } }),
        json!({ "path": null, "times": 1, "fault": { "http_status": 503 } }),
        json!({ "times": 1, "fault": { "delay": { "secs": 1, "nanos": 0 } } }),
        json!({ "times": 1, "fault": "drop" }),
        json!({ "times": 1, "fault": { "json": { "errcode": 0 } } }),
    ] {
        s.call("POST", "/__emulator/faults", Some(fault)).await;
    }
    let cleared = s.call("DELETE", "/__emulator/faults", None).await;
    assert_eq!(cleared["cleared"], 5, "{cleared}");
    let advanced = s.call("POST", "/__emulator/clock/advance", Some(json!({ "seconds": 1200 }))).await;
    assert_eq!(advanced["tickets"].as_array().map(Vec::len), Some(2), "{advanced}");
    let stats = s.call("GET", "/__emulator/stats", None).await;
    let requests = s.call("GET", "/__emulator/requests", None).await;
    assert!(requests.as_array().expect("a list").iter().any(|r| r["upload"].is_object()), "an upload");
    assert!(requests.as_array().expect("a list").iter().any(|r| r["body"].is_object()), "a JSON body");
    let violations = s.call("GET", "/__emulator/violations", None).await;
    assert!(!violations.as_array().expect("a list").is_empty(), "the second token is recorded");
    let pushes = s.call("GET", "/__emulator/pushes", None).await;
    s.call("POST", "/__emulator/cancel", Some(corp.clone())).await;
    s.call("GET", "/__emulator/openapi.json", None).await;
    let reset = s.call("POST", "/__emulator/reset", Some(json!({}))).await;

    let every: BTreeSet<(String, String)> =
        admin::routes().into_iter().map(|(m, p)| (m.to_owned(), p.to_owned())).collect();
    assert_eq!(s.seen, every, "the session called every control route");
    for path in [
        "/__emulator/faults",
        "/__emulator/clock/advance",
        "/__emulator/events",
        "/__emulator/oauth_code",
        "/__emulator/kf/customer_message",
    ] {
        s.refused(path).await;
    }

    // The schemas are strict enough to catch an answer that drifted from its
    // type: a renamed member, a missing one, a value out of range.
    let answer_of = |method: &str, path: &str| schemas(&doc, method, path).answer;
    let renamed = |value: &Value, from: &str, to: &str| {
        let mut value = value.clone();
        let member = value.as_object_mut().expect("an object").remove(from).expect("the member");
        value[to] = member;
        value
    };
    let stats_schema = answer_of("GET", "/__emulator/stats");
    assert!(!stats_schema.is_valid(&renamed(&stats, "requests", "request_count")), "a renamed member passes");
    let mut missing = ticket.clone();
    missing.as_object_mut().expect("an object").remove("ticket");
    assert!(!answer_of("POST", "/__emulator/suite_ticket").is_valid(&missing), "a missing ticket passes");
    let mut zeroth = pushes.clone();
    zeroth[0]["attempt"] = json!(0);
    assert!(!answer_of("GET", "/__emulator/pushes").is_valid(&zeroth), "attempt 0 passes");
    let mut untrue = reset.clone();
    untrue["ok"] = json!(false);
    assert!(!answer_of("POST", "/__emulator/reset").is_valid(&untrue), "ok: false passes");
    let mut extra = violations.clone();
    extra[0]["where"] = json!("nowhere");
    assert!(!answer_of("GET", "/__emulator/violations").is_valid(&extra), "an undescribed member passes");
}
