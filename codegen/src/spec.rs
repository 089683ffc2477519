//! The spec format: what one `spec/<group>.yaml` file says.
//!
//! These types are the single source of the format. `spec/schema.json` is made
//! from them with schemars, and the loader deserializes into them, so the file
//! editors validate against and the file the generator accepts cannot drift.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One API group: a YAML file under `spec/`, a module under `wecom_openwork::api`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// Module name of the group (snake_case), e.g. `authorization`.
    pub group: String,
    /// One line about the group; becomes the module's doc comment.
    pub summary: String,
    /// Name of the method that hands out the group's calls on each handle
    /// (`suite.oauth().get_user_info_3rd(..)`); defaults to the group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessor: Option<String>,
    /// Put the methods directly on the handles (`suite.get_pre_auth_code()`),
    /// without an accessor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flat: bool,
    /// Compiled into every build: the ISV core the runtime itself calls
    /// (tokens, authorization, OAuth, JS-SDK tickets). Every other group is
    /// behind the cargo feature named after it, so a build carries only the
    /// groups it asks for. A core group may `$ref` only core groups.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub core: bool,
    /// The group's endpoints, in the order their methods are documented. A
    /// file without endpoints only holds shapes other files `$ref`.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Named JSON Schemas, referenced as `#/definitions/Name` (from this
    /// file) or `file.yaml#/definitions/Name` (from other files).
    #[serde(default)]
    pub definitions: BTreeMap<String, SpecSchema>,
}

impl SpecFile {
    /// The name of the method that hands out the group's calls.
    pub fn accessor_name(&self) -> &str {
        self.accessor.as_deref().unwrap_or(&self.group)
    }
}

/// One WeCom API call and the typed method generated for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Method name (snake_case); unique on its handle across all groups.
    pub name: String,
    /// One line: what the call does, with the official Chinese title.
    pub summary: String,
    /// Further paragraphs for the method's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URL of the official documentation page.
    pub doc: String,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path below the API host, starting with `/`.
    pub path: String,
    /// The one access token the URL carries.
    pub token: TokenKind,
    /// The handle the method hangs on; defaults to the token kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<HandleKind>,
    /// Overrides the token's URL query name (e.g. the legacy `access_token`
    /// that `get_login_info` uses for the provider token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_param: Option<String>,
    /// URL query parameters: a `$ref` to an object definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<SpecSchema>,
    /// JSON request body: a `$ref` to an object definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<SpecSchema>,
    /// JSON response: a `$ref` to an object definition.
    pub response: SpecSchema,
    /// What the response body can be.
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// Older paths WeCom still answers for this endpoint (e.g.
    /// `/cgi-bin/service/getuserinfo3rd`). The client never uses them; the
    /// emulator routes them to this endpoint, for clients that do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legacy_paths: Vec<String>,
    /// Whether a cursor-paged list (an optional `cursor` in, a `next_cursor`
    /// out) also gets a `{name}_pages` stream. Default: yes; say `false` when
    /// a page cannot simply repeat the first request with a new cursor (a
    /// signed body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<bool>,
    /// A POST whose body is one file, sent as `multipart/form-data` (no
    /// `request`): the form field and the sizes WeCom accepts. The method
    /// takes a `crate::UploadFile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
    /// Whether sending the request twice is harmless, so the runtime may
    /// retry it after an uncertain failure (a timeout, a 5xx, errcode -1).
    /// Defaults to `true` for GET and `false` for POST: a POST that consumes a
    /// one-time code (e.g. `get_permanent_code`) must never be repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_safe: Option<bool>,
    /// The kinds of app that may make the call, e.g. `[third_party]` for
    /// `getuserinfo3rd`, which 代开发 apps may not call. Defaults to both.
    /// The runtime refuses a call through a suite of another kind before
    /// sending it. Only for endpoints on the suite or corp handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_kinds: Option<Vec<AppKind>>,
    /// The documented sample, checked against the schemas.
    pub example: Example,
}

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HttpMethod {
    /// `GET`: parameters in the query string only.
    #[serde(rename = "GET")]
    Get,
    /// `POST`: a JSON body.
    #[serde(rename = "POST")]
    Post,
}

impl HttpMethod {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// Which access token an endpoint's URL carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `provider_access_token`, from the provider corpid and provider secret.
    Provider,
    /// `suite_access_token`, from the suite secret and suite ticket.
    Suite,
    /// `access_token` of an authorizing corp, from its permanent code.
    Corp,
    /// The one-time `access_token` of a corp registered through the
    /// provider's registration link (推广二维码), handed over by the
    /// `register_corp` callback and `get_register_info`: the caller passes it.
    Registration,
    /// No token: the call that obtains one.
    None,
}

