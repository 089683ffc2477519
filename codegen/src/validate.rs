//! The rules a spec must follow beyond its shape: names, tokens, references,
//! documentation, forward-compatible responses, and examples that match.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::{
    AdditionalProperties, Endpoint, HandleKind, HttpMethod, JsonType, SpecFile, SpecSchema, TokenKind,
    UnionContent, Upload,
};

/// Keys of the response envelope; the runtime consumes them.
pub const ENVELOPE_KEYS: &[&str] = &["errcode", "errmsg"];

/// Names the handles already use (or the runtime keeps for itself): no
/// accessor or flat method may take them.
pub const RESERVED_HANDLE_NAMES: &[&str] = &[
    "call",
    "call_upload",
    "call_with_token",
    "check_app_kind",
    "client",
    "clone",
    "corp_id",
    "new",
    "scope",
    "suite_id",
];

/// Names generated code uses from the prelude; a definition may not shadow them.
pub const PRELUDE_NAMES: &[&str] = &[
    "Box",
    "Clone",
    "Debug",
    "Default",
    "Eq",
    "Err",
    "From",
    "Into",
    "None",
    "Ok",
    "Option",
    "PartialEq",
    "Result",
    "Self",
    "Some",
    "String",
    "Vec",
];

/// Every loaded spec file by its path (relative to the spec directory).
pub type Index<'a> = BTreeMap<&'a str, &'a SpecFile>;

/// Where a `$ref` in `from` leads: the defining file (as keyed in `index`),
/// the definition's name and the definition.
pub fn resolve<'a>(
    index: &Index<'a>,
    from: &str,
    schema: &SpecSchema,
) -> Option<(&'a str, &'a str, &'a SpecSchema)> {
    let (file, name) = schema.ref_target()?;
    let file = match file {
        None => from.to_owned(),
        Some(target) => crate::spec::resolve_file(from, target)?,
    };
    let (key, spec) = index.get_key_value(file.as_str())?;
    let (name, def) = spec.definitions.get_key_value(name)?;
    Some((key, name, def))
}

/// Checks every file, then the rules that span files (unique groups, unique
/// method and accessor names per handle).
pub fn check_all(specs: &[LoadedSpec]) -> Result<(), SpecError> {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
    // Names on each handle: flat methods and accessors, with the file that put them there.
    let mut names: BTreeMap<(HandleKind, &str), (&str, &str)> = BTreeMap::new();
    for loaded in specs {
        check_file_in(&index, &loaded.file, &loaded.spec)?;
        if let Some(first) = groups.insert(&loaded.spec.group, &loaded.file) {
            return Err(SpecError::new(
                &loaded.file,
                format!("group `{}` is already defined in spec/{first}", loaded.spec.group),
            )
            .field("group"));
        }
    }
    for loaded in specs {
        let spec = &loaded.spec;
        let handles: BTreeSet<HandleKind> = spec.endpoints.iter().filter_map(handle_of).collect();
        if spec.flat {
            for endpoint in &spec.endpoints {
                let handle = handle_of(endpoint).unwrap_or(HandleKind::Provider);
                if let Some((first, what)) = names.insert((handle, &endpoint.name), (&loaded.file, "method"))
                {
                    return Err(SpecError::new(
                        &loaded.file,
                        format!(
                            "duplicate method name: the {handle:?} handle already has {what} `{}` (spec/{first})",
                            endpoint.name
                        ),
                    )
                    .endpoint(&endpoint.name)
                    .field("name"));
                }
            }
        } else {
            for handle in handles {
                let accessor = spec.accessor_name();
                if let Some((first, what)) = names.insert((handle, accessor), (&loaded.file, "accessor")) {
                    return Err(SpecError::new(
                        &loaded.file,
                        format!(
                            "the {handle:?} handle already has {what} `{accessor}` (spec/{first}); \
                             set another `accessor`"
                        ),
                    )
                    .field(if spec.accessor.is_some() { "accessor" } else { "group" }));
                }
            }
        }
    }
    // One endpoint per path, legacy paths included: the emulator routes by path.
    let mut paths: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for loaded in specs {
        for endpoint in &loaded.spec.endpoints {
            let all = std::iter::once(&endpoint.path).chain(&endpoint.legacy_paths);
            for path in all {
                if let Some((file, name)) = paths.insert(path, (&loaded.file, &endpoint.name)) {
                    return Err(SpecError::new(
                        &loaded.file,
                        format!("path `{path}` is already taken by `{name}` (spec/{file})"),
                    )
                    .endpoint(&endpoint.name)
                    .field("path"));
                }
            }
        }
    }
    Ok(())
}

