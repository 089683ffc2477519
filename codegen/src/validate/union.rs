//! Rules for a tagged union definition (`x-tag`).

use std::collections::BTreeSet;

use super::schema::{refuse, Refusal, SchemaChecker};
use crate::spec::{JsonType, SpecSchema, UnionContent};

impl SchemaChecker<'_> {
    /// A tagged union: a tag, where the content sits, and variants that are
    /// object definitions of this file.
    pub(super) fn union(&self, at: &str, def: &SpecSchema) -> Result<(), Refusal> {
        if def.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return refuse(at, "missing `description` (every definition and property is documented)");
        }
        let structural = def.ty.is_some()
            || def.properties.is_some()
            || def.items.is_some()
            || def.required.is_some()
            || def.additional_properties.is_some()
            || def.known_values.is_some()
            || def.flatten;
        if structural {
            return refuse(at, "a union (`x-tag`) takes only `description`, `x-content` and `x-variants`");
        }
        let tag = def.tag.as_deref().unwrap_or_default();
        if tag.is_empty() {
            return refuse(format!("{at}.x-tag"), "must name the member that says which variant it is");
        }
        let Some(content) = def.content else {
            return refuse(format!("{at}.x-content"), "missing: `keyed` or `inline`");
        };
        let Some(variants) = def.variants.as_ref().filter(|v| !v.is_empty()) else {
            return refuse(format!("{at}.x-variants"), "a union needs at least one variant");
        };
        let mut idents = BTreeSet::new();
        for (value, variant) in variants {
            let at = format!("{at}.x-variants.{value}");
            let plain = value.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !plain {
                return refuse(at, "a tag value must be lowercase letters, digits and `_`");
            }
            if !idents.insert(heck::ToUpperCamelCase::to_upper_camel_case(value.as_str())) {
                return refuse(at, "two tag values make the same variant name");
            }
            let target = variant.ref_name().and_then(|name| Some((name, self.defs.get(name)?)));
            let Some((name, target)) = target else {
                return refuse(at, "a variant is a `$ref` to an object definition of this file");
            };
            let extra = variant.ty.is_some() || variant.properties.is_some() || variant.items.is_some();
            let shape_ok =
                target.ty == Some(JsonType::Object) || (content == UnionContent::Keyed && target.is_union());
            if extra || !shape_ok {
                return refuse(
                    at,
                    format!(
                        "a variant is a `$ref` to an object definition (or, keyed, a union), not `{name}`"
                    ),
                );
            }
            let declares_tag = target.properties.as_ref().is_some_and(|p| p.contains_key(tag));
            if content == UnionContent::Inline && declares_tag {
                return refuse(
                    at,
                    format!("`{name}` declares the tag `{tag}`; the union writes it, so leave it out"),
                );
            }
        }
        Ok(())
    }
}
