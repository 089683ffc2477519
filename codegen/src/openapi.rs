//! The specs as an OpenAPI 3.1 document: `generated/openapi.json`.
//!
//! Every endpoint becomes an operation under its path and method, every
//! definition of every file a component schema named `{group}.{Name}`. The
//! spec extensions map onto JSON Schema where it has a word for them (tagged
//! unions become `oneOf`, a flattened union an `allOf`) and stay as `x-`
//! extensions where it has none (`x-known-values`, `x-sensitive`, `x-aliases`, `x-source`).
//!
//! The text does not depend on the key order of `serde_json`'s maps (a
//! `preserve_order` feature turned on elsewhere cannot change it): objects are
//! written with their keys sorted, the document's own top-level keys in the
//! order OpenAPI documents usually have.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};

use crate::load::LoadedSpec;
use crate::spec::{
    AdditionalProperties, Endpoint, ResponseFormat, SpecSchema, TokenKind, UnionContent, Upload,
};
use crate::validate::{handle_of, resolve, Index};

/// The OpenAPI version the document declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The title the document's `info` carries.
pub const TITLE: &str = "WeCom service-provider API (wecom-openwork)";

/// The API host every path is below.
pub const SERVER: &str = "https://qyapi.weixin.qq.com";

/// The component every JSON reply is `allOf`-ed with: WeCom's `errcode` and `errmsg`.
pub const ENVELOPE: &str = "Envelope";

/// The top-level keys of the document, in the order they are written.
const TOP_LEVEL: &[&str] = &["openapi", "info", "servers", "tags", "paths", "components"];

/// The OpenAPI 3.1 document of every endpoint in `specs`, pretty-printed, with
/// a final newline. The specs should have passed [`crate::validate::check_all`];
/// a reference that does not resolve becomes an empty schema that says so.
pub fn openapi_json(specs: &[LoadedSpec]) -> String {
    let doc = document(specs);
    let mut text = match serde_json::to_string_pretty(&Ordered { value: &doc, top: true }) {
        Ok(text) => text,
        // Serializing a `Value` cannot fail (its keys are strings); keep no panic anyway.
        Err(e) => format!("{{\"error\": {}}}", Value::String(e.to_string())),
    };
    text.push('\n');
    text
}

/// The document as a JSON value.
fn document(specs: &[LoadedSpec]) -> Value {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut tags = Vec::new();
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut schemes: BTreeMap<String, Vec<TokenKind>> = BTreeMap::new();
    for kind in TOKEN_KINDS {
        if let Some(param) = kind.default_param() {
            schemes.entry(param.to_owned()).or_default().push(*kind);
        }
    }
    schemas.insert(ENVELOPE.to_owned(), envelope());
    for loaded in specs {
        let spec = &loaded.spec;
        if !spec.endpoints.is_empty() {
            tags.push(json!({ "name": spec.group, "description": spec.summary }));
        }
        for e in &spec.endpoints {
            if let Some(param) = e.token_param_name() {
                let kinds = schemes.entry(param.to_owned()).or_default();
                if !kinds.contains(&e.token) {
                    kinds.push(e.token);
                }
            }
            let item = paths.entry(e.path.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(item) = item {
                item.insert(method_key(e), operation(&index, &loaded.file, &spec.group, e));
            }
        }
        for (name, def) in &spec.definitions {
            schemas.insert(component_name(&spec.group, name), schema(&index, &loaded.file, def));
        }
    }
    let security_schemes: Map<String, Value> = schemes
        .into_iter()
        .map(|(param, kinds)| {
            let what: Vec<&str> = kinds.iter().map(|k| token_description(*k)).collect();
            let scheme = json!({
                "type": "apiKey",
                "in": "query",
                "name": param,
                "description": format!("{} Sent as `{param}` on the URL.", what.join(" Or: ")),
            });
            (param, scheme)
        })
        .collect();
    json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The WeCom (企业微信) server API as a third-party service provider calls it: \
                the endpoints the wecom-openwork SDK declares. Generated from the YAML specs in `spec/` \
                by wecom-openwork-codegen; not an official document of WeCom or Tencent. Every reply \
                carries `errcode` (0 on success) and `errmsg`; every response member is optional, as \
                WeCom omits members it has no value for.",
        },
        "servers": [{ "url": SERVER }],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": security_schemes,
        },
    })
}

