//! `generated/openapi.json`, the OpenAPI 3.1 document of the specs:
//!
//! - an independent validator (PyPI's `openapi-spec-validator`) accepts it,
//!   and every example in it matches its schema (`openapi-schema-validator`,
//!   tests/interop/openapi_examples.py), as do the official message samples;
//! - every compiled endpoint is in it, under its path and method, with its
//!   token as the security scheme, and every `$ref` resolves;
//! - the library's [`wecom_openwork::OPENAPI_JSON`] and the CLI's
//!   `wecom-openwork openapi` are the committed file.
//!
//! The validator must be installed first: `bash tests/interop/setup.sh`
//! (idempotent). A missing validator fails the tests with that instruction;
//! nothing is skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use wecom_openwork::{ResponseFormat, TokenKind};

const OPENAPI_SPEC_VALIDATOR_VERSION: &str = "0.9.0"; // also in tests/interop/setup.sh
const SETUP: &str = "run `bash tests/interop/setup.sh` first (it installs openapi-spec-validator)";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_text() -> String {
    std::fs::read_to_string(root().join("generated/openapi.json")).expect("generated/openapi.json exists")
}

fn document() -> Value {
    serde_json::from_str(&committed_text()).expect("generated/openapi.json is JSON")
}

/// Checks once that the validator is installed, and fails with the way to
/// install it otherwise.
fn require_validator() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let probe = "import openapi_spec_validator, openapi_schema_validator, importlib.metadata as m; \
                     print(m.version('openapi-spec-validator'))";
        match Command::new("python3").args(["-c", probe]).output() {
            Ok(out) if out.status.success() => {
                let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if version == OPENAPI_SPEC_VALIDATOR_VERSION {
                    Ok(())
                } else {
                    Err(format!(
                        "openapi-spec-validator {OPENAPI_SPEC_VALIDATOR_VERSION} expected, found {version}; {SETUP}"
                    ))
                }
            }
            Ok(out) => Err(format!(
                "openapi-spec-validator missing ({}); {SETUP}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("python3 missing ({e}); {SETUP}")),
        }
    });
    if let Err(message) = ready {
        panic!("{message}");
    }
}

/// The first `limit` characters of a tool's output (the validator quotes the
/// whole document in some messages).
fn show(bytes: &[u8], limit: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(limit).collect()
}

#[test]
fn openapi_spec_validator_accepts_the_document() {
    require_validator();
    let path = root().join("generated/openapi.json");
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with(": OK"),
        "openapi-spec-validator refuses generated/openapi.json ({}):\n{}\n{}",
        out.status,
        show(&out.stdout, 4000),
        show(&out.stderr, 4000)
    );
}

#[test]
fn the_validator_refuses_a_broken_document() {
    require_validator();
    // The same document with a dangling reference: the validator must notice,
    // or its verdict above means nothing.
    let mut doc = document();
    doc["components"]["schemas"].as_object_mut().expect("schemas").remove("common.EmptyReply");
    let dir = std::env::temp_dir().join(format!("wecom-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, serde_json::to_string(&doc).expect("serializes")).expect("written");
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&broken)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "a dangling $ref passes: {}", show(&out.stdout, 2000));
}

#[test]
fn every_example_and_message_sample_matches_its_schema() {
    require_validator();
    let out = Command::new("python3")
        .arg(root().join("tests/interop/openapi_examples.py"))
        .arg(root().join("generated/openapi.json"))
        .arg(root().join("tests/vectors/messages"))
        .env("PYTHONUTF8", "1")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{}", show(&out.stdout, 8000), show(&out.stderr, 4000));
    // "N examples match; M message samples match; K mis-tagged refused"
    let counts: Vec<usize> = stdout.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert_eq!(counts.len(), 3, "{stdout}");
    assert!(counts[0] >= wecom_openwork::ENDPOINTS.len(), "only {} examples: {stdout}", counts[0]);
    assert!(counts[1] >= 15 && counts[2] >= 2 * counts[1], "{stdout}");
}

fn operation<'a>(doc: &'a Value, e: &wecom_openwork::Endpoint) -> &'a Value {
    let op = &doc["paths"][e.path][e.method.as_str().to_lowercase()];
    assert!(op.is_object(), "{}.{}: no {} {} in the document", e.group, e.name, e.method, e.path);
    op
}

