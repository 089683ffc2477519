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
