//! The rules for one spec file: its group, accessor, definitions and
//! endpoint names.

use std::collections::BTreeSet;

use super::endpoint::check_endpoint;
use super::index::Index;
use super::reserved::RESERVED_HANDLE_NAMES;
use super::schema::SchemaChecker;
use crate::error::SpecError;
use crate::names::is_snake_ident;
use crate::spec::SpecFile;

/// Checks one file, resolving cross-file `$ref`s through `index`.
pub(super) fn check_file_in(index: &Index<'_>, file: &str, spec: &SpecFile) -> Result<(), SpecError> {
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
