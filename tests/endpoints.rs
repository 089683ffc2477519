//! Every spec'd endpoint, called through its typed method against the
//! emulator: the HTTP method, the path, exactly one token parameter with the
//! right name (none for token-less calls), the documented request JSON; and
//! the documented reply decodes into its type and re-encodes without losing
//! a field. Driven by the specs, so a new endpoint is covered with no new test.
//! An endpoint only 代开发 apps may call is called through the customized
//! suite, the others through a third-party one.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{app_on_emulator, CORP, CUSTOMIZED, SUITE};
use serde_json::Value;
use wecom_openwork::api::dispatch::{call_json, callable, CallInput, CallReply, Handles, CALLABLES};
use wecom_openwork::compat::EasyWeChat;
use wecom_openwork::{Application, Payload, UploadFile};
use wecom_openwork_codegen::spec::{AppKind, HttpMethod, TokenKind};

/// The file every upload sends: small, within every limit.
fn example_file() -> UploadFile {
    UploadFile::new("example.txt", "text/plain", &b"an example file"[..])
}

const TOKEN_PARAMS: [&str; 3] = ["provider_access_token", "suite_access_token", "access_token"];

/// The current tokens of the scopes the tests use.
struct Tokens {
    provider: String,
    suite: String,
    corp: String,
    /// `CORP`'s token for the customized suite (from gettoken).
    customized_corp: String,
    /// A registered corp's one-time token (from get_register_info).
    registration: String,
}

async fn warm_tokens(app: &Application) -> Tokens {
    Tokens {
        provider: app.provider().access_token().get().await.expect("provider token"),
        suite: app.suite(SUITE).access_token().get().await.expect("suite token"),
        corp: app
            .authorizer_access_token(CORP, "permanent-code-of-corp", SUITE)
            .get()
            .await
            .expect("corp token"),
        customized_corp: app
            .authorizer_access_token(CORP, "permanent-code-of-customized", CUSTOMIZED)
            .get()
            .await
            .expect("customized corp token"),
        registration: {
            let info = app.provider().get_register_info("REGISTER_CODE").await;
            info.expect("register info")
                .contact_sync
                .and_then(|s| s.access_token)
                .expect("a registration token")
        },
    }
}