/// The handle an endpoint's method hangs on, if the spec determines one.
pub fn handle_of(endpoint: &Endpoint) -> Option<HandleKind> {
    endpoint.handle.or(match endpoint.token {
        TokenKind::Provider => Some(HandleKind::Provider),
        TokenKind::Suite => Some(HandleKind::Suite),
        TokenKind::Corp => Some(HandleKind::Corp),
        TokenKind::Registration => Some(HandleKind::Provider),
        TokenKind::None => None,
    })
}

/// Checks one file on its own (its cross-file `$ref`s cannot resolve).
pub fn check_file(file: &str, spec: &SpecFile) -> Result<(), SpecError> {
    let index: Index<'_> = [(file, spec)].into_iter().collect();
    check_file_in(&index, file, spec)
}

fn check_file_in(index: &Index<'_>, file: &str, spec: &SpecFile) -> Result<(), SpecError> {
    if !is_snake_ident(&spec.group) {
        return Err(SpecError::new(file, "must be a snake_case Rust identifier").field("group"));
    }
    if spec.summary.trim().is_empty() {
        return Err(SpecError::new(file, "must not be empty").field("summary"));
    }
    if let Some(accessor) = &spec.accessor {
        if spec.flat {
            return Err(
                SpecError::new(file, "a flat group has no accessor: drop one of the two").field("accessor")
            );
        }
        if !is_snake_ident(accessor) {
            return Err(SpecError::new(file, "must be a snake_case Rust identifier").field("accessor"));
        }
    }
    if !spec.flat && RESERVED_HANDLE_NAMES.contains(&spec.accessor_name()) {
        return Err(SpecError::new(
            file,
            format!(
                "`{}` is a name the handles keep for themselves; set another `accessor`",
                spec.accessor_name()
            ),
        )
        .field(if spec.accessor.is_some() { "accessor" } else { "group" }));
    }
    let checker = SchemaChecker { file, defs: &spec.definitions, index };
    for (name, def) in &spec.definitions {
        checker.definition(name, def)?;
    }
    let mut seen = BTreeSet::new();
    for endpoint in &spec.endpoints {
        let err = |field: &str, message: String| {
            SpecError::new(file, message).endpoint(&endpoint.name).field(field)
        };
        if !seen.insert(endpoint.name.as_str()) {
            return Err(err("name", "duplicate method name in this file".into()));
        }
        if spec.flat && RESERVED_HANDLE_NAMES.contains(&endpoint.name.as_str()) {
            return Err(err(
                "name",
                format!("`{}` is a name the handles keep for themselves", endpoint.name),
            ));
        }
        check_endpoint(&checker, endpoint).map_err(|(field, message)| err(&field, message))?;
    }
    Ok(())
}

type Refusal = (String, String);

fn refuse<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, Refusal> {
    Err((field.into(), message.into()))
}

