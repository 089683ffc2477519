//! Every spec'd endpoint, called through its typed method against the
//! emulator: the HTTP method, the path, exactly one token parameter with the
//! right name (none for token-less calls), the documented request JSON; and
//! the documented reply decodes into its type and re-encodes without losing
//! a field. Driven by the specs, so a new endpoint is covered with no new test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use wecom_openwork::emulator::Emulator;
use wecom_openwork::{Client, Payload, StaticTokens};
use wecom_openwork_codegen::spec::{HttpMethod, TokenKind};

include!(concat!(env!("OUT_DIR"), "/conformance.rs"));

const SUITE: &str = "wwsuite0001";
const CORP: &str = "wwcorp0001";
const TOKEN_PARAMS: [&str; 3] = [
    "provider_access_token",
    "suite_access_token",
    "access_token",
];

fn client(emulator: &Emulator) -> Client {
    let tokens = StaticTokens::new()
        .provider("PROVIDER-TOKEN")
        .suite(SUITE, "SUITE-TOKEN")
        .corp(SUITE, CORP, "CORP-TOKEN");
    Client::new(emulator.base_uri(), tokens).expect("valid client")
}

/// The token a call of this kind must carry: (query name, value).
fn expected_token(kind: TokenKind, override_name: Option<&str>) -> Option<(String, String)> {
    let (name, value) = match kind {
        TokenKind::Provider => ("provider_access_token", "PROVIDER-TOKEN"),
        TokenKind::Suite => ("suite_access_token", "SUITE-TOKEN"),
        TokenKind::Corp => ("access_token", "CORP-TOKEN"),
        TokenKind::None => return None,
    };
    Some((override_name.unwrap_or(name).to_owned(), value.to_owned()))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_endpoint_sends_what_its_spec_documents_and_decodes_its_example() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let client = client(&emulator);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = wecom_openwork_codegen::load_and_check(&root.join("spec")).expect("valid specs");
    let mut covered = 0;
    for loaded in &specs {
        for e in &loaded.spec.endpoints {
            let label = format!("{}.{}", loaded.spec.group, e.name);
            emulator.clear_requests();
            let reply = call_typed(
                &client,
                SUITE,
                CORP,
                &loaded.spec.group,
                &e.name,
                e.example.query.clone(),
                e.example.request.clone(),
            )
            .await
            .unwrap_or_else(|err| panic!("{label}: {err}"));

            let requests = emulator.requests();
            assert_eq!(requests.len(), 1, "{label}: one request");
            let sent = &requests[0];
            let method = match e.method {
                HttpMethod::Get => "GET",
                HttpMethod::Post => "POST",
            };
            assert_eq!(sent.method, method, "{label}: HTTP method");
            assert_eq!(sent.path, e.path, "{label}: path");

            let tokens: Vec<(String, String)> = sent
                .query
                .iter()
                .filter(|(k, _)| TOKEN_PARAMS.contains(&k.as_str()))
                .cloned()
                .collect();
            let expected: Vec<(String, String)> = expected_token(e.token, e.token_param.as_deref())
                .into_iter()
                .collect();
            assert_eq!(tokens, expected, "{label}: token parameters");

            let other: BTreeMap<String, String> = sent
                .query
                .iter()
                .filter(|(k, _)| !TOKEN_PARAMS.contains(&k.as_str()))
                .cloned()
                .collect();
            let documented: BTreeMap<String, String> = e
                .example
                .query
                .as_ref()
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect())
                .unwrap_or_default();
            assert_eq!(other, documented, "{label}: query parameters");
            assert_eq!(sent.body, e.example.request, "{label}: request JSON");

            let mut documented_reply = e.example.response.clone();
            if let Some(map) = documented_reply.as_object_mut() {
                map.remove("errcode");
                map.remove("errmsg");
            }
            assert_eq!(
                reply, documented_reply,
                "{label}: the reply lost or changed a field"
            );
            covered += 1;
        }
    }
    assert_eq!(covered, wecom_openwork::ENDPOINTS.len());
    assert!(covered >= 20, "only {covered} endpoints");
}

#[tokio::test]
async fn get_login_info_carries_the_provider_token_under_its_legacy_name() {
    use wecom_openwork::api::provider::types::GetLoginInfoRequest;
    let emulator = Emulator::start().await.expect("emulator starts");
    client(&emulator)
        .provider()
        .get_login_info(&GetLoginInfoRequest {
            auth_code: "CODE".into(),
        })
        .await
        .expect("call succeeds");
    let sent = &emulator.requests()[0];
    assert_eq!(
        sent.query,
        vec![("access_token".to_owned(), "PROVIDER-TOKEN".to_owned())]
    );
}

#[tokio::test]
async fn get_app_qrcode_returns_the_image_when_wecom_answers_with_one() {
    use wecom_openwork::api::suite::types::GetAppQrcodeRequest;
    let emulator = Emulator::start().await.expect("emulator starts");
    let request = GetAppQrcodeRequest {
        suite_id: SUITE.into(),
        appid: None,
        state: Some("s1".into()),
        style: None,
        result_type: Some(1),
    };
    let reply = client(&emulator)
        .suite(SUITE)
        .get_app_qrcode(&request)
        .await
        .expect("call succeeds");
    match reply {
        Payload::Binary {
            content_type,
            bytes,
        } => {
            assert_eq!(content_type, "image/png");
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
        Payload::Json(json) => panic!("expected an image, got {json:?}"),
    }
    let reply = client(&emulator)
        .suite(SUITE)
        .get_app_qrcode(&GetAppQrcodeRequest {
            result_type: Some(2),
            ..request
        })
        .await
        .expect("call succeeds");
    assert!(
        matches!(reply, Payload::Json(ref q) if q.qrcode.is_some()),
        "{reply:?}"
    );
}