/// The token kinds whose default query names always get a security scheme.
const TOKEN_KINDS: &[TokenKind] = &[TokenKind::Provider, TokenKind::Suite, TokenKind::Corp];

/// What a token of `kind` is, for a security scheme's description.
fn token_description(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Provider => "The provider access token (from the provider corpid and provider secret).",
        TokenKind::Suite => "The suite access token (from the suite secret and the latest suite ticket).",
        TokenKind::Corp => "An authorizing corp's access token (from its permanent code).",
        TokenKind::Registration => {
            "A registered corp's one-time token, from the register_corp callback or get_register_info."
        }
        TokenKind::None => "No token.",
    }
}

fn method_key(e: &Endpoint) -> String {
    e.method.as_str().to_lowercase()
}

/// The name of a definition's component schema.
pub fn component_name(group: &str, definition: &str) -> String {
    format!("{group}.{definition}")
}

fn component_ref(group: &str, definition: &str) -> String {
    format!("#/components/schemas/{}", component_name(group, definition))
}

fn envelope() -> Value {
    json!({
        "type": "object",
        "description": "What every WeCom reply carries, beside the call's own members.",
        "properties": {
            "errcode": {
                "type": "integer",
                "description": "0 on success; otherwise WeCom's error code (see the global error codes).",
            },
            "errmsg": {
                "type": "string",
                "description": "`ok` on success; otherwise what went wrong, with a hint link.",
            },
        },
    })
}

/// One operation.
fn operation(index: &Index<'_>, file: &str, group: &str, e: &Endpoint) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(format!("{group}.{}", e.name)));
    op.insert("summary".into(), json!(e.summary));
    if let Some(description) = &e.description {
        op.insert("description".into(), json!(description.trim_end()));
    }
    op.insert("externalDocs".into(), json!({ "url": e.doc }));
    op.insert("tags".into(), json!([group]));
    let parameters = parameters(index, file, e);
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = request_body(index, file, e) {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), json!({ "200": response(index, file, e) }));
    let security = match e.token_param_name() {
        Some(param) => json!([{ param: [] }]),
        None => json!([]),
    };
    op.insert("security".into(), security);
    op.insert("x-token-kind".into(), serde_json::to_value(e.token).unwrap_or(Value::Null));
    if let Some(handle) = handle_of(e) {
        op.insert("x-handle".into(), serde_json::to_value(handle).unwrap_or(Value::Null));
    }
    op.insert("x-app-kinds".into(), serde_json::to_value(e.allowed_app_kinds()).unwrap_or(Value::Null));
    op.insert("x-retry-safe".into(), json!(e.is_retry_safe()));
    Value::Object(op)
}

/// The query parameters: the properties of the `query` definition.
fn parameters(index: &Index<'_>, file: &str, e: &Endpoint) -> Vec<Value> {
    let Some(query) = &e.query else { return Vec::new() };
    let (def_file, def) = match resolve(index, file, query) {
        Some((def_file, _, def)) => (def_file, def),
        None => (file, query),
    };
    let Some(properties) = &def.properties else { return Vec::new() };
    let required = def.required.as_deref().unwrap_or_default();
    properties
        .iter()
        .map(|(name, property)| {
            let mut schema = schema(index, def_file, property);
            let description = match &mut schema {
                Value::Object(map) => map.remove("description"),
                _ => None,
            };
            let mut parameter = Map::new();
            parameter.insert("name".into(), json!(name));
            parameter.insert("in".into(), json!("query"));
            if let Some(description) = description {
                parameter.insert("description".into(), description);
            }
            parameter.insert("required".into(), json!(required.contains(name)));
            parameter.insert("schema".into(), schema);
            if let Some(example) = e.example.query.as_ref().and_then(|q| q.get(name)) {
                parameter.insert("example".into(), example.clone());
            }
            Value::Object(parameter)
        })
        .collect()
}