/// A kind of app a suite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// A third-party app (第三方应用).
    ThirdParty,
    /// A 代开发 app, made from a template for one corp.
    Customized,
}

impl AppKind {
    /// Every kind, in order.
    pub const ALL: [AppKind; 2] = [AppKind::ThirdParty, AppKind::Customized];
}

impl Endpoint {
    /// Whether its method returns a `Call` to await, made from the required
    /// fields of its one input (a query or a body) or from none, with a
    /// `{name}_with` twin taking the input whole. Uploads, calls with a
    /// registration token, and calls with both a query and a body take their
    /// inputs by reference and are `async`.
    pub fn returns_call(&self) -> bool {
        self.upload.is_none()
            && self.token != TokenKind::Registration
            && !(self.query.is_some() && self.request.is_some())
    }

    /// The URL query name of the endpoint's token ([`Endpoint::token_param`]
    /// or the kind's default); `None` when it takes none.
    pub fn token_param_name(&self) -> Option<&str> {
        self.token_param.as_deref().or(self.token.default_param())
    }

    /// [`Endpoint::retry_safe`] with its default applied.
    pub fn is_retry_safe(&self) -> bool {
        self.retry_safe.unwrap_or(self.method == HttpMethod::Get)
    }

    /// [`Endpoint::app_kinds`] with its default (every kind) applied, sorted.
    pub fn allowed_app_kinds(&self) -> Vec<AppKind> {
        let mut kinds = self.app_kinds.clone().unwrap_or_else(|| AppKind::ALL.to_vec());
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Whether an app of `kind` may make the call.
    pub fn allows(&self, kind: AppKind) -> bool {
        self.app_kinds.as_ref().is_none_or(|kinds| kinds.contains(&kind))
    }
}

impl TokenKind {
    /// The URL query name WeCom expects for this token, if any.
    pub fn default_param(self) -> Option<&'static str> {
        match self {
            TokenKind::Provider => Some("provider_access_token"),
            TokenKind::Suite => Some("suite_access_token"),
            TokenKind::Corp | TokenKind::Registration => Some("access_token"),
            TokenKind::None => None,
        }
    }
}

/// The handle a generated method hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandleKind {
    /// `wecom_openwork::Provider`.
    Provider,
    /// `wecom_openwork::Suite`.
    Suite,
    /// `wecom_openwork::Corp`.
    Corp,
}

impl HandleKind {
    /// Whether this handle has what it takes to obtain a token of `token` kind.
    pub fn can_carry(self, token: TokenKind) -> bool {
        matches!(
            (self, token),
            (_, TokenKind::None)
                | (HandleKind::Provider, TokenKind::Provider | TokenKind::Registration)
                | (HandleKind::Suite, TokenKind::Suite)
                | (HandleKind::Corp, TokenKind::Corp | TokenKind::Suite)
        )
    }
}

/// What an endpoint's response body can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Always JSON.
    #[default]
    Json,
    /// Binary content (an image, a file) on success, JSON otherwise.
    JsonOrBinary,
    /// A file, streamed to the caller as it arrives (`crate::Download`);
    /// a JSON body in its place is WeCom's error. `response` then describes
    /// that JSON body.
    Download,
}

/// How an upload endpoint takes its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The form-data field WeCom reads the file from, e.g. `media`.
    pub field: String,
    /// The smallest file WeCom accepts, in bytes.
    #[serde(default)]
    pub min_bytes: u64,
    /// The largest file WeCom accepts, in bytes, whatever its kind.
    pub max_bytes: u64,
    /// A query parameter whose value picks a smaller limit from `limits`
    /// (e.g. `type`: an image may be smaller than a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_by: Option<String>,
    /// Limits by the value of `limit_by`, in bytes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, u64>,
}

/// The documented sample of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// Sample query parameters (required when the endpoint has `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Sample request body (required when the endpoint has `request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// Sample JSON response, as documented (may include `errcode`/`errmsg`).
    pub response: Value,
}