fn check_endpoint(checker: &SchemaChecker<'_>, e: &Endpoint) -> Result<(), Refusal> {
    if !is_snake_ident(&e.name) {
        return refuse("name", "must be a snake_case Rust identifier");
    }
    if e.summary.trim().is_empty() {
        return refuse("summary", "must not be empty");
    }
    if !e.doc.starts_with("https://") {
        return refuse("doc", "must be the https URL of the official page");
    }
    if e.path.trim().is_empty() {
        return refuse("path", "missing path");
    }
    if !e.path.starts_with('/') || e.path.contains(['?', '#', ' ']) {
        return refuse("path", "must start with `/` and carry no query, fragment or space");
    }
    match (e.token, e.handle) {
        (TokenKind::None, None) => {
            return refuse("handle", "an endpoint with token `none` must name its handle");
        }
        (token, Some(handle)) if !handle.can_carry(token) => {
            return refuse("handle", format!("the {handle:?} handle cannot obtain a {token:?} token"));
        }
        _ => {}
    }
    if let Some(kinds) = &e.app_kinds {
        if kinds.is_empty() {
            return refuse("app_kinds", "must name at least one app kind (leave it out to allow every kind)");
        }
        if kinds.iter().collect::<BTreeSet<_>>().len() != kinds.len() {
            return refuse("app_kinds", "names an app kind twice");
        }
        if handle_of(e).is_none_or(|h| h == HandleKind::Provider) {
            return refuse(
                "app_kinds",
                "only endpoints on the suite or corp handle can be limited to app kinds: \
                 the provider handle speaks for no suite",
            );
        }
    }
    if let Some(param) = &e.token_param {
        if e.token == TokenKind::None {
            return refuse("token_param", "an endpoint with token `none` carries no token");
        }
        if param.is_empty() || !param.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return refuse("token_param", "must be a plain query parameter name");
        }
    }
    if e.method == HttpMethod::Get && e.request.is_some() {
        return refuse("request", "a GET request carries no body; use `query`");
    }
    if let Some(upload) = &e.upload {
        check_upload(checker, e, upload)?;
    }
    for legacy in &e.legacy_paths {
        if !legacy.starts_with('/') || legacy.contains(['?', '#', ' ']) || *legacy == e.path {
            return refuse(
                "legacy_paths",
                "each is another path: starting with `/`, without query or fragment",
            );
        }
    }
    for (field, schema, is_response) in [
        ("query", e.query.as_ref(), false),
        ("request", e.request.as_ref(), false),
        ("response", Some(&e.response), true),
    ] {
        let Some(schema) = schema else { continue };
        let (root, name) = checker.root_ref(field, schema)?;
        if is_response {
            root.no_required(&format!("definitions.{name}"), name, &mut BTreeSet::new())?;
        }
    }
    if let Some(query) = &e.query {
        if let Some((name, props)) =
            checker.follow(query).and_then(|(_, name, d)| Some((name, d.properties.as_ref()?)))
        {
            for (key, prop) in props {
                let scalar = matches!(
                    prop.ty,
                    Some(JsonType::String | JsonType::Integer | JsonType::Number | JsonType::Boolean)
                );
                if !scalar {
                    return refuse(
                        format!("definitions.{name}.properties.{key}"),
                        "query parameters must be scalars",
                    );
                }
            }
        }
    }
    for (field, schema, value) in [
        ("query", e.query.as_ref(), e.example.query.as_ref()),
        ("request", e.request.as_ref(), e.example.request.as_ref()),
    ] {
        match (schema, value) {
            (Some(_), None) => {
                return refuse(format!("example.{field}"), format!("missing; the endpoint has `{field}`"))
            }
            (None, Some(_)) => {
                return refuse(
                    format!("example.{field}"),
                    format!("given, but the endpoint has no `{field}`"),
                )
            }
            (Some(schema), Some(value)) => {
                checker.example(&format!("example.{field}"), value, schema, false)?
            }
            (None, None) => {}
        }
    }
    checker.example("example.response", &e.example.response, &e.response, true)?;
    Ok(())
}

