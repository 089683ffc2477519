//! The rules a spec must follow beyond its shape: names, tokens, references,
//! documentation, forward-compatible responses, and examples that match.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::{
    AdditionalProperties, Endpoint, HandleKind, HttpMethod, JsonType, SpecFile, SpecSchema, TokenKind,
};

/// Keys of the response envelope; the runtime consumes them.
pub const ENVELOPE_KEYS: &[&str] = &["errcode", "errmsg"];

/// Checks every file, then the rules that span files (unique groups, unique
/// method names per handle).
pub fn check_all(specs: &[LoadedSpec]) -> Result<(), SpecError> {
    let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
    let mut methods: BTreeMap<(HandleKind, &str), &str> = BTreeMap::new();
    for loaded in specs {
        check_file(&loaded.file, &loaded.spec)?;
        if let Some(first) = groups.insert(&loaded.spec.group, &loaded.file) {
            return Err(SpecError::new(
                &loaded.file,
                format!("group `{}` is already defined in spec/{first}", loaded.spec.group),
            )
            .field("group"));
        }
        for endpoint in &loaded.spec.endpoints {
            let handle = handle_of(endpoint).unwrap_or(HandleKind::Provider);
            if let Some(first) = methods.insert((handle, &endpoint.name), &loaded.file) {
                return Err(SpecError::new(
                    &loaded.file,
                    format!(
                        "duplicate method name: the {handle:?} handle already has `{}` (spec/{first})",
                        endpoint.name
                    ),
                )
                .endpoint(&endpoint.name)
                .field("name"));
            }
        }
    }
    Ok(())
}

/// The handle an endpoint's method hangs on, if the spec determines one.
pub fn handle_of(endpoint: &Endpoint) -> Option<HandleKind> {
    endpoint.handle.or(match endpoint.token {
        TokenKind::Provider => Some(HandleKind::Provider),
        TokenKind::Suite => Some(HandleKind::Suite),
        TokenKind::Corp => Some(HandleKind::Corp),
        TokenKind::None => None,
    })
}

/// Checks one file on its own.
pub fn check_file(file: &str, spec: &SpecFile) -> Result<(), SpecError> {
    if !is_snake_ident(&spec.group) {
        return Err(SpecError::new(file, "must be a snake_case Rust identifier").field("group"));
    }
    if spec.summary.trim().is_empty() {
        return Err(SpecError::new(file, "must not be empty").field("summary"));
    }
    let checker = SchemaChecker { file, defs: &spec.definitions };
    for (name, def) in &spec.definitions {
        checker.definition(name, def)?;
    }
    let mut seen = BTreeSet::new();
    for endpoint in &spec.endpoints {
        let err = |field: &str, message: String| {
            SpecError::new(file, message).endpoint(&endpoint.name).field(field)
        };
        if !seen.insert(endpoint.name.as_str()) {
            return Err(err("name", "duplicate method name in this file".into()));
        }
        check_endpoint(&checker, endpoint).map_err(|(field, message)| err(&field, message))?;
    }
    Ok(())
}

type Refusal = (String, String);

fn refuse<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, Refusal> {
    Err((field.into(), message.into()))
}