/// The JSON Schema subset specs use.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecSchema {
    /// Reference to a definition: `#/definitions/Name` in the same file, or
    /// `other.yaml#/definitions/Name` in another spec file (a path relative
    /// to this file).
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// JSON type of the value.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<JsonType>,
    /// Overrides the Rust type name of an inline object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the value means; becomes the doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema format hint, e.g. `int64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The one value the protocol allows for this property (a string or an
    /// integer of its `type`), e.g. `type: agent_config`: `new` fills it in,
    /// so callers never pass it and have no setter for it.
    #[serde(rename = "const", default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<Value>,
    /// Object members, in the order the generated fields keep (required
    /// ones first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<IndexMap<String, SpecSchema>>,
    /// Members a request must carry (not allowed in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    /// Element schema of an array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<SpecSchema>>,
    /// Schema of members not listed in `properties` (a map), or `false`.
    #[serde(rename = "additionalProperties", default, skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<AdditionalProperties>,
    /// Documented values and their meaning. Not a closed set: WeCom adds
    /// values, and any other value still decodes.
    #[serde(rename = "x-known-values", default, skip_serializing_if = "Option::is_none")]
    pub known_values: Option<BTreeMap<String, String>>,
    /// Other spellings of this property's key accepted when decoding.
    #[serde(rename = "x-aliases", default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// Where this schema's facts come from when the official page does not
    /// confirm them (its stored copy stops early; the official sample quoted
    /// elsewhere; a peer's fixture). It goes into the docs, so a user sees
    /// how sure the field is, and `grep x-source` counts what is unconfirmed.
    #[serde(rename = "x-source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A secret or credential (a token, a ticket, a code): sent and decoded
    /// as usual, but `Debug` prints `<redacted>` in its place.
    #[serde(rename = "x-sensitive", default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Makes a definition a tagged union (a Rust enum, one variant per kind):
    /// the member whose value names the variant, e.g. `msgtype`. Needs
    /// `x-content` and `x-variants`, and takes no `type` or `properties`.
    #[serde(rename = "x-tag", default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Where a union's variant content sits: under a key named after the tag
    /// value (`keyed`), or beside the tag (`inline`).
    #[serde(rename = "x-content", default, skip_serializing_if = "Option::is_none")]
    pub content: Option<UnionContent>,
    /// A union's variants: tag value → `$ref` to the object definition (in
    /// this file) of its content, with a description.
    #[serde(rename = "x-variants", default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<IndexMap<String, SpecSchema>>,
    /// On a required property that `$ref`s a union: its members sit in the
    /// parent object itself (`serde(flatten)`), not under the property's key.
    #[serde(rename = "x-flatten", default, skip_serializing_if = "std::ops::Not::not")]
    pub flatten: bool,
}

/// Where the content of a union's variant sits in the JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnionContent {
    /// Under a key named after the tag value: `{"msgtype": "text", "text": {...}}`.
    Keyed,
    /// Beside the tag: `{"card_type": "text_notice", "main_title": {...}}`.
    Inline,
}

/// `additionalProperties`: a flag or a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AdditionalProperties {
    /// `false` forbids other members; `true` allows any.
    Flag(bool),
    /// The schema other members follow.
    Schema(Box<SpecSchema>),
}

/// JSON value types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list.
    Array,
    /// A map of named members.
    Object,
}

impl SpecSchema {
    /// The definition name of a `#/definitions/Name` reference (same file).
    pub fn ref_name(&self) -> Option<&str> {
        self.reference.as_deref().and_then(|r| r.strip_prefix("#/definitions/"))
    }

    /// Whether this is a tagged union (`x-tag`).
    pub fn is_union(&self) -> bool {
        self.tag.is_some()
    }

    /// The id newtype a string property (or a list of them) is made of, by
    /// its `format` (see [`ID_FORMATS`]).
    pub fn id_type(&self) -> Option<&'static str> {
        let format = match self.ty {
            Some(JsonType::Array) => self.items.as_ref()?.format.as_deref(),
            _ => self.format.as_deref(),
        };
        ID_FORMATS.iter().find(|(f, _)| Some(*f) == format).map(|(_, ty)| *ty)
    }

    /// The target of a `$ref`: the file (`None` for this file) and the
    /// definition name; `None` when there is no `$ref` or it has neither form.
    pub fn ref_target(&self) -> Option<(Option<&str>, &str)> {
        let reference = self.reference.as_deref()?;
        let (file, name) = reference.split_once("#/definitions/")?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        Some(((!file.is_empty()).then_some(file), name))
    }
}

/// The string formats that become id newtypes of the runtime:
/// `open_corpid` → `OpenCorpId`, `open_userid` → `OpenUserId`.
pub const ID_FORMATS: &[(&str, &str)] = &[("open_corpid", "OpenCorpId"), ("open_userid", "OpenUserId")];

/// The spec file a cross-file `$ref` names, relative to the spec directory:
/// `target` is relative to the directory of `from` (`../common.yaml`).
pub fn resolve_file(from: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The JSON Schema of the spec format, as written to `spec/schema.json`.
pub fn format_schema_json() -> String {
    let schema = schemars::schema_for!(SpecFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

/// The JSON Schema of `events.yaml`, as written to `spec/events.schema.json`.
pub fn events_schema_json() -> String {
    let schema = schemars::schema_for!(crate::events_spec::EventsSpec);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}
