//! `generated/` is exactly what the generator makes of `spec/` today.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn generated_dir_equals_a_fresh_generation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fresh = wecom_openwork_codegen::generate_dir(&root.join("spec")).expect("the specs are valid");
    let hint = "generated/ is stale: run `cargo run -p wecom-openwork-codegen`";
    for file in &fresh {
        let committed = std::fs::read_to_string(root.join("generated").join(&file.name)).unwrap_or_default();
        assert!(committed == file.contents, "{hint} (generated/{} differs)", file.name);
    }
    let expected: BTreeSet<&str> = fresh.iter().map(|f| f.name.as_str()).collect();
    let present: BTreeSet<String> = std::fs::read_dir(root.join("generated"))
        .expect("generated/ exists")
        .map(|e| e.expect("readable").file_name().to_string_lossy().into_owned())
        .collect();
    let extra: Vec<&String> = present.iter().filter(|n| !expected.contains(n.as_str())).collect();
    assert!(extra.is_empty(), "{hint} (extra files {extra:?})");
}

/// A build generates the core and the groups whose features are on (and
/// what their types use), each file the same text as the whole generation's.
#[test]
fn a_build_generates_only_its_groups_and_the_same_text() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let spec = root.join("spec");
    let whole = wecom_openwork_codegen::generate_dir(&spec).expect("the specs are valid");
    let keep = |s: &wecom_openwork_codegen::spec::SpecFile| s.core || s.group == "contact";
    let some = wecom_openwork_codegen::generate_dir_groups(&spec, &keep).expect("valid");
    let names: BTreeSet<&str> = some.iter().map(|f| f.name.as_str()).collect();
    // contact.yaml uses media's types, so media comes with it.
    for needed in
        ["authorization.rs", "suite.rs", "common.rs", "contact.rs", "media.rs", "mod.rs", "dispatch.rs"]
    {
        assert!(names.contains(needed), "{needed} is generated: {names:?}");
    }
    for left_out in ["user.rs", "license.rs", "externalcontact.rs"] {
        assert!(!names.contains(left_out), "{left_out} is not generated");
    }
    for file in &some {
        let same = whole.iter().find(|w| w.name == file.name).expect("in the whole generation");
        assert!(same.contents == file.contents, "{} differs from the whole generation", file.name);
    }
}

#[test]
fn the_library_exposes_every_spec_endpoint() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = wecom_openwork_codegen::load_and_check(&root.join("spec")).expect("valid");
    let from_specs: Vec<(String, String, String)> = specs
        .iter()
        .flat_map(|l| l.spec.endpoints.iter().map(|e| (l.spec.group.clone(), e.name.clone(), e.path.clone())))
        .collect();
    let compiled: Vec<(String, String, String)> = wecom_openwork::ENDPOINTS
        .iter()
        .map(|e| (e.group.to_owned(), e.name.to_owned(), e.path.to_owned()))
        .collect();
    assert_eq!(compiled, from_specs);
}

#[test]
fn generated_code_has_no_per_group_boilerplate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("generated")).expect("generated/ exists") {
        let path = entry.expect("readable").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path.display();
        // typify's error module serves conversions the generated types never make.
        assert!(!text.contains("ConversionError"), "{name} carries typify's ConversionError");
        assert!(!text.contains("pub mod error"), "{name} carries an error module");
        // Prelude names, not `::std::…` paths.
        for long in
            ["::std::option::Option", "::std::string::String", "::std::vec::Vec", "::std::result::Result"]
        {
            assert!(!text.contains(long), "{name} spells out {long}");
        }
    }
}

/// No `Debug` of a generated type shows a sensitive value: every endpoint's
/// example (with its `x-sensitive` values replaced by markers) decodes into
/// its types, whose `Debug` shows none of the markers, while serde still
/// decodes and re-encodes them.
#[test]
fn debug_never_shows_a_sensitive_value() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = wecom_openwork_codegen::load_and_check(&root.join("spec")).expect("valid");
    let mut checked = 0;
    for loaded in &specs {
        for e in &loaded.spec.endpoints {
            let label = format!("{}.{}", loaded.spec.group, e.name);
            let endpoint = wecom_openwork::ENDPOINTS
                .iter()
                .find(|x| x.group == loaded.spec.group && x.name == e.name)
                .expect("every spec'd endpoint is compiled");
            let callable =
                wecom_openwork::api::dispatch::callable(endpoint).expect("every endpoint is callable");
            let marked = wecom_openwork_codegen::sensitive::mark_example(&specs, &loaded.file, e);
            let text =
                (callable.debug_text)(marked.query.clone(), marked.request.clone(), marked.response.clone())
                    .unwrap_or_else(|err| panic!("{label}: {err}"));
            for marker in &marked.markers {
                assert!(!text.contains(marker.as_str()), "{label}: Debug shows a sensitive value:\n{text}");
                checked += 1;
            }
            let again = (callable.reencode_reply)(marked.response.clone()).expect("decodes");
            assert_eq!(
                again.to_string().matches("sensitive-value-").count(),
                marked.response.to_string().matches("sensitive-value-").count(),
                "{label}: serde keeps the sensitive values"
            );
        }
    }
    assert!(checked >= 20, "only {checked} sensitive values in the examples");
}
