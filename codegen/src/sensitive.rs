//! The sensitive values of an endpoint's example, for tests that show no
//! `Debug` of a generated type prints them; and which names carry a secret
//! ([`is_secret_name`]), for the `Debug` of the generated events.

use serde_json::Value;

use crate::load::LoadedSpec;
use crate::spec::{AdditionalProperties, Endpoint, SpecSchema};
use crate::validate::{resolve, Index};

/// Names that end like a secret's but are not: a result code, a menu key.
const NOT_SECRET_NAMES: &[&str] = &["errcode", "eventkey"];

/// Names that are a secret's whole name.
const SECRET_NAMES: &[&str] =
    &["code", "key", "authcode", "permanentcode", "preauthcode", "aeskey", "encodingaeskey"];

/// Endings that make a secret's name, written together or apart.
const SECRET_ENDINGS: &[&str] = &["token", "secret", "ticket", "password", "passwd"];

/// Endings that make a secret's name only as a word of their own.
const SECRET_WORDS: &[(&str, &str)] = &[("code", "Code"), ("key", "Key")];

/// Whether an element, key or parameter name names a secret: a token,
/// ticket, secret, password, code or key (`AccessToken`, `SuiteTicket`,
/// `AuthCode`, `ActiveCode`, `permanent_code`, `aes_key`, …); `ErrCode` and
/// `EventKey` are not secrets. A generated event type shows such a field as
/// `<redacted>` in `Debug`, as it does a `sensitive` one.
///
/// A copy of the library's rule (`is_secret_name` in its `src/secret.rs`,
/// crate-private there): this crate cannot depend on the library it
/// generates for. A test of the library checks that the two agree.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let joined: String = lower.chars().filter(|c| !matches!(c, '_' | '-')).collect();
    if NOT_SECRET_NAMES.contains(&joined.as_str()) {
        return false;
    }
    SECRET_NAMES.contains(&joined.as_str())
        || SECRET_ENDINGS.iter().any(|ending| joined.ends_with(ending))
        || SECRET_WORDS.iter().any(|(word, capitalized)| {
            name.ends_with(capitalized)
                || lower.strip_suffix(word).is_some_and(|rest| rest.ends_with(['_', '-']))
        })
}

/// An endpoint's example with every `x-sensitive` value replaced by a
/// marker no other value contains.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedExample {
    /// The example query.
    pub query: Option<Value>,
    /// The example request body.
    pub request: Option<Value>,
    /// The example response.
    pub response: Value,
    /// The markers, one per sensitive value.
    pub markers: Vec<String>,
}

/// Marks the sensitive values in the example of `endpoint` (of spec `file`).
pub fn mark_example(specs: &[LoadedSpec], file: &str, endpoint: &Endpoint) -> MarkedExample {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut markers = Vec::new();
    let mut mark = |schema: &Option<SpecSchema>, value: &Option<Value>| {
        let mut value = value.clone();
        if let (Some(schema), Some(v)) = (schema, value.as_mut()) {
            walk(&index, file, schema, v, &mut markers);
        }
        value
    };
    let query = mark(&endpoint.query, &endpoint.example.query);
    let request = mark(&endpoint.request, &endpoint.example.request);
    let response =
        mark(&Some(endpoint.response.clone()), &Some(endpoint.example.response.clone())).unwrap_or_default();
    MarkedExample { query, request, response, markers }
}

fn walk(index: &Index<'_>, file: &str, schema: &SpecSchema, value: &mut Value, markers: &mut Vec<String>) {
    if schema.reference.is_some() {
        if let Some((owner, _, def)) = resolve(index, file, schema) {
            walk(index, owner, def, value, markers);
        }
        return;
    }
    match value {
        Value::String(text) if schema.sensitive => {
            let marker = format!("sensitive-value-{}", markers.len() + 1);
            *text = marker.clone();
            markers.push(marker);
        }
        Value::Array(items) => {
            if let Some(item) = &schema.items {
                for v in items {
                    walk(index, file, item, v, markers);
                }
            }
        }
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match schema.properties.as_ref().and_then(|p| p.get(key)) {
                    Some(prop) => walk(index, file, prop, v, markers),
                    None => {
                        if let Some(AdditionalProperties::Schema(extra)) = &schema.additional_properties {
                            walk(index, file, extra, v, markers);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