fn request_body(index: &Index<'_>, file: &str, e: &Endpoint) -> Option<Value> {
    if let Some(upload) = &e.upload {
        let field = json!({
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "The file, with its name in the part's Content-Disposition.",
        });
        return Some(json!({
            "required": true,
            "description": upload_description(upload),
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [upload.field],
                        "properties": { upload.field.clone(): field },
                    },
                },
            },
        }));
    }
    let request = e.request.as_ref()?;
    let mut media = Map::new();
    media.insert("schema".into(), schema(index, file, request));
    if let Some(example) = &e.example.request {
        media.insert("example".into(), example.clone());
    }
    Some(json!({ "required": true, "content": { "application/json": media } }))
}

fn upload_description(upload: &Upload) -> String {
    let mut text = format!(
        "One file in the form field `{}`: {} to {} bytes.",
        upload.field, upload.min_bytes, upload.max_bytes
    );
    if let Some(by) = &upload.limit_by {
        if !upload.limits.is_empty() {
            let limits: Vec<String> =
                upload.limits.iter().map(|(value, bytes)| format!("`{value}` {bytes}")).collect();
            text.push_str(&format!(" At most, by the query parameter `{by}`: {} bytes.", limits.join(", ")));
        }
    }
    text
}

fn response(index: &Index<'_>, file: &str, e: &Endpoint) -> Value {
    let mut json_media = Map::new();
    json_media.insert(
        "schema".into(),
        json!({ "allOf": [{ "$ref": format!("#/components/schemas/{ENVELOPE}") }, schema(index, file, &e.response)] }),
    );
    json_media.insert("example".into(), e.example.response.clone());
    let mut content = Map::new();
    content.insert("application/json".into(), Value::Object(json_media));
    let description = match e.response_format {
        ResponseFormat::Json => "The reply: `errcode` 0 and the call's members, or WeCom's error.",
        ResponseFormat::JsonOrBinary => {
            content.insert("image/png".into(), binary("image/png"));
            "The image on success; a JSON body in its place is WeCom's error."
        }
        ResponseFormat::Download => {
            content.insert("application/octet-stream".into(), binary("application/octet-stream"));
            "The file (its type and name in Content-Type and Content-Disposition); a JSON body \
             in its place is WeCom's error."
        }
    };
    json!({ "description": description, "content": content })
}

fn binary(media_type: &str) -> Value {
    json!({ "schema": { "type": "string", "contentMediaType": media_type } })
}

/// A spec schema as a JSON Schema (2020-12, OpenAPI 3.1's dialect). `file`
/// is the spec file it appears in, for its `$ref`s.
fn schema(index: &Index<'_>, file: &str, s: &SpecSchema) -> Value {
    let mut out = Map::new();
    if s.reference.is_some() {
        match resolve(index, file, s) {
            Some((def_file, name, _)) => {
                let group = index.get(def_file).map_or("", |spec| spec.group.as_str());
                out.insert("$ref".into(), json!(component_ref(group, name)));
            }
            None => {
                out.insert("x-unresolved-ref".into(), json!(s.reference.as_deref().unwrap_or_default()));
            }
        }
    }
    if let Some(title) = &s.title {
        out.insert("title".into(), json!(title));
    }
    if let Some(description) = description(s) {
        out.insert("description".into(), json!(description));
    }
    if let Some(ty) = s.ty {
        out.insert("type".into(), serde_json::to_value(ty).unwrap_or(Value::Null));
    }
    if let Some(format) = &s.format {
        out.insert("format".into(), json!(format));
    }
    if let Some(constant) = &s.constant {
        out.insert("const".into(), constant.clone());
    }
    if let Some(items) = &s.items {
        out.insert("items".into(), schema(index, file, items));
    }
    match &s.additional_properties {
        Some(AdditionalProperties::Flag(flag)) => {
            out.insert("additionalProperties".into(), json!(flag));
        }
        Some(AdditionalProperties::Schema(extra)) => {
            out.insert("additionalProperties".into(), schema(index, file, extra));
        }
        None => {}
    }
    if let Some(known) = &s.known_values {
        out.insert("x-known-values".into(), json!(known));
    }
    if let Some(aliases) = &s.aliases {
        out.insert("x-aliases".into(), json!(aliases));
    }
    if s.sensitive {
        out.insert("x-sensitive".into(), json!(true));
    }
    if let Some(source) = &s.source {
        out.insert("x-source".into(), json!(source));
    }
    if let Some(tag) = &s.tag {
        union(index, file, s, tag, &mut out);
    }
    let mut flattened = Vec::new();
    if let Some(properties) = &s.properties {
        let mut props = Map::new();
        for (name, property) in properties {
            if property.flatten {
                flattened.push((
                    name.as_str(),
                    schema(
                        index,
                        file,
                        &SpecSchema { description: None, flatten: false, ..property.clone() },
                    ),
                ));
            } else {
                props.insert(name.clone(), schema(index, file, property));
            }
        }
        out.insert("properties".into(), Value::Object(props));
    }
    if let Some(required) = &s.required {
        let kept: Vec<&String> =
            required.iter().filter(|r| !flattened.iter().any(|(name, _)| name == r)).collect();
        if !kept.is_empty() {
            out.insert("required".into(), json!(kept));
        }
    }
    if flattened.is_empty() {
        return Value::Object(out);
    }
    // The union's members sit in this object: the object without the
    // flattened properties, and each flattened union.
    let mut outer = Map::new();
    for key in ["title", "description"] {
        if let Some(value) = out.remove(key) {
            outer.insert(key.into(), value);
        }
    }
    let mut all_of = vec![Value::Object(out)];
    all_of.extend(flattened.into_iter().map(|(_, union)| union));
    outer.insert("allOf".into(), Value::Array(all_of));
    Value::Object(outer)
}