#[test]
fn every_endpoint_is_an_operation_with_its_token() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    for default in ["provider_access_token", "suite_access_token", "access_token"] {
        assert_eq!(schemes[default]["type"], "apiKey", "{default}");
        assert_eq!(schemes[default]["in"], "query", "{default}");
        assert_eq!(schemes[default]["name"], default);
    }
    let mut operations = 0;
    for item in doc["paths"].as_object().expect("paths") {
        operations += item.1.as_object().expect("a path item").len();
    }
    assert_eq!(operations, wecom_openwork::ENDPOINTS.len(), "one operation per endpoint");
    for e in wecom_openwork::ENDPOINTS {
        let label = format!("{}.{}", e.group, e.name);
        let op = operation(&doc, e);
        assert_eq!(op["operationId"], label.as_str());
        assert_eq!(op["summary"], e.summary, "{label}");
        assert_eq!(op["externalDocs"]["url"], e.doc, "{label}");
        assert_eq!(op["tags"], serde_json::json!([e.group]), "{label}");
        assert_eq!(op["x-retry-safe"], e.retry_safe, "{label}");
        let mut kinds: Vec<&str> = e.app_kinds.iter().map(|k| k.as_str()).collect();
        kinds.sort_unstable();
        let mut listed: Vec<&str> = op["x-app-kinds"]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: x-app-kinds"))
            .iter()
            .map(|k| k.as_str().unwrap_or_default())
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, kinds, "{label}: x-app-kinds");
        let security = op["security"].as_array().unwrap_or_else(|| panic!("{label}: security"));
        match (e.token, e.token_param) {
            (TokenKind::None, _) | (_, None) => assert!(security.is_empty(), "{label}: {security:?}"),
            (_, Some(param)) => {
                assert_eq!(security, &[serde_json::json!({ param: [] })], "{label}");
                assert_eq!(schemes[param]["name"], param, "{label}: scheme {param}");
            }
        }
        let sample = wecom_openwork::emulator::sample(e);
        let example: Value = serde_json::from_str(sample.example_response).expect("JSON");
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["example"], example,
            "{label}: reply example"
        );
        for required in sample.required {
            let in_query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == *required && p["required"] == true));
            let body = &op["requestBody"]["content"];
            assert!(
                in_query || body.is_object(),
                "{label}: required `{required}` is neither a required query parameter nor in a body"
            );
        }
    }
    let login = wecom_openwork::ENDPOINTS.iter().find(|e| e.name == "get_login_info").expect("spec'd");
    assert_eq!(operation(&doc, login)["security"], serde_json::json!([{ "access_token": [] }]));
    let suite_token = wecom_openwork::ENDPOINTS.iter().find(|e| e.name == "get_suite_token").expect("spec'd");
    assert_eq!(operation(&doc, suite_token)["security"], serde_json::json!([]));
}

#[test]
fn uploads_are_multipart_and_downloads_binary() {
    let doc = document();
    let mut uploads = 0;
    for e in wecom_openwork::ENDPOINTS {
        let op = operation(&doc, e);
        let content = &op["requestBody"]["content"];
        match &e.upload {
            Some(rule) => {
                uploads += 1;
                let form = &content["multipart/form-data"]["schema"];
                assert_eq!(form["required"], serde_json::json!([rule.field]), "{}", e.name);
                let field = &form["properties"][rule.field];
                assert_eq!(field["type"], "string", "{}", e.name);
                assert_eq!(field["contentMediaType"], "application/octet-stream", "{}", e.name);
                let described = op["requestBody"]["description"].as_str().unwrap_or_default();
                assert!(described.contains(&rule.max_bytes.to_string()), "{}: {described}", e.name);
                assert!(content.get("application/json").is_none(), "{}", e.name);
            }
            None => assert!(content.get("multipart/form-data").is_none(), "{}", e.name),
        }
        let reply = &op["responses"]["200"]["content"];
        let binary = match e.response_format {
            ResponseFormat::Download => Some("application/octet-stream"),
            ResponseFormat::JsonOrBinary => Some("image/png"),
            ResponseFormat::Json => None,
        };
        if let Some(media) = binary {
            assert_eq!(reply[media]["schema"]["type"], "string", "{}: {media}", e.name);
        }
        assert!(reply["application/json"]["schema"]["allOf"][0]["$ref"] == "#/components/schemas/Envelope");
    }
    assert!(uploads >= 3, "only {uploads} uploads");
    let get =
        wecom_openwork::ENDPOINTS.iter().find(|e| e.group == "media" && e.name == "get").expect("media.get");
    let reply = &operation(&doc, get)["responses"]["200"]["content"];
    assert!(reply["application/octet-stream"].is_object(), "{reply}");
    assert!(reply["application/json"].is_object(), "media.get: WeCom's JSON error: {reply}");
    let upload = wecom_openwork::ENDPOINTS
        .iter()
        .find(|e| e.group == "media" && e.name == "upload")
        .expect("media.upload");
    assert!(operation(&doc, upload)["requestBody"]["content"]["multipart/form-data"].is_object());
}

/// Every `$ref` in the document names a component that exists.
#[test]
fn every_reference_resolves() {
    fn walk<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let doc = document();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 500, "only {} references", refs.len());
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "$ref {r} names no component");
    }
    assert!(!committed_text().contains("x-unresolved-ref"));
    // A cross-file `$ref` names the owner's component; tagged unions are `oneOf`.
    assert!(schemas.contains_key("common.EmptyReply"));
    let card = &schemas["message.TemplateCard"];
    assert_eq!(card["discriminator"]["propertyName"], "card_type");
    assert_eq!(card["oneOf"][0]["allOf"][1]["properties"]["card_type"]["const"], "text_notice");
    let send = &schemas["message.SendMessageRequest"];
    assert_eq!(send["allOf"][1]["$ref"], "#/components/schemas/message.AppMessage");
    assert!(send["allOf"][0]["properties"].get("message").is_none(), "the flattened member is gone");
}

#[test]
fn the_library_embeds_the_committed_document() {
    assert!(
        wecom_openwork::OPENAPI_JSON == committed_text(),
        "OPENAPI_JSON differs from generated/openapi.json"
    );
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_prints_the_committed_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-openwork")).arg("openapi").output().expect("runs");
    assert!(out.status.success(), "{}", show(&out.stderr, 2000));
    assert!(
        out.stdout == committed_text().as_bytes(),
        "`wecom-openwork openapi` differs from generated/openapi.json"
    );
}
