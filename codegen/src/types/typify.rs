//! The typify pass over one group's definitions: spec schemas in, syn items
//! out, with what the second pass needs to know about them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::graph::{map_schemas, type_edges};
use super::syntax::{self_name, struct_names};
use super::tidy::{allow_unknown_fields, derive_defaults, strip_schema_docs};
use super::union::union_items;
use crate::error::SpecError;
use crate::spec::{AdditionalProperties, JsonType, SpecSchema};
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

/// The definitions of other files that `schema` uses: name → (file, group).
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

/// Spec extensions typify does not know: dropped, or (known values) put in the docs.
fn fold_extensions(schema: &mut SpecSchema) {
    schema.aliases = None;
    schema.sensitive = false;
    schema.flatten = false;
    // The field keeps its plain type; `new` fills the value in.
    schema.constant = None;
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
    if let Some(source) = schema.source.take() {
        let mut doc = schema.description.take().unwrap_or_default();
        doc.push_str(&format!("\n\nNot confirmed on the official page; source: {source}"));
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
