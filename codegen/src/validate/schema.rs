//! Structural rules for definitions and the schemas inside them: names,
//! docs, types, `$ref`s and where each spec extension may appear.

use std::collections::BTreeMap;

use super::index::{resolve, Index};
use super::reserved::PRELUDE_NAMES;
use crate::error::SpecError;
use crate::spec::{AdditionalProperties, JsonType, SpecSchema};

/// A refused field (a dotted path) and why.
pub(super) type Refusal = (String, String);

pub(super) fn refuse<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, Refusal> {
    Err((field.into(), message.into()))
}

/// Checks schemas of one file, following `$ref`s into the others.
pub(super) struct SchemaChecker<'a> {
    pub(super) file: &'a str,
    pub(super) defs: &'a BTreeMap<String, SpecSchema>,
    pub(super) index: &'a Index<'a>,
}

impl SchemaChecker<'_> {
    /// A named definition: a PascalCase name, not a bare `$ref`, a union or a schema.
    pub(super) fn definition(&self, name: &str, def: &SpecSchema) -> Result<(), SpecError> {
        let at = format!("definitions.{name}");
        let wrap = |(field, message): Refusal| SpecError::new(self.file, message).field(field);
        if !name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            || !name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(wrap((at, "definition names are PascalCase".into())));
        }
        if PRELUDE_NAMES.contains(&name) {
            return Err(wrap((at, format!("`{name}` would shadow the prelude name generated code uses"))));
        }
        if def.reference.is_some() {
            return Err(wrap((at, "a definition must not be a bare `$ref`".into())));
        }
        if def.is_union() {
            return self.union(&at, def).map_err(wrap);
        }
        self.schema(&at, def).map_err(wrap)
    }

    /// Structural rules for one schema node and everything under it.
    fn schema(&self, at: &str, s: &SpecSchema) -> Result<(), Refusal> {
        if s.is_union() || s.variants.is_some() || s.content.is_some() {
            return refuse(
                at,
                "a union (`x-tag`, `x-content`, `x-variants`) must be a definition of its own",
            );
        }
        if s.flatten {
            let target = s.ref_name().and_then(|name| self.defs.get(name));
            if !at.contains(".properties.") || !target.is_some_and(SpecSchema::is_union) {
                return refuse(
                    format!("{at}.x-flatten"),
                    "only a property that `$ref`s a union of this file can be flattened",
                );
            }
        }
        if s.sensitive && (!at.contains(".properties.") || s.ty != Some(JsonType::String)) {
            return refuse(
                format!("{at}.x-sensitive"),
                "only a string property can be sensitive (it is redacted from `Debug`)",
            );
        }
        if let Some(value) = &s.constant {
            if !is_property(at) {
                return refuse(format!("{at}.const"), "only a property can have a `const`");
            }
            // `new` writes the value as a Rust literal of the field's type.
            let fits = match s.ty {
                Some(JsonType::String) => value.is_string(),
                Some(JsonType::Integer) => value.is_i64(),
                _ => false,
            };
            if s.reference.is_some() || !fits {
                return refuse(
                    format!("{at}.const"),
                    format!(
                        "`const` is a literal of the property's `type`, a string or an integer; \
                         found {value}"
                    ),
                );
            }
        }
        if let Some(reference) = &s.reference {
            self.reference(&format!("{at}.$ref"), reference, s)?;
            if s.ty.is_some() || s.properties.is_some() || s.items.is_some() {
                return refuse(at, "`$ref` takes no other structure (only a description)");
            }
            return Ok(());
        }
        if s.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return refuse(at, "missing `description` (every definition and property is documented)");
        }
        let Some(ty) = s.ty else {
            return refuse(at, "missing `type`");
        };
        if s.aliases.is_some() && !at.contains(".properties.") {
            return refuse(format!("{at}.x-aliases"), "only a property can have aliases");
        }
        if let Some(aliases) = &s.aliases {
            if !top_level_property(at) {
                return refuse(
                    format!("{at}.x-aliases"),
                    "aliases are only supported on properties of a named definition",
                );
            }
            if aliases.iter().any(|a| a.is_empty()) {
                return refuse(format!("{at}.x-aliases"), "an alias must not be empty");
            }
        }
        if s.source.as_deref().is_some_and(|source| source.trim().is_empty()) {
            return refuse(
                format!("{at}.x-source"),
                "say where the facts come from, or leave `x-source` out",
            );
        }
        if let Some(format) = s.format.as_deref().filter(|f| f.starts_with("open_")) {
            let known = crate::spec::ID_FORMATS.iter().any(|(f, _)| *f == format);
            if !known || ty != JsonType::String {
                return refuse(
                    format!("{at}.format"),
                    "`open_corpid` and `open_userid` are the id formats, on strings only",
                );
            }
        }
        if s.known_values.is_some() && matches!(ty, JsonType::Array | JsonType::Object) {
            return refuse(format!("{at}.x-known-values"), "only scalars have known values");
        }
        match ty {
            JsonType::Array => {
                let Some(items) = &s.items else {
                    return refuse(at, "an array needs `items`");
                };
                self.schema(&format!("{at}.items"), items)?;
            }
            JsonType::Object => {
                let props = s.properties.as_ref();
                for (key, prop) in props.into_iter().flatten() {
                    if heck::ToSnakeCase::to_snake_case(key.as_str()) == "new" {
                        return refuse(
                            format!("{at}.properties.{key}"),
                            "a property named `new` would clash with the constructor `new`",
                        );
                    }
                    self.schema(&format!("{at}.properties.{key}"), prop)?;
                }
                for req in s.required.iter().flatten() {
                    if !props.is_some_and(|p| p.contains_key(req)) {
                        return refuse(format!("{at}.required"), format!("`{req}` is not a property"));
                    }
                }
                for key in props.into_iter().flatten().filter(|(_, p)| p.flatten).map(|(k, _)| k) {
                    if !s.required.iter().flatten().any(|r| r == key) {
                        return refuse(
                            format!("{at}.properties.{key}"),
                            "a flattened union is required (it carries the tag)",
                        );
                    }
                }
                if let Some(AdditionalProperties::Schema(extra)) = &s.additional_properties {
                    self.schema(&format!("{at}.additionalProperties"), extra)?;
                }
            }
            _ => {
                if s.properties.is_some() || s.items.is_some() || s.required.is_some() {
                    return refuse(at, format!("a {ty:?} has no properties, items or required"));
                }
            }
        }
        Ok(())
    }

    /// A `$ref`'s form and target: `#/definitions/Name` here, or
    /// `file.yaml#/definitions/Name` (an object) in another spec file.
    fn reference(&self, at: &str, reference: &str, s: &SpecSchema) -> Result<(), Refusal> {
        let Some((file, name)) = s.ref_target() else {
            return refuse(
                at,
                format!("`{reference}` is neither `#/definitions/Name` nor `file.yaml#/definitions/Name`"),
            );
        };
        let Some(file) = file else {
            if !self.defs.contains_key(name) {
                return refuse(at, format!("dangling $ref `{reference}`: no such definition in this file"));
            }
            return Ok(());
        };
        let Some(path) = crate::spec::resolve_file(self.file, file) else {
            return refuse(at, format!("`{reference}` leaves the spec directory"));
        };
        if path == self.file {
            return refuse(at, format!("`{reference}` names this file: write `#/definitions/{name}`"));
        }
        let Some(spec) = self.index.get(path.as_str()) else {
            return refuse(at, format!("dangling $ref `{reference}`: no spec file spec/{path}"));
        };
        let Some(def) = spec.definitions.get(name) else {
            return refuse(
                at,
                format!("dangling $ref `{reference}`: spec/{path} has no definition `{name}`"),
            );
        };
        if def.ty != Some(JsonType::Object) {
            return refuse(at, format!("`{reference}` must be an object: only object shapes are shared"));
        }
        if self.defs.contains_key(name) {
            return refuse(
                at,
                format!("`{reference}` has the name of a definition of this file; rename one of them"),
            );
        }
        Ok(())
    }

    /// The definition a `$ref` leads to, with the checker of its file.
    pub(super) fn follow(&self, schema: &SpecSchema) -> Option<(SchemaChecker<'_>, &str, &SpecSchema)> {
        let (file, name, def) = resolve(self.index, self.file, schema)?;
        let spec = self.index.get(file)?;
        Some((SchemaChecker { file, defs: &spec.definitions, index: self.index }, name, def))
    }

    /// An endpoint's query/request/response must be a `$ref` to an object definition.
    pub(super) fn root_ref<'s>(
        &'s self,
        field: &str,
        schema: &'s SpecSchema,
    ) -> Result<(SchemaChecker<'s>, &'s str), Refusal> {
        let Some(reference) = schema.reference.as_deref() else {
            return refuse(field, "must be a `$ref: \"#/definitions/Name\"`");
        };
        self.reference(&format!("{field}.$ref"), reference, schema)?;
        let Some((checker, name, def)) = self.follow(schema) else {
            return refuse(format!("{field}.$ref"), format!("dangling $ref `{reference}`"));
        };
        if def.ty != Some(JsonType::Object) {
            return refuse(format!("{field}.$ref"), format!("`{name}` must be an object"));
        }
        Ok((checker, name))
    }
}

/// `….properties.key`: a property itself (of a definition or of an inline
/// object), not its items or extra members.
fn is_property(at: &str) -> bool {
    let parts: Vec<&str> = at.split('.').collect();
    parts.len() >= 2 && parts[parts.len() - 2] == "properties"
}

/// `definitions.Name.properties.key`, not deeper.
fn top_level_property(at: &str) -> bool {
    let parts: Vec<&str> = at.split('.').collect();
    parts.len() == 4 && parts[0] == "definitions" && parts[2] == "properties"
}
