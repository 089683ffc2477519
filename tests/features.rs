//! The cargo features in `Cargo.toml` match the specs: one per group
//! outside the core, each turning on the groups whose types it uses;
//! `all-apis` has them all, and the emulator (which answers every
//! endpoint) has `all-apis`. A group added to `spec/` without its feature,
//! or a new cross-group `$ref` without the dependency, fails here rather
//! than in a user's build with some other set of features.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use wecom_openwork_codegen::features::group_features;

fn cargo_features() -> BTreeMap<String, BTreeSet<String>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = toml::from_str(&text).expect("Cargo.toml parses");
    let features = manifest["features"].as_table().expect("a [features] table");
    features
        .iter()
        .map(|(name, list)| {
            let items = list.as_array().expect("a feature is a list");
            (name.clone(), items.iter().map(|v| v.as_str().expect("a string").to_owned()).collect())
        })
        .collect()
}

fn spec_features() -> Vec<wecom_openwork_codegen::features::GroupFeature> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = wecom_openwork_codegen::load_and_check(&root.join("spec")).expect("the specs are valid");
    group_features(&specs)
}

#[test]
fn every_group_outside_the_core_has_its_feature_with_what_it_uses() {
    let declared = cargo_features();
    let groups = spec_features();
    assert!(groups.len() >= 20, "the corp groups are features: {}", groups.len());
    for group in &groups {
        let Some(turns_on) = declared.get(&group.name) else {
            panic!("Cargo.toml has no feature `{}` for spec group `{0}`", group.name);
        };
        assert_eq!(
            turns_on, &group.needs,
            "feature `{}` must turn on exactly the groups its spec $refs",
            group.name
        );
    }
}

#[test]
fn all_apis_has_every_group_and_the_emulator_has_all_apis() {
    let declared = cargo_features();
    let groups: BTreeSet<String> = spec_features().into_iter().map(|g| g.name).collect();
    assert_eq!(declared["all-apis"], groups, "all-apis lists every group feature");
    assert!(declared["emulator"].contains("all-apis"), "the emulator answers every endpoint");
    assert!(declared["default"].is_empty(), "the default build is the core alone");
}

#[test]
fn the_core_is_in_every_build_and_the_rest_is_not() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mod_rs = std::fs::read_to_string(root.join("generated/mod.rs")).expect("generated/mod.rs");
    let gated: BTreeSet<String> = spec_features().into_iter().map(|g| g.name).collect();
    for group in ["authorization", "suite", "provider", "oauth", "jsapi", "corpgroup", "customized", "common"]
    {
        assert!(!gated.contains(group), "`{group}` is core: the runtime calls it");
        assert!(!mod_rs.contains(&format!("feature = \"{group}\"")), "`{group}` is not gated");
    }
    for group in &gated {
        let module = format!("#[cfg(feature = \"{group}\")]\n#[cfg_attr(docsrs, doc(cfg(feature = \"{group}\")))]\npub mod {group} {{");
        assert!(mod_rs.contains(&module), "api::{group} is compiled only with its feature");
    }
}
