//! Specs to Rust: typify for the types, quote for endpoints and methods,
//! prettyplease for the layout. The output depends on nothing but the specs.
//!
//! A group file holds, in this order: `types`, `endpoints`, then per handle
//! the group's calls: a `{Handle}{Group}` struct with one three-line method
//! per endpoint and the accessor that hands it out (`suite.oauth()`), or,
//! for a `flat` group, the methods on the handle itself.

mod descriptor;
mod example;
mod group_file;
mod method;
mod mod_file;
mod naming;
mod paging;
mod roots;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::SpecFile;
use crate::types::{self, GroupTypes};
use crate::validate::{resolve, Index};

use example::accessor_example;
use group_file::group_file;
use mod_file::mod_file;
use naming::handles_of;
use roots::root_docs;

/// One output file: its name inside the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name, e.g. `suite.rs`.
    pub name: String,
    /// The file's text: formatted Rust source, or JSON for `openapi.json`.
    pub contents: String,
}

/// Generates `mod.rs`, one `<group>.rs` per spec, `dispatch.rs` (the one
/// per-endpoint table: every endpoint callable by name with JSON, for the
/// CLI's `call` and the endpoint tests) and `openapi.json` (the OpenAPI 3.1 document of
/// every endpoint, see [`crate::openapi`]), sorted by name. The specs must have passed
/// [`crate::validate::check_all`].
pub fn generate(specs: &[LoadedSpec]) -> Result<Vec<GeneratedFile>, SpecError> {
    generate_groups(specs, &|_| true)
}

/// As [`generate`], with the `<group>.rs` of only the groups `keep` accepts
/// and of the groups their types use: what `build.rs` makes for a build
/// (the core and the groups whose features are on), so the build's work
/// does not grow with the groups it leaves out. `mod.rs`, `dispatch.rs` and
/// `openapi.json` still name every group, each behind its feature; a kept
/// group's file is the same text as in the whole generation.
pub fn generate_groups(
    specs: &[LoadedSpec],
    keep: &dyn Fn(&SpecFile) -> bool,
) -> Result<Vec<GeneratedFile>, SpecError> {
    let kept = crate::features::kept_files(specs, keep);
    let index: Index<'_> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut groups = BTreeMap::new();
    for loaded in specs {
        groups.insert(loaded.file.clone(), types::typify_group(&index, &loaded.file)?);
    }
    let inputs = input_types(&index);
    let built = built_types(&groups, &inputs);
    let roots = root_docs(&index);
    let mut examples = BTreeMap::new();
    // Every group is typified (which types users build is decided across
    // groups); only kept groups are finished and written.
    let specs_kept = || specs.iter().filter(|l| kept.contains(&l.file));
    for loaded in specs_kept() {
        for handle in handles_of(&loaded.spec) {
            let example = accessor_example(&index, &groups, &loaded.file, handle);
            examples.insert((loaded.file.clone(), handle), example);
        }
    }
    // Every group's types first: a call's request type may live in another
    // group, and its method takes that type's constructor parameters.
    let mut finished = BTreeMap::new();
    let mut constructors = BTreeMap::new();
    for loaded in specs_kept() {
        let group = groups.remove(&loaded.file).expect("typified above");
        let roots = roots.get(&loaded.file).cloned().unwrap_or_default();
        let finish = types::Finish { built: &built, inputs: &inputs, roots };
        let (types, made) = types::finish(group, &finish);
        finished.insert(loaded.file.clone(), types);
        constructors.extend(made.into_iter().map(|(name, c)| ((loaded.file.clone(), name), c)));
    }
    let mut files = Vec::new();
    for loaded in specs_kept() {
        let types = finished.remove(&loaded.file).expect("finished above");
        let contents = group_file(&loaded.file, &loaded.spec, types, &index, &examples, &constructors);
        files.push(GeneratedFile { name: format!("{}.rs", loaded.spec.group), contents });
    }
    files.push(GeneratedFile { name: "mod.rs".into(), contents: mod_file(specs, &index) });
    files.push(GeneratedFile { name: "dispatch.rs".into(), contents: crate::dispatch::dispatch_file(specs) });
    files.push(GeneratedFile { name: "openapi.json".into(), contents: crate::openapi::openapi_json(specs) });
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The request and query types of the calls, by (file, name).
fn input_types(index: &Index<'_>) -> BTreeSet<(String, String)> {
    let mut inputs = BTreeSet::new();
    for (file, spec) in index {
        for e in &spec.endpoints {
            for schema in [&e.query, &e.request].into_iter().flatten() {
                if let Some((owner, name, _)) = resolve(index, file, schema) {
                    inputs.insert((owner.to_owned(), name.to_owned()));
                }
            }
        }
    }
    inputs
}

/// Every type users build: reachable from a request or a query, across files.
fn built_types(
    groups: &BTreeMap<String, GroupTypes>,
    inputs: &BTreeSet<(String, String)>,
) -> BTreeSet<(String, String)> {
    let mut todo: Vec<(String, String)> = inputs.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    while let Some((file, name)) = todo.pop() {
        if !seen.insert((file.clone(), name.clone())) {
            continue;
        }
        let Some(group) = groups.get(&file) else { continue };
        for word in group.edges.get(&name).into_iter().flatten() {
            match group.imports.get(word) {
                Some((owner, _)) => todo.push((owner.clone(), word.clone())),
                None => todo.push((file.clone(), word.clone())),
            }
        }
    }
    seen
}