/// An upload is a POST whose body is the file; its limits are consistent
/// and keyed by a query parameter.
fn check_upload(checker: &SchemaChecker<'_>, e: &Endpoint, upload: &Upload) -> Result<(), Refusal> {
    if e.method != HttpMethod::Post || e.request.is_some() {
        return refuse("upload", "an upload is a POST whose body is the file: no `request`");
    }
    if upload.field.is_empty() || !upload.field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return refuse("upload.field", "must be a plain form field name");
    }
    if upload.max_bytes == 0 || upload.min_bytes > upload.max_bytes {
        return refuse("upload.max_bytes", "must be positive and at least `min_bytes`");
    }
    match (&upload.limit_by, upload.limits.is_empty()) {
        (None, true) => {}
        (Some(param), false) => {
            let declared = e
                .query
                .as_ref()
                .and_then(|q| checker.follow(q))
                .and_then(|(_, _, def)| def.properties.as_ref())
                .is_some_and(|p| p.contains_key(param));
            if !declared {
                return refuse("upload.limit_by", format!("`{param}` is not a query parameter"));
            }
            if let Some((value, _)) =
                upload.limits.iter().find(|(_, l)| **l > upload.max_bytes || **l < upload.min_bytes)
            {
                return refuse(format!("upload.limits.{value}"), "must lie within min_bytes..=max_bytes");
            }
        }
        _ => return refuse("upload", "`limit_by` and `limits` go together"),
    }
    Ok(())
}

struct SchemaChecker<'a> {
    file: &'a str,
    defs: &'a BTreeMap<String, SpecSchema>,
    index: &'a Index<'a>,
}

impl SchemaChecker<'_> {
    fn definition(&self, name: &str, def: &SpecSchema) -> Result<(), SpecError> {
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

    /// A tagged union: a tag, where the content sits, and variants that are
    /// object definitions of this file.
    fn union(&self, at: &str, def: &SpecSchema) -> Result<(), Refusal> {
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
    fn follow(&self, schema: &SpecSchema) -> Option<(SchemaChecker<'_>, &str, &SpecSchema)> {
        let (file, name, def) = resolve(self.index, self.file, schema)?;
        let spec = self.index.get(file)?;
        Some((SchemaChecker { file, defs: &spec.definitions, index: self.index }, name, def))
    }

    /// An endpoint's query/request/response must be a `$ref` to an object definition.
    fn root_ref<'s>(
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

    /// Response data belongs to WeCom: a field it omits must still decode.
    fn no_required(&self, at: &str, name: &str, seen: &mut BTreeSet<String>) -> Result<(), Refusal> {
        if !seen.insert(format!("{}#{name}", self.file)) {
            return Ok(());
        }
        let Some(def) = self.defs.get(name) else {
            return Ok(());
        };
        self.no_required_in(at, def, seen)
    }

    fn no_required_in(&self, at: &str, s: &SpecSchema, seen: &mut BTreeSet<String>) -> Result<(), Refusal> {
        if s.reference.is_some() {
            if let Some((checker, name, _)) = self.follow(s) {
                let at = if checker.file == self.file {
                    format!("definitions.{name}")
                } else {
                    format!("spec/{}: definitions.{name}", checker.file)
                };
                return checker.no_required(&at, name, seen);
            }
            return Ok(());
        }
        if s.required.as_ref().is_some_and(|r| !r.is_empty()) {
            return refuse(
                format!("{at}.required"),
                "response fields are all optional: WeCom may omit any of them",
            );
        }
        if let Some(items) = &s.items {
            self.no_required_in(&format!("{at}.items"), items, seen)?;
        }
        for (key, prop) in s.properties.iter().flatten() {
            self.no_required_in(&format!("{at}.properties.{key}"), prop, seen)?;
        }
        for (value, variant) in s.variants.iter().flatten() {
            self.no_required_in(&format!("{at}.x-variants.{value}"), variant, seen)?;
        }
        if let Some(AdditionalProperties::Schema(extra)) = s.additional_properties.as_ref() {
            self.no_required_in(&format!("{at}.additionalProperties"), extra, seen)?;
        }
        Ok(())
    }

    /// An example must match its schema, and use only declared keys.
    fn example(
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
        Ok(())
    }
}

impl SchemaChecker<'_> {
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

/// `definitions.Name.properties.key`, not deeper.
fn top_level_property(at: &str) -> bool {
    let parts: Vec<&str> = at.split('.').collect();
    parts.len() == 4 && parts[0] == "definitions" && parts[2] == "properties"
}

pub use crate::names::{is_keyword, is_snake_ident};
