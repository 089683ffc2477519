//! Names and sentences shared by the parts of a group file: handles, call
//! structs, links to methods, doc lines.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;
use proc_macro2::Ident;
use quote::format_ident;

use crate::spec::{Endpoint, HandleKind, SpecFile, TokenKind};
use crate::validate::handle_of;

/// The handles a group has endpoints on, in order.
pub(super) fn handles_of(spec: &SpecFile) -> BTreeSet<HandleKind> {
    spec.endpoints.iter().filter_map(handle_of).collect()
}

/// The name of a group's call struct on `handle`: `SuiteOauth`.
pub(super) fn calls_ident(spec: &SpecFile, handle: HandleKind) -> Ident {
    format_ident!("{}{}", handle_ident(handle), spec.group.to_upper_camel_case())
}

/// How a method is named in docs: `SuiteOauth::x` (path from the group
/// module) or, for a flat group, `Suite::x` (`crate::Suite::x`).
pub(super) fn method_link(spec: &SpecFile, e: &Endpoint) -> (String, String) {
    let handle = handle_of(e).expect("validated: every endpoint has a handle");
    if spec.flat {
        let h = handle_ident(handle);
        (format!("{h}::{}", e.name), format!("crate::{h}::{}", e.name))
    } else {
        let calls = calls_ident(spec, handle);
        (format!("{calls}::{}", e.name), format!("super::{calls}::{}", e.name))
    }
}

/// The token kind as docs name it.
pub(super) fn token_name(token: TokenKind) -> &'static str {
    match token {
        TokenKind::Provider => "provider",
        TokenKind::Suite => "suite",
        TokenKind::Corp => "corp",
        TokenKind::Registration => "registration",
        TokenKind::None => "none",
    }
}

/// A summary as the rest of a sentence: first letter lowercase (unless an
/// acronym), ending with a period.
pub(super) fn lowercase_first(text: &str) -> String {
    let text = text.trim_end();
    let text = if text.ends_with('.') { text.to_owned() } else { format!("{text}.") };
    let mut chars = text.chars();
    match chars.next() {
        Some(c)
            if c.is_ascii_uppercase() && !chars.clone().next().is_some_and(|n| n.is_ascii_uppercase()) =>
        {
            c.to_ascii_lowercase().to_string() + chars.as_str()
        }
        _ => text,
    }
}

/// The handle type a method hangs on.
pub(super) fn handle_ident(handle: HandleKind) -> Ident {
    match handle {
        HandleKind::Provider => format_ident!("Provider"),
        HandleKind::Suite => format_ident!("Suite"),
        HandleKind::Corp => format_ident!("Corp"),
    }
}

/// Doc attribute lines of `text`, each with the usual leading space.
pub(super) fn doc_lines(text: &str) -> Vec<String> {
    text.trim_end().lines().map(|l| format!(" {l}").trim_end().to_owned()).collect()
}