fn check_endpoint(checker: &SchemaChecker<'_>, e: &Endpoint) -> Result<(), Refusal> {
    if !is_snake_ident(&e.name) {
        return refuse("name", "must be a snake_case Rust identifier");
    }
    if e.summary.trim().is_empty() {
        return refuse("summary", "must not be empty");
    }
    if !e.doc.starts_with("https://") {
        return refuse("doc", "must be the https URL of the official page");
    }
    if e.path.trim().is_empty() {
        return refuse("path", "missing path");
    }
    if !e.path.starts_with('/') || e.path.contains(['?', '#', ' ']) {
        return refuse("path", "must start with `/` and carry no query, fragment or space");
    }
    match (e.token, e.handle) {
        (TokenKind::None, None) => {
            return refuse("handle", "an endpoint with token `none` must name its handle");
        }
        (token, Some(handle)) if !handle.can_carry(token) => {
            return refuse("handle", format!("the {handle:?} handle cannot obtain a {token:?} token"));
        }
        _ => {}
    }
    if let Some(kinds) = &e.app_kinds {
        if kinds.is_empty() {
            return refuse("app_kinds", "must name at least one app kind (leave it out to allow every kind)");
        }
        if kinds.iter().collect::<BTreeSet<_>>().len() != kinds.len() {
            return refuse("app_kinds", "names an app kind twice");
        }
        if handle_of(e).is_none_or(|h| h == HandleKind::Provider) {
            return refuse(
                "app_kinds",
                "only endpoints on the suite or corp handle can be limited to app kinds: \
                 the provider handle speaks for no suite",
            );
        }
    }
    if let Some(param) = &e.token_param {
        if e.token == TokenKind::None {
            return refuse("token_param", "an endpoint with token `none` carries no token");
        }
        if param.is_empty() || !param.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return refuse("token_param", "must be a plain query parameter name");
        }
    }
    if e.method == HttpMethod::Get && e.request.is_some() {
        return refuse("request", "a GET request carries no body; use `query`");
    }
    for (field, schema, is_response) in [
        ("query", e.query.as_ref(), false),
        ("request", e.request.as_ref(), false),
        ("response", Some(&e.response), true),
    ] {
        let Some(schema) = schema else { continue };
        let name = checker.root_ref(field, schema)?;
        if is_response {
            checker.no_required(&format!("definitions.{name}"), name, &mut BTreeSet::new())?;
        }
    }
    if let Some(query) = &e.query {
        let name = query.ref_name().unwrap_or_default();
        if let Some(props) = checker.defs.get(name).and_then(|d| d.properties.as_ref()) {
            for (key, prop) in props {
                let scalar = matches!(
                    prop.ty,
                    Some(JsonType::String | JsonType::Integer | JsonType::Number | JsonType::Boolean)
                );
                if !scalar {
                    return refuse(
                        format!("definitions.{name}.properties.{key}"),
                        "query parameters must be scalars",
                    );
                }
            }
        }
    }
    for (field, schema, value) in [
        ("query", e.query.as_ref(), e.example.query.as_ref()),
        ("request", e.request.as_ref(), e.example.request.as_ref()),
    ] {
        match (schema, value) {
            (Some(_), None) => {
                return refuse(format!("example.{field}"), format!("missing; the endpoint has `{field}`"))
            }
            (None, Some(_)) => {
                return refuse(
                    format!("example.{field}"),
                    format!("given, but the endpoint has no `{field}`"),
                )
            }
            (Some(schema), Some(value)) => {
                checker.example(&format!("example.{field}"), value, schema, false)?
            }
            (None, None) => {}
        }
    }
    checker.example("example.response", &e.example.response, &e.response, true)?;
    Ok(())
}

struct SchemaChecker<'a> {
    file: &'a str,
    defs: &'a BTreeMap<String, SpecSchema>,
}

