//! An endpoint's documented example must match its schemas and use only
//! declared keys, or decoding it would lose data.

use std::collections::BTreeSet;

use serde_json::Value;

use super::reserved::ENVELOPE_KEYS;
use super::schema::{refuse, Refusal, SchemaChecker};
use crate::spec::{AdditionalProperties, JsonType, SpecSchema, UnionContent};

impl SchemaChecker<'_> {
    /// An example must match its schema, and use only declared keys.
    pub(super) fn example(
        &self,
        at: &str,
        value: &Value,
        schema: &SpecSchema,
        response_root: bool,
    ) -> Result<(), Refusal> {
        if let Some(reference) = &schema.reference {
            let Some((checker, _, def)) = self.follow(schema) else {
                return refuse(at, format!("dangling $ref `{reference}`"));
            };
            return checker.example(at, value, def, response_root);
        }
        let mismatch = |expected: &str| {
            refuse::<()>(at, format!("example does not match its schema: expected {expected}, found {value}"))
        };
        if schema.is_union() {
            let Some(map) = value.as_object() else {
                return mismatch("an object");
            };
            let consumed = self.union_example(at, map, schema)?;
            if let Some(key) = map.keys().find(|k| !consumed.contains(*k)) {
                return refuse(
                    format!("{at}.{key}"),
                    "example uses a key its schema does not declare (it would be lost when decoded)",
                );
            }
            return Ok(());
        }
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
                let mut flattened = BTreeSet::new();
                for prop in schema.properties.iter().flat_map(|p| p.values()).filter(|p| p.flatten) {
                    let Some((checker, _, union)) = self.follow(prop) else { continue };
                    flattened.extend(checker.union_example(at, map, union)?);
                }
                let props = schema.properties.as_ref();
                for req in schema.required.iter().flatten() {
                    if props.and_then(|p| p.get(req)).is_some_and(|p| p.flatten) {
                        continue;
                    }
                    if !map.contains_key(req) {
                        return refuse(
                            at,
                            format!("example does not match its schema: required `{req}` is missing"),
                        );
                    }
                }
                for (key, member) in map {
                    let at = format!("{at}.{key}");
                    if flattened.contains(key) || (response_root && ENVELOPE_KEYS.contains(&key.as_str())) {
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
        if let Some(constant) = schema.constant.as_ref().filter(|c| *c != value) {
            return refuse(
                at,
                format!(
                    "example does not match its schema: the value is always {constant} (`const`), \
                     found {value}"
                ),
            );
        }
        Ok(())
    }

    /// Checks the members of `map` that belong to `union` (its tag and the
    /// chosen variant's content) and returns their keys.
    fn union_example(
        &self,
        at: &str,
        map: &serde_json::Map<String, Value>,
        union: &SpecSchema,
    ) -> Result<BTreeSet<String>, Refusal> {
        let tag = union.tag.as_deref().unwrap_or_default();
        let Some(value) = map.get(tag).and_then(Value::as_str) else {
            return refuse(at, format!("example does not match its schema: the tag `{tag}` is missing"));
        };
        let Some(variant) = union.variants.as_ref().and_then(|v| v.get(value)) else {
            return refuse(format!("{at}.{tag}"), format!("example names `{value}`, which is not a variant"));
        };
        let mut consumed = BTreeSet::from([tag.to_owned()]);
        match union.content {
            Some(UnionContent::Keyed) => {
                let Some(content) = map.get(value) else {
                    return refuse(at, format!("example does not match its schema: `{value}` is missing"));
                };
                self.example(&format!("{at}.{value}"), content, variant, false)?;
                consumed.insert(value.to_owned());
            }
            _ => {
                let Some((checker, _, def)) = self.follow(variant) else {
                    return refuse(at, format!("dangling variant `{value}`"));
                };
                let declared = def.properties.as_ref();
                let mut rest = map.clone();
                rest.retain(|k, _| k != tag && declared.is_some_and(|p| p.contains_key(k)));
                checker.example(at, &Value::Object(rest.clone()), def, false)?;
                consumed.extend(rest.keys().cloned());
            }
        }
        Ok(consumed)
    }
}
