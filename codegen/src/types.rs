//! The request and response types of one group: typify makes them from the
//! definitions, then a pass over the syn tree gives them their final shape
//! (spec field order, docs, constructors and setters for what users build,
//! a redacted `Debug` for sensitive fields, no typify boilerplate).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::SpecError;
use crate::names::{member_ident, variant_ident};
use crate::spec::{AdditionalProperties, JsonType, SpecSchema, UnionContent};
use crate::validate::{resolve, Index};

/// One group's types after typify, before the pass that needs every group
/// (which types users build is known only then).
pub(crate) struct GroupTypes {
    /// The spec file.
    pub file: String,
    /// typify's items, tidied; imported stubs removed.
    pub items: Vec<syn::Item>,
    /// Types defined in other files that this group uses: name → (file, group).
    pub imports: BTreeMap<String, (String, String)>,
    /// The object schema of every generated struct (definitions and the
    /// inline objects typify named after their parent).
    pub schemas: BTreeMap<String, SpecSchema>,
    /// (struct, property key) → the struct typify made of an inline object there.
    pub nested: BTreeMap<(String, String), String>,
    /// For each struct or union, the generated types its fields mention.
    pub edges: BTreeMap<String, BTreeSet<String>>,
    /// The tagged unions (`x-tag`) of this file: enums, made here, not by typify.
    pub unions: BTreeSet<String>,
}

/// The typify settings every group uses.
fn type_settings() -> typify_impl::TypeSpaceSettings {
    let mut settings = typify_impl::TypeSpaceSettings::default();
    settings
        .with_struct_builder(false)
        .with_derive("PartialEq".to_owned())
        .with_map_type("::std::collections::BTreeMap");
    settings
}

/// Runs typify over one file's definitions. A `$ref` to another file's
/// definition becomes a stub that is replaced by a `pub use` of the owner's type.
pub(crate) fn typify_group(index: &Index<'_>, file: &str) -> Result<GroupTypes, SpecError> {
    let spec = index[file];
    let mut imports = BTreeMap::new();
    for def in spec.definitions.values() {
        collect_imports(index, file, def, &mut imports);
    }
    for e in &spec.endpoints {
        for schema in [&e.query, &e.request, &Some(e.response.clone())].into_iter().flatten() {
            collect_imports(index, file, schema, &mut imports);
        }
    }
    let unions: BTreeSet<String> =
        spec.definitions.iter().filter(|(_, d)| d.is_union()).map(|(n, _)| n.clone()).collect();
    let mut defs = Vec::new();
    for (name, def) in &spec.definitions {
        // A union stands as an empty object for typify; its enum is made below.
        let json = if def.is_union() {
            serde_json::json!({ "type": "object", "additionalProperties": false })
        } else {
            to_typify_json(def)
        };
        let schema: schemars::schema::Schema = serde_json::from_value(json)
            .map_err(|e| SpecError::new(file, e.to_string()).field(format!("definitions.{name}")))?;
        defs.push((name.clone(), schema));
    }
    for name in imports.keys() {
        let stub = serde_json::json!({ "type": "object", "additionalProperties": false });
        let schema: schemars::schema::Schema = serde_json::from_value(stub).expect("a valid schema");
        defs.push((name.clone(), schema));
    }
    let mut space = typify_impl::TypeSpace::new(&type_settings());
    space
        .add_ref_types(defs)
        .map_err(|e| SpecError::new(file, format!("typify refused the definitions: {e}")))?;
    let parsed: syn::File = syn::parse2(space.to_stream())
        .map_err(|e| SpecError::new(file, format!("typify output does not parse: {e}")))?;
    let mut items = parsed.items;
    // typify's `error` module (ConversionError) serves types we never make,
    // and the stubs stand for types of other groups.
    items.retain(|item| match item {
        syn::Item::Mod(m) => m.ident != "error",
        syn::Item::Struct(s) => !imports.contains_key(&s.ident.to_string()),
        syn::Item::Impl(imp) => self_name(imp).is_none_or(|n| !imports.contains_key(&n)),
        _ => true,
    });
    let names = struct_names(&items);
    for name in spec.definitions.keys() {
        if !names.contains(name) && !unions.contains(name) {
            return Err(SpecError::new(
                file,
                "this name does not survive as a Rust type name; use plain PascalCase (e.g. `Info3rd` → `Info3Rd`)",
            )
            .field(format!("definitions.{name}")));
        }
    }
    items.retain(|item| match item {
        syn::Item::Struct(s) => !unions.contains(&s.ident.to_string()),
        syn::Item::Impl(imp) => self_name(imp).is_none_or(|n| !unions.contains(&n)),
        _ => true,
    });
    derive_defaults(&mut items);
    for item in &mut items {
        strip_schema_docs(item);
        allow_unknown_fields(item);
    }
    for name in &unions {
        let union = union_items(name, &spec.definitions[name], &spec.definitions);
        let parsed: syn::File = syn::parse2(union)
            .map_err(|e| SpecError::new(file, format!("union `{name}` does not parse: {e}")))?;
        items.extend(parsed.items);
    }
    let (schemas, nested) = map_schemas(&items, &spec.definitions);
    let edges = type_edges(&items, &imports);
    Ok(GroupTypes { file: file.to_owned(), items, imports, schemas, nested, edges, unions })
}

