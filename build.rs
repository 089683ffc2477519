//! Generates the typed API from `spec/` into `OUT_DIR` on every build where a
//! spec changed; `src/lib.rs` includes the result.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=spec");
    let spec_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo")).join("spec");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    // The core, and the groups whose features are on (cargo sets
    // CARGO_FEATURE_<NAME> for each): a group left out is not generated.
    let enabled = |spec: &wecom_openwork_codegen::spec::SpecFile| {
        spec.core || std::env::var_os(format!("CARGO_FEATURE_{}", spec.group.to_uppercase())).is_some()
    };
    let files = match wecom_openwork_codegen::generate_dir_groups(&spec_dir, &enabled) {
        Ok(files) => files,
        Err(e) => {
            // A bad spec stops the build with the file, endpoint and field named.
            eprintln!("error: {e}");
            println!("cargo:warning={e}");
            std::process::exit(1);
        }
    };
    for file in files {
        let path = out_dir.join(&file.name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(file.contents.as_str()) {
            std::fs::write(&path, file.contents)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    }
}
