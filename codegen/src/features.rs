//! Cargo features: every group outside the core is compiled only when the
//! feature named after it is on, so a build carries the groups it asks for
//! and not the other few hundred endpoints.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::error::SpecError;
use crate::load::LoadedSpec;
use crate::spec::SpecFile;

/// The cargo feature of one group outside the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFeature {
    /// The feature's name: the group's (`user`, `customer_acquisition`).
    pub name: String,
    /// The other non-core groups whose types it uses (`$ref`), which the
    /// feature must turn on too.
    pub needs: BTreeSet<String>,
}

/// One feature per non-core group, in spec-file order.
pub fn group_features(specs: &[LoadedSpec]) -> Vec<GroupFeature> {
    let group_of: BTreeMap<&str, &SpecFile> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    specs
        .iter()
        .filter(|l| !l.spec.core)
        .map(|l| GroupFeature {
            name: l.spec.group.clone(),
            needs: referenced_files(&l.spec)
                .iter()
                .filter_map(|file| group_of.get(file.as_str()))
                .filter(|spec| !spec.core && spec.group != l.spec.group)
                .map(|spec| spec.group.clone())
                .collect(),
        })
        .collect()
}

/// The attribute that compiles an item of `spec`'s group only with its
/// feature (nothing for a core group), with the note rustdoc shows.
pub(crate) fn gate(spec: &SpecFile) -> TokenStream {
    if spec.core {
        return TokenStream::new();
    }
    let feature = &spec.group;
    quote! {
        #[cfg(feature = #feature)]
        #[cfg_attr(docsrs, doc(cfg(feature = #feature)))]
    }
}

/// The bare `cfg` of `spec`'s group, for items rustdoc does not show
/// (array elements, match arms).
pub(crate) fn cfg(spec: &SpecFile) -> TokenStream {
    if spec.core {
        return TokenStream::new();
    }
    let feature = &spec.group;
    quote!(#[cfg(feature = #feature)])
}

/// A core group is in every build, so it cannot use a type that only a
/// feature compiles.
pub(crate) fn check_core_refs(specs: &[LoadedSpec]) -> Result<(), SpecError> {
    let by_file: BTreeMap<&str, &SpecFile> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    for loaded in specs.iter().filter(|l| l.spec.core) {
        for file in referenced_files(&loaded.spec) {
            if let Some(other) = by_file.get(file.as_str()).filter(|s| !s.core) {
                return Err(SpecError::new(
                    &loaded.file,
                    format!(
                        "a core group cannot use types of spec/{file}: group `{}` is not core \
                         (mark it `core: true`, or move the shared type to a core file)",
                        other.group
                    ),
                )
                .field("core"));
            }
        }
    }
    Ok(())
}

/// The files of the groups `keep` accepts and of every group whose types
/// they use, transitively: what a build with those groups compiles.
pub(crate) fn kept_files(specs: &[LoadedSpec], keep: &dyn Fn(&SpecFile) -> bool) -> BTreeSet<String> {
    let by_file: BTreeMap<&str, &SpecFile> = specs.iter().map(|l| (l.file.as_str(), &l.spec)).collect();
    let mut todo: Vec<String> = specs.iter().filter(|l| keep(&l.spec)).map(|l| l.file.clone()).collect();
    let mut kept = BTreeSet::new();
    while let Some(file) = todo.pop() {
        if let Some(spec) = by_file.get(file.as_str()).filter(|_| !kept.contains(&file)) {
            todo.extend(referenced_files(spec));
            kept.insert(file);
        }
    }
    kept
}

/// The other spec files `spec` names in a `$ref` (`common.yaml#/…`).
fn referenced_files(spec: &SpecFile) -> BTreeSet<String> {
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    if let Some((file, _)) = reference.split_once('#').filter(|(file, _)| !file.is_empty()) {
                        out.insert(file.to_owned());
                    }
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(&serde_json::to_value(spec).unwrap_or(Value::Null), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(file: &str, yaml: &str) -> LoadedSpec {
        LoadedSpec { file: file.into(), spec: serde_norway::from_str(yaml).expect("a spec") }
    }

    const SHARED: &str = "group: shared\nsummary: s\ndefinitions:\n  Id: { type: string }\n";

    fn user(core: bool) -> LoadedSpec {
        let yaml = format!(
            "group: user\nsummary: u\ncore: {core}\ndefinitions:\n  U:\n    type: object\n    properties:\n      id: {{ $ref: \"shared.yaml#/definitions/Id\" }}\n"
        );
        loaded("user.yaml", &yaml)
    }

    #[test]
    fn a_group_needs_the_non_core_groups_it_refers_to() {
        let specs = [loaded("shared.yaml", SHARED), user(false)];
        let features = group_features(&specs);
        let user = features.iter().find(|f| f.name == "user").expect("a feature");
        assert_eq!(user.needs, BTreeSet::from(["shared".to_owned()]));
        assert!(gate(&specs[1].spec).to_string().contains("feature = \"user\""));
    }

    #[test]
    fn a_kept_group_keeps_the_groups_it_uses() {
        let other = loaded("other.yaml", "group: other\nsummary: o\n");
        let specs = [loaded("shared.yaml", SHARED), user(false), other];
        let kept = kept_files(&specs, &|spec| spec.group == "user");
        assert_eq!(kept, BTreeSet::from(["shared.yaml".to_owned(), "user.yaml".to_owned()]));
        assert!(kept_files(&specs, &|_| false).is_empty());
    }

    #[test]
    fn a_core_group_may_not_refer_to_a_feature_group() {
        let specs = [loaded("shared.yaml", SHARED), user(true)];
        let error = check_core_refs(&specs).expect_err("refused").to_string();
        assert!(error.contains("spec/shared.yaml") && error.contains("`shared`"), "{error}");
        assert!(gate(&specs[1].spec).is_empty());
    }
}