/// The description, with the documented values listed after it.
fn description(s: &SpecSchema) -> Option<String> {
    let known = s.known_values.as_ref().filter(|k| !k.is_empty());
    let Some(known) = known else { return s.description.as_ref().map(|d| d.trim_end().to_owned()) };
    let mut text = s.description.as_deref().map(str::trim_end).unwrap_or_default().to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str("Known values (WeCom may add others):");
    for (value, meaning) in known {
        text.push_str(&format!("\n- `{value}`: {meaning}"));
    }
    Some(text)
}

/// A tagged union (`x-tag`): `oneOf` its variants, each pinned to its tag value.
fn union(index: &Index<'_>, file: &str, s: &SpecSchema, tag: &str, out: &mut Map<String, Value>) {
    out.insert("x-tag".into(), json!(tag));
    let content = s.content.unwrap_or(UnionContent::Keyed);
    out.insert("x-content".into(), serde_json::to_value(content).unwrap_or(Value::Null));
    let variants = s.variants.iter().flatten();
    let one_of: Vec<Value> = variants
        .map(|(value, variant)| {
            let target = schema(index, file, &SpecSchema { description: None, ..variant.clone() });
            let mut branch = match content {
                UnionContent::Inline => json!({
                    "allOf": [
                        target,
                        {
                            "type": "object",
                            "properties": { tag: { "const": value } },
                            "required": [tag],
                        },
                    ],
                }),
                UnionContent::Keyed => json!({
                    "type": "object",
                    "properties": { tag: { "const": value }, value.clone(): target },
                    "required": [tag, value],
                }),
            };
            if let (Some(description), Value::Object(branch)) = (&variant.description, &mut branch) {
                branch.insert("description".into(), json!(description.trim_end()));
            }
            branch
        })
        .collect();
    out.insert("oneOf".into(), Value::Array(one_of));
    if content == UnionContent::Inline {
        out.insert("discriminator".into(), json!({ "propertyName": tag }));
    }
}

/// Writes a value with every object's keys sorted, except the document's
/// top level, whose keys come in [`TOP_LEVEL`] order.
struct Ordered<'a> {
    value: &'a Value,
    top: bool,
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                if self.top {
                    let rank =
                        |key: &str| TOP_LEVEL.iter().position(|k| *k == key).unwrap_or(TOP_LEVEL.len());
                    entries.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
                } else {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &Ordered { value, top: false })?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    out.serialize_element(&Ordered { value, top: false })?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}
