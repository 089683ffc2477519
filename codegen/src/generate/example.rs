//! The `no_run` example on each call struct, built from the spec's example:
//! a call's required fields (except `const` ones) as its arguments, nested
//! types with their constructors.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::naming::handle_ident;
use crate::spec::{HandleKind, JsonType, SpecSchema, TokenKind, UnionContent};
use crate::types::GroupTypes;
use crate::validate::{handle_of, resolve, Index};

/// A `no_run` example for a group's call struct: the first call on that
/// handle, its parameters built from the spec's example.
pub(super) fn accessor_example(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    handle: HandleKind,
) -> String {
    let spec = index[file];
    let var = handle_ident(handle).to_string().to_ascii_lowercase();
    let h = handle_ident(handle);
    let accessor = spec.accessor_name();
    let mut used = BTreeSet::new();
    let call = spec.endpoints.iter().filter(|e| handle_of(e) == Some(handle)).find_map(|e| {
        let mut args = Vec::new();
        for (schema, value) in [(&e.query, &e.example.query), (&e.request, &e.example.request)] {
            let Some(schema) = schema else { continue };
            let (owner, name, def) = resolve(index, file, schema)?;
            let expr = build_expr(index, groups, owner, name, def, value.as_ref()?, &mut used)?;
            if !e.returns_call() {
                args.push(format!("&{expr}"));
                continue;
            }
            // A call takes the constructor's arguments itself: `get("zhangsan")`.
            let inner = expr.strip_prefix(&format!("{name}::new(")).and_then(|rest| rest.strip_suffix(')'));
            let Some(inner) = inner else {
                return Some(format!("{var}.{accessor}().{}_with({expr})", e.name));
            };
            if !inner.contains(&format!("{name}::")) {
                used.remove(name);
            }
            if !inner.is_empty() {
                args.push(inner.to_owned());
            }
        }
        if e.upload.is_some() {
            args.push("wecom_openwork::UploadFile::from_path(\"report.pdf\").await?".to_owned());
        }
        if e.token == TokenKind::Registration {
            args.insert(0, "\"REGISTRATION_ACCESS_TOKEN\"".to_owned());
        }
        Some(format!("{var}.{accessor}().{}({})", e.name, args.join(", ")))
    });
    let mut text = format!(
        "```no_run\n# async fn example({var}: wecom_openwork::{h}) -> Result<(), wecom_openwork::Error> {{\n"
    );
    match call {
        Some(call) => {
            if !used.is_empty() {
                let names: Vec<&str> = used.iter().map(String::as_str).collect();
                let list =
                    if names.len() == 1 { names[0].to_owned() } else { format!("{{{}}}", names.join(", ")) };
                text.push_str(&format!("use wecom_openwork::api::{}::types::{list};\n\n", spec.group));
            }
            text.push_str(&format!("let reply = {call}.await?;\nprintln!(\"{{reply:?}}\");\n"));
        }
        None => text.push_str(&format!("let calls = {var}.{accessor}();\n# let _ = calls;\n")),
    }
    text.push_str("# Ok(())\n# }\n```");
    text
}

/// Rust that builds `value` as the struct `name` (defined in `file`) with
/// its constructor: the required fields, from the spec's example.
fn build_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    name: &str,
    schema: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
) -> Option<String> {
    if schema.is_union() {
        return union_expr(index, groups, file, name, schema, value, used);
    }
    let props = schema.properties.as_ref();
    let required: BTreeSet<&str> = schema.required.iter().flatten().map(String::as_str).collect();
    let mut args = Vec::new();
    for (key, prop) in props.into_iter().flatten() {
        // `new` fills a `const` field in itself.
        if !required.contains(key.as_str()) || prop.constant.is_some() {
            continue;
        }
        // A flattened union reads its members from this very object.
        let member = if prop.flatten { value } else { value.get(key)? };
        args.push(value_expr(index, groups, file, name, key, prop, member, used, false)?);
    }
    used.insert(name.to_owned());
    Some(format!("{name}::new({})", args.join(", ")))
}

/// Rust that builds `value` as the union `name`: the variant its tag names.
fn union_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    name: &str,
    union: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
) -> Option<String> {
    let tag = value.get(union.tag.as_deref()?)?.as_str()?;
    let variant = union.variants.as_ref()?.get(tag)?;
    let (owner, content, def) = resolve(index, file, variant)?;
    let ident = crate::names::variant_ident(tag);
    used.insert(name.to_owned());
    Some(match union.content? {
        UnionContent::Keyed => {
            let inner = build_expr(index, groups, owner, content, def, value.get(tag)?, used)?;
            format!("{name}::{ident} {{ {}: {inner} }}", crate::names::member_ident(tag))
        }
        UnionContent::Inline => {
            let inner = build_expr(index, groups, owner, content, def, value, used)?;
            format!("{name}::{ident}({inner})")
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn value_expr(
    index: &Index<'_>,
    groups: &BTreeMap<String, GroupTypes>,
    file: &str,
    parent: &str,
    key: &str,
    prop: &SpecSchema,
    value: &Value,
    used: &mut BTreeSet<String>,
    owned: bool,
) -> Option<String> {
    if prop.reference.is_some() {
        let (owner, name, def) = resolve(index, file, prop)?;
        return build_expr(index, groups, owner, name, def, value, used);
    }
    match (prop.ty?, value) {
        (JsonType::String, Value::String(s)) => {
            Some(if owned { format!("{s:?}.to_owned()") } else { format!("{s:?}") })
        }
        (JsonType::Integer | JsonType::Number | JsonType::Boolean, v) => Some(v.to_string()),
        (JsonType::Array, Value::Array(items)) => {
            let item_schema = prop.items.as_deref()?;
            let parts = items
                .iter()
                .map(|item| value_expr(index, groups, file, parent, key, item_schema, item, used, true))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("vec![{}]", parts.join(", ")))
        }
        (JsonType::Object, _) if prop.properties.is_some() => {
            let nested = groups.get(file)?.nested.get(&(parent.to_owned(), key.to_owned()))?;
            build_expr(index, groups, file, nested, prop, value, used)
        }
        _ => None,
    }
}
