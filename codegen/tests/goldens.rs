//! Golden tests, one folder per generator feature under `tests/goldens/`: a
//! small spec that exercises just that feature, and beside it every file
//! the generator makes of it. A change to the output shows up here, in a
//! file small enough to review.
//!
//! `BLESS=1 cargo test -p wecom-openwork-codegen --test goldens` rewrites
//! the expected files (and removes those no longer generated).

use std::fs;
use std::path::{Path, PathBuf};

use wecom_openwork_codegen::{generate_dir, generate_events, GeneratedFile};

fn goldens() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goldens")
}

fn is_spec(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "yaml")
}

/// What the generator makes of a golden folder: every file of
/// `generate_dir`, or only `events.rs` when the folder holds just `events.yaml`.
fn generate(dir: &Path) -> Vec<GeneratedFile> {
    let endpoint_specs = fs::read_dir(dir)
        .expect("a golden folder")
        .flatten()
        .any(|e| is_spec(&e.path()) && e.file_name() != "events.yaml");
    if endpoint_specs {
        return generate_dir(dir).unwrap_or_else(|e| panic!("{}: the spec is refused: {e}", dir.display()));
    }
    let text = fs::read_to_string(dir.join("events.yaml")).expect("events.yaml");
    vec![generate_events(&text).unwrap_or_else(|e| panic!("{}: events.yaml is refused: {e}", dir.display()))]
}

/// Where two texts first differ, to point at in a failure.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut e, mut a) = (expected.lines(), actual.lines());
    for line in 1.. {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                return format!(
                    "first difference at line {line}:\n  expected: {}\n  actual:   {}",
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                )
            }
        }
    }
    "the texts differ only in their final newline".into()
}

#[test]
fn every_feature_generates_its_golden_files() {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let mut features: Vec<PathBuf> = fs::read_dir(goldens())
        .expect("tests/goldens")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    features.sort();
    assert!(!features.is_empty(), "no golden folders under {}", goldens().display());
    let mut failures = Vec::new();
    for dir in &features {
        let feature = dir.file_name().expect("a folder name").to_string_lossy().into_owned();
        let files = generate(dir);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        for file in &files {
            let path = dir.join(&file.name);
            let expected = fs::read_to_string(&path).ok();
            if expected.as_deref() == Some(file.contents.as_str()) {
                continue;
            }
            if bless {
                fs::write(&path, &file.contents).expect("writable");
                continue;
            }
            failures.push(match expected {
                None => format!(
                    "golden `{feature}`: `{}` is generated but not expected (missing file)",
                    file.name
                ),
                Some(expected) => format!(
                    "golden `{feature}`: `{}` differs from what is generated; {}",
                    file.name,
                    first_difference(&expected, &file.contents)
                ),
            });
        }
        for entry in fs::read_dir(dir).expect("a golden folder").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_spec(&path) || names.contains(&name.as_str()) {
                continue;
            }
            if bless {
                fs::remove_file(&path).expect("removable");
            } else {
                failures.push(format!("golden `{feature}`: `{name}` is expected but no longer generated"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended, rerun with BLESS=1 and review the diff of tests/goldens/.",
        failures.join("\n")
    );
}
