//! Rules that span files: each handle has one method or accessor per name,
//! and each path (legacy ones included) belongs to one endpoint.

use std::collections::{BTreeMap, BTreeSet};

use super::index::handle_of;
use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::HandleKind;

/// No two groups put the same method or accessor name on one handle.
pub(super) fn check_handle_names(specs: &[LoadedSpec]) -> Result<(), SpecError> {
    // Names on each handle: flat methods and accessors, with the file that put them there.
    let mut names: BTreeMap<(HandleKind, &str), (&str, &str)> = BTreeMap::new();
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
    Ok(())
}

/// One endpoint per path, legacy paths included: the emulator routes by path.
pub(super) fn check_paths(specs: &[LoadedSpec]) -> Result<(), SpecError> {
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
