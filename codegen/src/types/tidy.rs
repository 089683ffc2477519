//! typify's output, tidied: derives instead of hand-written `Default`, no
//! refusal of unknown fields, no JSON schema in the docs.

use std::collections::BTreeSet;

use quote::quote;

use super::syntax::{doc_text, self_name};

/// typify writes `impl Default` by hand with every field `Default::default()`;
/// a derive says the same in one word (and keeps clippy quiet).
pub(super) fn derive_defaults(items: &mut Vec<syn::Item>) {
    let mut derived = BTreeSet::new();
    items.retain(|item| {
        let syn::Item::Impl(imp) = item else {
            return true;
        };
        let is_default = imp
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .is_some_and(|s| s.ident == "Default");
        let Some(name) = self_name(imp) else {
            return true;
        };
        let body = imp.items.iter().map(|i| quote!(#i).to_string()).collect::<String>();
        let only_defaults = body
            .split(',')
            .filter(|part| part.contains(':') && !part.contains("fn default"))
            .all(|part| part.trim_end_matches(['}', ' ']).ends_with("Default :: default ()"));
        let trivial = is_default && only_defaults && !body.contains("Some") && !body.contains("into");
        if trivial {
            derived.insert(name);
        }
        !trivial
    });
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if derived.contains(&s.ident.to_string()) {
            s.attrs.push(syn::parse_quote!(#[derive(Default)]));
        }
    }
}

/// WeCom adds reply fields without notice: decoding never refuses them.
pub(super) fn allow_unknown_fields(item: &mut syn::Item) {
    let syn::Item::Struct(s) = item else { return };
    s.attrs.retain(|attr| {
        !(attr.path().is_ident("serde") && quote!(#attr).to_string().contains("deny_unknown_fields"))
    });
}

/// typify appends each schema to the docs; readers want the description only.
pub(super) fn strip_schema_docs(item: &mut syn::Item) {
    let attrs = match item {
        syn::Item::Struct(s) => &mut s.attrs,
        syn::Item::Enum(e) => &mut e.attrs,
        syn::Item::Type(t) => &mut t.attrs,
        _ => return,
    };
    let mut inside = false;
    attrs.retain(|attr| {
        let Some(text) = doc_text(attr) else {
            return true;
        };
        if text.contains("<details><summary>JSON schema</summary>") {
            inside = true;
        }
        let keep = !inside;
        if text.contains("</details>") {
            inside = false;
        }
        keep
    });
    // Drop the blank doc line typify leaves before the removed block.
    let last_doc = attrs.iter().rposition(|a| doc_text(a).is_some());
    if let Some(index) = last_doc {
        if doc_text(&attrs[index]).is_some_and(|t| t.trim().is_empty()) {
            attrs.remove(index);
        }
    }
}