impl SchemaChecker<'_> {
    fn definition(&self, name: &str, def: &SpecSchema) -> Result<(), SpecError> {
        let at = format!("definitions.{name}");
        let wrap = |(field, message): Refusal| SpecError::new(self.file, message).field(field);
        if !name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            || !name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(wrap((at, "definition names are PascalCase".into())));
        }
        if def.reference.is_some() {
            return Err(wrap((at, "a definition must not be a bare `$ref`".into())));
        }
        self.schema(&at, def).map_err(wrap)
    }

    /// Structural rules for one schema node and everything under it.
    fn schema(&self, at: &str, s: &SpecSchema) -> Result<(), Refusal> {
        if let Some(reference) = &s.reference {
            let known = s.ref_name().is_some_and(|n| self.defs.contains_key(n));
            if !known {
                return refuse(
                    format!("{at}.$ref"),
                    format!("dangling $ref `{reference}`: no such definition in this file"),
                );
            }
            if s.ty.is_some() || s.properties.is_some() || s.items.is_some() {
                return refuse(at, "`$ref` takes no other structure (only a description)");
            }
            return Ok(());
        }
        if s.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return refuse(at, "missing `description` (every definition and property is documented)");
        }
        let Some(ty) = s.ty else {
            return refuse(at, "missing `type`");
        };
        if s.aliases.is_some() && !at.contains(".properties.") {
            return refuse(format!("{at}.x-aliases"), "only a property can have aliases");
        }
        if let Some(aliases) = &s.aliases {
            if !top_level_property(at) {
                return refuse(
                    format!("{at}.x-aliases"),
                    "aliases are only supported on properties of a named definition",
                );
            }
            if aliases.iter().any(|a| a.is_empty()) {
                return refuse(format!("{at}.x-aliases"), "an alias must not be empty");
            }
        }
        if s.known_values.is_some() && matches!(ty, JsonType::Array | JsonType::Object) {
            return refuse(format!("{at}.x-known-values"), "only scalars have known values");
        }
        match ty {
            JsonType::Array => {
                let Some(items) = &s.items else {
                    return refuse(at, "an array needs `items`");
                };
                self.schema(&format!("{at}.items"), items)?;
            }
            JsonType::Object => {
                let props = s.properties.as_ref();
                for (key, prop) in props.into_iter().flatten() {
                    self.schema(&format!("{at}.properties.{key}"), prop)?;
                }
                for req in s.required.iter().flatten() {
                    if !props.is_some_and(|p| p.contains_key(req)) {
                        return refuse(format!("{at}.required"), format!("`{req}` is not a property"));
                    }
                }
                if let Some(AdditionalProperties::Schema(extra)) = &s.additional_properties {
                    self.schema(&format!("{at}.additionalProperties"), extra)?;
                }
            }
            _ => {
                if s.properties.is_some() || s.items.is_some() || s.required.is_some() {
                    return refuse(at, format!("a {ty:?} has no properties, items or required"));
                }
            }
        }
        Ok(())
    }

    /// An endpoint's query/request/response must be a `$ref` to an object definition.
    fn root_ref<'s>(&self, field: &str, schema: &'s SpecSchema) -> Result<&'s str, Refusal> {
        let Some(name) = schema.ref_name() else {
            return refuse(field, "must be a `$ref: \"#/definitions/Name\"`");
        };
        match self.defs.get(name) {
            None => refuse(
                format!("{field}.$ref"),
                format!("dangling $ref `#/definitions/{name}`: no such definition in this file"),
            ),
            Some(def) if def.ty != Some(JsonType::Object) => {
                refuse(format!("{field}.$ref"), format!("`{name}` must be an object"))
            }
            Some(_) => Ok(name),
        }
    }

    /// Response data belongs to WeCom: a field it omits must still decode.
    fn no_required(&self, at: &str, name: &str, seen: &mut BTreeSet<String>) -> Result<(), Refusal> {
        if !seen.insert(name.to_owned()) {
            return Ok(());
        }
        let Some(def) = self.defs.get(name) else {
            return Ok(());
        };
        self.no_required_in(at, def, seen)
    }

    fn no_required_in(&self, at: &str, s: &SpecSchema, seen: &mut BTreeSet<String>) -> Result<(), Refusal> {
        if let Some(name) = s.ref_name() {
            return self.no_required(&format!("definitions.{name}"), name, seen);
        }
        if s.required.as_ref().is_some_and(|r| !r.is_empty()) {
            return refuse(
                format!("{at}.required"),
                "response fields are all optional: WeCom may omit any of them",
            );
        }
        if let Some(items) = &s.items {
            self.no_required_in(&format!("{at}.items"), items, seen)?;
        }
        for (key, prop) in s.properties.iter().flatten() {
            self.no_required_in(&format!("{at}.properties.{key}"), prop, seen)?;
        }
        if let Some(AdditionalProperties::Schema(extra)) = s.additional_properties.as_ref() {
            self.no_required_in(&format!("{at}.additionalProperties"), extra, seen)?;
        }
        Ok(())
    }

    /// An example must match its schema, and use only declared keys.
    fn example(
        &self,
        at: &str,
        value: &Value,
        schema: &SpecSchema,
        response_root: bool,
    ) -> Result<(), Refusal> {
        if let Some(name) = schema.ref_name() {
            let Some(def) = self.defs.get(name) else {
                return refuse(at, format!("dangling $ref `#/definitions/{name}`"));
            };
            return self.example(at, value, def, response_root);
        }
        let mismatch = |expected: &str| {
            refuse::<()>(at, format!("example does not match its schema: expected {expected}, found {value}"))
        };
        match schema.ty {
            Some(JsonType::String) if !value.is_string() => return mismatch("a string"),
            Some(JsonType::Integer) if !(value.is_i64() || value.is_u64()) => return mismatch("an integer"),
            Some(JsonType::Number) if !value.is_number() => return mismatch("a number"),
            Some(JsonType::Boolean) if !value.is_boolean() => return mismatch("a boolean"),
            Some(JsonType::Array) => {
                let Some(items) = value.as_array() else {
                    return mismatch("an array");
                };
                if let Some(item_schema) = &schema.items {
                    for (i, item) in items.iter().enumerate() {
                        self.example(&format!("{at}[{i}]"), item, item_schema, false)?;
                    }
                }
            }
            Some(JsonType::Object) => {
                let Some(map) = value.as_object() else {
                    return mismatch("an object");
                };
                for req in schema.required.iter().flatten() {
                    if !map.contains_key(req) {
                        return refuse(
                            at,
                            format!("example does not match its schema: required `{req}` is missing"),
                        );
                    }
                }
                let props = schema.properties.as_ref();
                for (key, member) in map {
                    let at = format!("{at}.{key}");
                    if response_root && ENVELOPE_KEYS.contains(&key.as_str()) {
                        continue;
                    }
                    if let Some(prop) = props.and_then(|p| p.get(key)) {
                        self.example(&at, member, prop, false)?;
                        continue;
                    }
                    match schema.additional_properties.as_ref() {
                        Some(AdditionalProperties::Schema(extra)) => {
                            self.example(&at, member, extra, false)?
                        }
                        Some(AdditionalProperties::Flag(true)) => {}
                        _ => return refuse(
                            at,
                            "example uses a key its schema does not declare (it would be lost when decoded)",
                        ),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `definitions.Name.properties.key`, not deeper.
fn top_level_property(at: &str) -> bool {
    let parts: Vec<&str> = at.split('.').collect();
    parts.len() == 4 && parts[0] == "definitions" && parts[2] == "properties"
}

/// Lowercase ASCII letters, digits and `_`, starting with a letter, not a keyword.
pub fn is_snake_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_keyword(s)
}

/// Whether `s` is a Rust keyword (strict, reserved or edition-specific).
pub fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
        "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof",
        "unsized", "virtual", "yield", "gen",
    ];
    KEYWORDS.contains(&s)
}
