//! Names in the generated Rust: what a spec name may be, and the idents
//! made from it.

use proc_macro2::{Ident, Span};

use crate::spec::{Endpoint, SpecSchema};

/// The static an endpoint's descriptor is named by (`GET_PRE_AUTH_CODE`).
pub(crate) fn static_ident(endpoint: &Endpoint) -> Ident {
    Ident::new(&endpoint.name.to_ascii_uppercase(), Span::call_site())
}

/// The type name a `$ref` names (local, or re-exported from its owner).
pub(crate) fn type_ident(schema: &SpecSchema) -> Ident {
    let (_, name) = schema.ref_target().expect("validated: endpoint schemas are $refs");
    Ident::new(name, Span::call_site())
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

/// The enum variant a union's tag value becomes (`miniprogram_notice` →
/// `MiniprogramNotice`).
pub(crate) fn variant_ident(tag_value: &str) -> Ident {
    Ident::new(&heck::ToUpperCamelCase::to_upper_camel_case(tag_value), Span::call_site())
}

/// The field a JSON key becomes (`r#type` for a keyword).
pub(crate) fn member_ident(key: &str) -> Ident {
    let snake = heck::ToSnakeCase::to_snake_case(key);
    if is_keyword(&snake) {
        Ident::new_raw(&snake, Span::call_site())
    } else {
        Ident::new(&snake, Span::call_site())
    }
}
