//! The rules for one endpoint: name, docs, path, token and handle, app
//! kinds, uploads, and examples that match its schemas.

use std::collections::BTreeSet;

use super::index::handle_of;
use super::schema::{refuse, Refusal, SchemaChecker};
use crate::names::is_snake_ident;
use crate::spec::{Endpoint, HandleKind, HttpMethod, JsonType, TokenKind, Upload};

/// Checks one endpoint; a refusal names the field at fault.
pub(super) fn check_endpoint(checker: &SchemaChecker<'_>, e: &Endpoint) -> Result<(), Refusal> {
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
    if let Some(upload) = &e.upload {
        check_upload(checker, e, upload)?;
    }
    for legacy in &e.legacy_paths {
        if !legacy.starts_with('/') || legacy.contains(['?', '#', ' ']) || *legacy == e.path {
            return refuse(
                "legacy_paths",
                "each is another path: starting with `/`, without query or fragment",
            );
        }
    }
    for (field, schema, is_response) in [
        ("query", e.query.as_ref(), false),
        ("request", e.request.as_ref(), false),
        ("response", Some(&e.response), true),
    ] {
        let Some(schema) = schema else { continue };
        let (root, name) = checker.root_ref(field, schema)?;
        if is_response {
            root.no_required(&format!("definitions.{name}"), name, &mut BTreeSet::new())?;
        }
    }
    if let Some(query) = &e.query {
        if let Some((name, props)) =
            checker.follow(query).and_then(|(_, name, d)| Some((name, d.properties.as_ref()?)))
        {
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

/// An upload is a POST whose body is the file; its limits are consistent
/// and keyed by a query parameter.
fn check_upload(checker: &SchemaChecker<'_>, e: &Endpoint, upload: &Upload) -> Result<(), Refusal> {
    if e.method != HttpMethod::Post || e.request.is_some() {
        return refuse("upload", "an upload is a POST whose body is the file: no `request`");
    }
    if upload.field.is_empty() || !upload.field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return refuse("upload.field", "must be a plain form field name");
    }
    if upload.max_bytes == 0 || upload.min_bytes > upload.max_bytes {
        return refuse("upload.max_bytes", "must be positive and at least `min_bytes`");
    }
    match (&upload.limit_by, upload.limits.is_empty()) {
        (None, true) => {}
        (Some(param), false) => {
            let declared = e
                .query
                .as_ref()
                .and_then(|q| checker.follow(q))
                .and_then(|(_, _, def)| def.properties.as_ref())
                .is_some_and(|p| p.contains_key(param));
            if !declared {
                return refuse("upload.limit_by", format!("`{param}` is not a query parameter"));
            }
            if let Some((value, _)) =
                upload.limits.iter().find(|(_, l)| **l > upload.max_bytes || **l < upload.min_bytes)
            {
                return refuse(format!("upload.limits.{value}"), "must lie within min_bytes..=max_bytes");
            }
        }
        _ => return refuse("upload", "`limit_by` and `limits` go together"),
    }
    Ok(())
}
