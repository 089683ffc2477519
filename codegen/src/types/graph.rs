//! How the generated types relate to the spec: the schema each struct was
//! made from, and the types each one mentions.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::{AdditionalProperties, JsonType, SpecSchema};

use super::syntax::{json_key, struct_names, type_words};

/// Which schema each struct was made from: the definitions, then the inline
/// objects (directly, as array items or as map values) of their properties.
pub(super) fn map_schemas(
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
pub(super) fn type_edges(
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