/// The enum of a tagged union (`x-tag`): one variant per tag value, its
/// content under a key named after the value (`keyed`) or beside the tag
/// (`inline`); and `From` each variant's content, where that is unambiguous.
fn union_items(name: &str, def: &SpecSchema, defs: &BTreeMap<String, SpecSchema>) -> TokenStream {
    let ident = format_ident!("{name}");
    let tag = def.tag.as_deref().unwrap_or_default();
    let keyed = def.content == Some(UnionContent::Keyed);
    let variants = def.variants.clone().unwrap_or_default();
    let mut counts = BTreeMap::new();
    for variant in variants.values() {
        *counts.entry(variant.ref_name().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    let mut arms = Vec::new();
    let mut froms = Vec::new();
    for (value, variant) in &variants {
        let content_name = variant.ref_name().unwrap_or_default();
        let content = format_ident!("{content_name}");
        let described = variant.description.clone().or_else(|| defs.get(content_name)?.description.clone());
        let docs = doc_lines_of(described.as_deref().unwrap_or_default());
        let v = variant_ident(value);
        let (arm, build) = if keyed {
            let field = member_ident(value);
            let field_doc = format!(" The `{value}` member.");
            (
                quote! {
                    #(#[doc = #docs])*
                    #[serde(rename = #value)]
                    #v {
                        #[doc = #field_doc]
                        #field: #content,
                    },
                },
                quote!(#ident::#v { #field: content }),
            )
        } else {
            (
                quote! {
                    #(#[doc = #docs])*
                    #[serde(rename = #value)]
                    #v(#content),
                },
                quote!(#ident::#v(content)),
            )
        };
        arms.push(arm);
        if counts.get(content_name) == Some(&1) {
            let doc = format!(" A `{value}` {name}.");
            froms.push(quote! {
                impl ::std::convert::From<#content> for #ident {
                    #[doc = #doc]
                    fn from(content: #content) -> Self {
                        #build
                    }
                }
            });
        }
    }
    let mut docs = doc_lines_of(def.description.as_deref().unwrap_or_default());
    docs.push(String::new());
    docs.push(format!(" The member `{tag}` says which variant it is."));
    quote! {
        #(#[doc = #docs])*
        #[derive(Clone, Debug, PartialEq, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(tag = #tag)]
        #[non_exhaustive]
        // Built once per call and sent: boxing the larger kinds would only
        // make them harder to write.
        #[allow(clippy::large_enum_variant)]
        pub enum #ident {
            #(#arms)*
        }
        #(#froms)*
    }
}

/// One doc line per line of text, with the usual leading space.
fn doc_lines_of(text: &str) -> Vec<String> {
    text.trim_end().lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") }).collect()
}

fn collect_imports(
    index: &Index<'_>,
    file: &str,
    schema: &SpecSchema,
    out: &mut BTreeMap<String, (String, String)>,
) {
    if let Some((Some(_), _)) = schema.ref_target() {
        if let Some((owner, name, _)) = resolve(index, file, schema) {
            out.insert(name.to_owned(), (owner.to_owned(), index[owner].group.clone()));
        }
    }
    if let Some(items) = &schema.items {
        collect_imports(index, file, items, out);
    }
    for prop in schema.properties.iter().flat_map(|p| p.values()) {
        collect_imports(index, file, prop, out);
    }
    if let Some(AdditionalProperties::Schema(extra)) = &schema.additional_properties {
        collect_imports(index, file, extra, out);
    }
}

/// A spec schema in the form typify reads: extensions folded into the docs,
/// references to other files made local (their stubs stand in).
fn to_typify_json(schema: &SpecSchema) -> Value {
    let mut schema = schema.clone();
    fold_extensions(&mut schema);
    let empty = schema.properties.as_ref().is_none_or(|p| p.is_empty());
    if schema.ty == Some(JsonType::Object) && empty && schema.additional_properties.is_none() {
        // typify makes a map of a property-less object; an empty struct says
        // "no data" better. Its `deny_unknown_fields` is removed afterwards.
        schema.additional_properties = Some(AdditionalProperties::Flag(false));
    }
    serde_json::to_value(&schema).expect("spec schemas always serialize")
}

fn fold_extensions(schema: &mut SpecSchema) {
    schema.aliases = None;
    schema.sensitive = false;
    schema.flatten = false;
    if let Some((Some(_), name)) = schema.ref_target() {
        schema.reference = Some(format!("#/definitions/{name}"));
    }
    if let Some(values) = schema.known_values.take() {
        let mut doc = schema.description.take().unwrap_or_default();
        doc.push_str("\n\nKnown values (WeCom may add others, which decode as well):");
        for (value, meaning) in values {
            doc.push_str(&format!("\n- `{value}`: {meaning}"));
        }
        schema.description = Some(doc);
    }
    if let Some(items) = schema.items.as_deref_mut() {
        fold_extensions(items);
    }
    for prop in schema.properties.iter_mut().flat_map(|p| p.values_mut()) {
        fold_extensions(prop);
    }
    if let Some(AdditionalProperties::Schema(extra)) = schema.additional_properties.as_mut() {
        fold_extensions(extra);
    }
}

fn self_name(imp: &syn::ItemImpl) -> Option<String> {
    match imp.self_ty.as_ref() {
        syn::Type::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// typify writes `impl Default` by hand with every field `Default::default()`;
/// a derive says the same in one word (and keeps clippy quiet).
fn derive_defaults(items: &mut Vec<syn::Item>) {
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
fn allow_unknown_fields(item: &mut syn::Item) {
    let syn::Item::Struct(s) = item else { return };
    s.attrs.retain(|attr| {
        !(attr.path().is_ident("serde") && quote!(#attr).to_string().contains("deny_unknown_fields"))
    });
}

/// typify appends each schema to the docs; readers want the description only.
fn strip_schema_docs(item: &mut syn::Item) {
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

pub(crate) fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    match &attr.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn struct_names(items: &[syn::Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn find_struct<'f>(items: &'f mut [syn::Item], name: &str) -> Option<&'f mut syn::ItemStruct> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

/// The JSON key a typify field reads: its `rename`, or its own name.
fn json_key(field: &syn::Field) -> Option<String> {
    let mut key = field.ident.as_ref().map(|i| i.to_string());
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                key = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    key
}

/// The words of a type that name generated structs.
fn type_words<'n>(ty: &syn::Type, names: &'n BTreeSet<String>) -> Vec<&'n String> {
    let text = quote!(#ty).to_string();
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').filter_map(|w| names.get(w)).collect()
}

/// Which schema each struct was made from: the definitions, then the inline
/// objects (directly, as array items or as map values) of their properties.
fn map_schemas(
    items: &[syn::Item],
    defs: &BTreeMap<String, SpecSchema>,
) -> (BTreeMap<String, SpecSchema>, BTreeMap<(String, String), String>) {
    let names = struct_names(items);
    let mut schemas: BTreeMap<String, SpecSchema> =
        defs.iter().filter(|(n, _)| names.contains(*n)).map(|(n, d)| (n.clone(), d.clone())).collect();
    let mut nested = BTreeMap::new();
    let mut todo: Vec<String> = schemas.keys().cloned().collect();
    while let Some(name) = todo.pop() {
        let Some(item) = items.iter().find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        }) else {
            continue;
        };
        let schema = schemas[&name].clone();
        for field in &item.fields {
            let Some(key) = json_key(field) else { continue };
            let Some(prop) = schema.properties.as_ref().and_then(|p| p.get(&key)) else { continue };
            let inner = match (&prop.ty, prop.items.as_deref(), &prop.additional_properties) {
                (Some(JsonType::Array), Some(items), _) => items,
                (Some(JsonType::Object), _, Some(AdditionalProperties::Schema(extra)))
                    if prop.properties.is_none() =>
                {
                    extra
                }
                _ => prop,
            };
            if inner.reference.is_some() || inner.properties.is_none() {
                continue;
            }
            if let Some(word) = type_words(&field.ty, &names).into_iter().find(|w| !defs.contains_key(*w)) {
                nested.insert((name.clone(), key.clone()), word.clone());
                if !schemas.contains_key(word) {
                    schemas.insert(word.clone(), inner.clone());
                    todo.push(word.clone());
                }
            }
        }
    }
    (schemas, nested)
}

/// For each struct, the generated (or imported) types its fields mention.
fn type_edges(
    items: &[syn::Item],
    imports: &BTreeMap<String, (String, String)>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut names = struct_names(items);
    names.extend(imports.keys().cloned());
    names.extend(items.iter().filter_map(|item| match item {
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        _ => None,
    }));
    let mut edges = BTreeMap::new();
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let out = s.fields.iter().flat_map(|f| type_words(&f.ty, &names)).cloned().collect();
                edges.insert(s.ident.to_string(), out);
            }
            syn::Item::Enum(e) => {
                let fields = e.variants.iter().flat_map(|v| v.fields.iter());
                let out = fields.flat_map(|f| type_words(&f.ty, &names)).cloned().collect();
                edges.insert(e.ident.to_string(), out);
            }
            _ => {}
        }
    }
    edges
}

/// What the second pass needs to know about the whole API.
pub(crate) struct Finish<'a> {
    /// Types users build (reachable from a request or query), by (file, name).
    pub built: &'a BTreeSet<(String, String)>,
    /// Doc lines naming the calls that use each root type, by name.
    pub roots: BTreeMap<String, Vec<String>>,
}

/// The `types` module of one group, in its final shape.
pub(crate) fn finish(group: GroupTypes, finish: &Finish<'_>) -> TokenStream {
    let GroupTypes { file, mut items, imports, schemas, unions, .. } = group;
    for (name, schema) in &schemas {
        if let Some(item) = find_struct(&mut items, name) {
            shape_struct(item, schema);
        }
    }
    let mut out = Vec::new();
    for mut item in items {
        let syn::Item::Struct(s) = &mut item else {
            out.push(quote!(#item));
            continue;
        };
        let name = s.ident.to_string();
        let schema = schemas.get(&name);
        if let Some(lines) = finish.roots.get(&name) {
            let mut at = s.attrs.iter().rposition(|a| doc_text(a).is_some()).map_or(0, |i| i + 1);
            for line in lines {
                s.attrs.insert(at, syn::parse_quote!(#[doc = ""]));
                s.attrs.insert(at + 1, syn::parse_quote!(#[doc = #line]));
                at += 2;
            }
        }
        tidy_docs(s);
        canonical_derives(s);
        s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
        let sensitive = schema.map(sensitive_fields).unwrap_or_default();
        let mut extra = Vec::new();
        if !sensitive.is_empty() {
            remove_derive(s, "Debug");
            extra.push(redacted_debug(s, &sensitive));
        }
        if finish.built.contains(&(file.clone(), name)) {
            if let Some(schema) = schema {
                extra.push(builder(s, schema, &unions));
            }
        }
        out.push(quote!(#item));
        out.extend(extra);
    }
    let uses = imports.iter().map(|(name, (_, group))| {
        let name = format_ident!("{name}");
        let group = format_ident!("{group}");
        quote!(pub use super::super::#group::types::#name;)
    });
    quote! {
        #(#uses)*
        #(#out)*
    }
}

/// Fields in spec order with the required ones first, each documented, with
/// its aliases.
fn shape_struct(item: &mut syn::ItemStruct, schema: &SpecSchema) {
    let syn::Fields::Named(fields) = &mut item.fields else {
        return;
    };
    let Some(props) = schema.properties.as_ref() else {
        return;
    };
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let rank = |field: &syn::Field| {
        let key = json_key(field).unwrap_or_default();
        let position = props.get_index_of(&key).unwrap_or(usize::MAX);
        (!required.contains(key.as_str()), position)
    };
    let mut list: Vec<syn::Field> = std::mem::take(&mut fields.named).into_iter().collect();
    list.sort_by_key(rank);
    for field in &mut list {
        let Some(key) = json_key(field) else { continue };
        let Some(prop) = props.get(&key) else { continue };
        if !field.attrs.iter().any(|a| doc_text(a).is_some()) {
            if let Some(text) = &prop.description {
                let text = format!(" {text}");
                field.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
            }
        }
        if prop.flatten {
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            field.attrs.push(syn::parse_quote!(#[serde(flatten)]));
        }
        if let Some(id_type) = prop.id_type() {
            let ty = &field.ty;
            let text = quote!(#ty)
                .to_string()
                .replace(":: std :: string :: String", "String")
                .replace("String", &format!("crate :: {id_type}"));
            if let Ok(typed) = syn::parse_str::<syn::Type>(&text) {
                field.ty = typed;
            }
        }
        let aliases: Vec<&String> = prop.aliases.iter().flatten().collect();
        if !aliases.is_empty() {
            // Into the field's `#[serde(...)]`, when it has one.
            match field.attrs.iter_mut().find(|a| a.path().is_ident("serde")) {
                Some(attr) => {
                    if let syn::Meta::List(list) = &mut attr.meta {
                        let tokens = &list.tokens;
                        list.tokens = quote!(#(alias = #aliases,)* #tokens);
                    }
                }
                None => field.attrs.push(syn::parse_quote!(#[serde(#(alias = #aliases),*)])),
            }
        }
    }
    fields.named = list.into_iter().collect();
}

/// One `///` line per line of text, with the usual leading space.
fn tidy_docs(s: &mut syn::ItemStruct) {
    fn split(attrs: &mut Vec<syn::Attribute>) {
        let mut out = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            match doc_text(&attr) {
                Some(text) => {
                    for line in text.split('\n') {
                        let line = if line.is_empty() || line.starts_with(' ') {
                            line.to_owned()
                        } else {
                            format!(" {line}")
                        };
                        out.push(syn::parse_quote!(#[doc = #line]));
                    }
                }
                None => out.push(attr),
            }
        }
        *attrs = out;
    }
    split(&mut s.attrs);
    for field in s.fields.iter_mut() {
        split(&mut field.attrs);
    }
}

/// The derives every generated type uses, in one order: what typify chose
/// (plus `Default` when every field is optional).
pub(crate) const DERIVE_ORDER: &[&str] =
    &["Clone", "Debug", "Default", "PartialEq", "::serde::Deserialize", "::serde::Serialize"];

fn canonical_derives(s: &mut syn::ItemStruct) {
    let mut present = BTreeSet::new();
    s.attrs.retain(|attr| {
        if !attr.path().is_ident("derive") {
            return true;
        }
        let _ = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            let text = quote!(#path).to_string().replace(' ', "");
            present.insert(text.trim_start_matches("::").to_owned());
            Ok(())
        });
        false
    });
    let derives: Vec<TokenStream> = DERIVE_ORDER
        .iter()
        .filter(|d| present.contains(d.trim_start_matches("::")))
        .map(|d| d.parse().expect("a path"))
        .collect();
    let at = s.attrs.iter().rposition(|a| doc_text(a).is_some()).map_or(0, |i| i + 1);
    s.attrs.insert(at, syn::parse_quote!(#[derive(#(#derives),*)]));
}

fn remove_derive(s: &mut syn::ItemStruct, name: &str) {
    for attr in &mut s.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let mut kept: Vec<syn::Path> = Vec::new();
        let _ = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident(name) {
                kept.push(meta.path.clone());
            }
            Ok(())
        });
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}

fn sensitive_fields(schema: &SpecSchema) -> BTreeSet<String> {
    schema.properties.iter().flatten().filter(|(_, p)| p.sensitive).map(|(k, _)| k.clone()).collect()
}

/// The `Option<T>` of a field type, as `T`.
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

/// Whether `ty` is one of the id newtypes of [`ID_FORMATS`].
fn is_id_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| crate::spec::ID_FORMATS.iter().any(|(_, t)| s.ident == t)))
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_none()))
}

/// `Debug` that prints `<redacted>` for the sensitive fields.
fn redacted_debug(s: &syn::ItemStruct, sensitive: &BTreeSet<String>) -> TokenStream {
    let name = &s.ident;
    let title = name.to_string();
    let fields = s.fields.iter().filter_map(|field| {
        let ident = field.ident.as_ref()?;
        let label = ident.to_string();
        let secret = json_key(field).is_some_and(|k| sensitive.contains(&k));
        Some(match (secret, option_inner(&field.ty).is_some()) {
            (false, _) => quote!(.field(#label, &self.#ident)),
            (true, true) => quote!(.field(#label, &self.#ident.as_ref().map(|_| "<redacted>"))),
            (true, false) => quote!(.field(#label, &"<redacted>")),
        })
    });
    quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#title) #(#fields)* .finish()
            }
        }
    }
}

/// `new` with the required fields, and a setter per optional one.
fn builder(s: &syn::ItemStruct, schema: &SpecSchema, unions: &BTreeSet<String>) -> TokenStream {
    let name = &s.ident;
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let props = schema.properties.clone().unwrap_or_default();
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut param_docs = Vec::new();
    let mut setters = Vec::new();
    for field in &s.fields {
        let Some(ident) = &field.ident else { continue };
        let key = json_key(field).unwrap_or_default();
        let description = props.get(&key).and_then(|p| p.description.clone()).unwrap_or_default();
        let first_line = description.lines().next().unwrap_or_default().to_owned();
        let ty = &field.ty;
        if required.contains(key.as_str()) {
            if is_string(ty) {
                params.push(quote!(#ident: impl Into<String>));
                inits.push(quote!(#ident: #ident.into()));
            } else if !type_words(ty, unions).is_empty() || is_id_type(ty) {
                params.push(quote!(#ident: impl Into<#ty>));
                inits.push(quote!(#ident: #ident.into()));
            } else {
                params.push(quote!(#ident: #ty));
                inits.push(quote!(#ident));
            }
            param_docs.push(format!(" - `{ident}`: {first_line}"));
            continue;
        }
        let docs: Vec<String> = description.lines().map(|l| format!(" {l}").trim_end().to_owned()).collect();
        match option_inner(ty) {
            Some(inner) => {
                inits.push(quote!(#ident: None));
                setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(mut self, value: impl Into<#inner>) -> Self {
                        self.#ident = Some(value.into());
                        self
                    }
                });
            }
            None => {
                inits.push(quote!(#ident: Default::default()));
                setters.push(quote! {
                    #(#[doc = #docs])*
                    pub fn #ident(mut self, value: #ty) -> Self {
                        self.#ident = value;
                        self
                    }
                });
            }
        }
    }
    let mut new_docs = vec![format!(" A `{name}` with its required fields; the setters add the others.")];
    if !param_docs.is_empty() {
        new_docs.push(String::new());
        new_docs.extend(param_docs);
    }
    let allow = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        impl #name {
            #(#[doc = #new_docs])*
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
            #(#setters)*
        }
    }
}