/// The token a call of this kind must carry: (query name, value).
fn expected_token(
    tokens: &Tokens,
    kind: TokenKind,
    override_name: Option<&str>,
    customized: bool,
) -> Option<(String, String)> {
    let (name, value) = match kind {
        TokenKind::Provider => ("provider_access_token", &tokens.provider),
        TokenKind::Suite => ("suite_access_token", &tokens.suite),
        TokenKind::Corp if customized => ("access_token", &tokens.customized_corp),
        TokenKind::Corp => ("access_token", &tokens.corp),
        TokenKind::Registration => ("access_token", &tokens.registration),
        TokenKind::None => return None,
    };
    Some((override_name.unwrap_or(name).to_owned(), value.clone()))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_endpoint_sends_what_its_spec_documents_and_decodes_its_example() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let tokens = warm_tokens(&app).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = wecom_openwork_codegen::load_and_check(&root.join("spec")).expect("valid specs");
    let mut covered = 0;
    for loaded in &specs {
        for e in &loaded.spec.endpoints {
            let label = format!("{}.{}", loaded.spec.group, e.name);
            emulator.clear_requests();
            let customized = !e.allows(AppKind::ThirdParty);
            let suite = if customized { CUSTOMIZED } else { SUITE };
            let handles = Handles::of(&app, Some(suite), Some(CORP));
            let endpoint = wecom_openwork::ENDPOINTS
                .iter()
                .find(|x| x.group == loaded.spec.group && x.name == e.name)
                .unwrap_or_else(|| panic!("{label}: not in ENDPOINTS"));
            let callable = callable(endpoint).unwrap_or_else(|| panic!("{label}: not callable"));
            let input = CallInput {
                query: e.example.query.clone(),
                request: e.example.request.clone(),
                file: e.upload.is_some().then(example_file),
                token: (e.token == TokenKind::Registration).then(|| tokens.registration.clone().into()),
            };
            let reply =
                call_json(&handles, endpoint, input).await.unwrap_or_else(|err| panic!("{label}: {err}"));
            let reply = match reply {
                CallReply::Json(json) => json,
                CallReply::Binary { content_type, .. } => panic!("{label}: a binary reply ({content_type})"),
                CallReply::Download(download) => {
                    let content_type = download.content_type().to_owned();
                    let bytes = download.bytes(1 << 20).await.unwrap_or_else(|err| panic!("{label}: {err}"));
                    serde_json::json!({ "content_type": content_type, "size": bytes.len() })
                }
            };

            let requests = emulator.requests();
            assert_eq!(requests.len(), 1, "{label}: one request");
            let sent = &requests[0];
            let method = match e.method {
                HttpMethod::Get => "GET",
                HttpMethod::Post => "POST",
            };
            assert_eq!(sent.method, method, "{label}: HTTP method");
            assert_eq!(sent.path, e.path, "{label}: path");

            let carried: Vec<(String, String)> =
                sent.query.iter().filter(|(k, _)| TOKEN_PARAMS.contains(&k.as_str())).cloned().collect();
            let expected: Vec<(String, String)> =
                expected_token(&tokens, e.token, e.token_param.as_deref(), customized).into_iter().collect();
            assert_eq!(carried, expected, "{label}: token parameters");

            let other: BTreeMap<String, String> =
                sent.query.iter().filter(|(k, _)| !TOKEN_PARAMS.contains(&k.as_str())).cloned().collect();
            let documented: BTreeMap<String, String> = e
                .example
                .query
                .as_ref()
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect())
                .unwrap_or_default();
            assert_eq!(other, documented, "{label}: query parameters");
            // A POST without parameters (and not an upload) sends an empty
            // object: WeCom reads a POST's body as JSON.
            let body = match (&e.example.request, e.method) {
                (None, HttpMethod::Post) if e.upload.is_none() => Some(serde_json::json!({})),
                (request, _) => request.clone(),
            };
            assert_eq!(sent.body, body, "{label}: request JSON");

            // The reply decoded into its type (the call succeeded); the
            // documented sample decodes and re-encodes without losing a field.
            assert!(reply.is_object(), "{label}: {reply}");
            let mut documented = e.example.response.clone();
            if let Some(map) = documented.as_object_mut() {
                map.remove("errcode");
                map.remove("errmsg");
            }
            let again = (callable.reencode_reply)(e.example.response.clone())
                .unwrap_or_else(|err| panic!("{label}: {err}"));
            assert_eq!(again, documented, "{label}: the example lost or changed a field");
            covered += 1;
        }
    }
    assert_eq!(covered, wecom_openwork::ENDPOINTS.len());
    assert_eq!(CALLABLES.len(), covered, "one callable per endpoint");
    assert!(covered >= 20, "only {covered} endpoints");
}

#[tokio::test]
async fn get_login_info_carries_the_provider_token_under_its_legacy_name() {
    use wecom_openwork::api::provider::types::GetLoginInfoRequest;
    let (emulator, app, _clock) = app_on_emulator().await;
    let provider_token = app.provider().access_token().get().await.expect("provider token");
    let request = GetLoginInfoRequest::new("CODE");
    app.provider().get_login_info_with(request).await.expect("call succeeds");
    let sent = emulator.requests().pop().expect("recorded");
    assert_eq!(sent.path, "/cgi-bin/service/get_login_info");
    assert_eq!(sent.query, vec![("access_token".to_owned(), provider_token)]);
}

#[tokio::test]
async fn get_app_qrcode_returns_the_image_when_wecom_answers_with_one() {
    use wecom_openwork::api::suite::types::GetAppQrcodeRequest;
    let (_emulator, app, _clock) = app_on_emulator().await;
    let request = GetAppQrcodeRequest::new(SUITE).state("s1").result_type(1);
    let reply = app.suite(SUITE).get_app_qrcode_with(request.clone()).await.expect("call succeeds");
    match reply {
        Payload::Binary { content_type, bytes } => {
            assert_eq!(content_type, "image/png");
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
        Payload::Json(json) => panic!("expected an image, got {json:?}"),
    }
    let reply = app.suite(SUITE).get_app_qrcode_with(request.result_type(2)).await.expect("call succeeds");
    assert!(matches!(reply, Payload::Json(ref q) if q.qrcode.is_some()), "{reply:?}");
}
