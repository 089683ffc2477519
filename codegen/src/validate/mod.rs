//! The rules a spec must follow beyond its shape: names, tokens, references,
//! documentation, forward-compatible responses, and examples that match.

mod across;
mod endpoint;
mod example;
mod file;
mod index;
mod reserved;
mod response;
mod schema;
mod union;

use std::collections::BTreeMap;

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::SpecFile;

pub use crate::names::{is_keyword, is_snake_ident};
pub use index::{handle_of, resolve, Index};
pub use reserved::{ENVELOPE_KEYS, PRELUDE_NAMES, RESERVED_HANDLE_NAMES};

/// Checks every file, then the rules that span files (unique groups, unique
/// method and accessor names per handle).
pub fn check_all(specs: &[LoadedSpec]) -> Result<(), SpecError> {
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
    for loaded in specs {
        file::check_file_in(&index, &loaded.file, &loaded.spec)?;
        if let Some(first) = groups.insert(&loaded.spec.group, &loaded.file) {
            return Err(SpecError::new(
                &loaded.file,
                format!("group `{}` is already defined in spec/{first}", loaded.spec.group),
            )
            .field("group"));
        }
    }
    across::check_handle_names(specs)?;
    crate::features::check_core_refs(specs)?;
    across::check_paths(specs)
}

/// Checks one file on its own (its cross-file `$ref`s cannot resolve).
pub fn check_file(file: &str, spec: &SpecFile) -> Result<(), SpecError> {
    let index: Index<'_> = [(file, spec)].into_iter().collect();
    file::check_file_in(&index, file, spec)
}
