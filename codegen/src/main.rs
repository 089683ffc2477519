//! `wecom-openwork-codegen`: regenerates `generated/` (the Rust and
//! `openapi.json`), `spec/schema.json` and `spec/events.schema.json` from
//! `spec/`, or checks that they are current.

use std::path::PathBuf;
use std::process::ExitCode;

use wecom_openwork_codegen::generate_dir;
use wecom_openwork_codegen::spec::{events_schema_json, format_schema_json};

const USAGE: &str = "usage: wecom-openwork-codegen [--check] [--spec DIR] [--out DIR]

Reads the endpoint specs in DIR (default: spec/ of the workspace), writes the
generated Rust and the OpenAPI 3.1 document openapi.json to --out (default:
generated/) and the JSON Schemas of the two spec formats to <spec>/schema.json
and <spec>/events.schema.json. With --check, writes nothing and exits 1 when
any of them is stale.";

fn main() -> ExitCode {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().map_or(manifest.clone(), PathBuf::from);
    let mut spec_dir = root.join("spec");
    let mut out_dir = root.join("generated");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--spec" | "--out" => {
                let Some(value) = args.next() else {
                    eprintln!("{arg} needs a directory\n\n{USAGE}");
                    return ExitCode::from(2);
                };
                if arg == "--spec" {
                    spec_dir = value.into();
                } else {
                    out_dir = value.into();
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let files = match generate_dir(&spec_dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut outputs: Vec<(PathBuf, String)> =
        files.into_iter().map(|f| (out_dir.join(f.name), f.contents)).collect();
    outputs.push((spec_dir.join("schema.json"), format_schema_json()));
    outputs.push((spec_dir.join("events.schema.json"), events_schema_json()));
    let mut stale = Vec::new();
    for (path, contents) in &outputs {
        if std::fs::read_to_string(path).ok().as_deref() != Some(contents.as_str()) {
            stale.push(path.clone());
        }
    }
    let expected: Vec<&PathBuf> = outputs.iter().map(|(p, _)| p).collect();
    let extra: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && !expected.contains(&p))
        .collect();
    if check {
        for path in stale.iter().chain(&extra) {
            eprintln!("stale: {}", path.display());
        }
        return if stale.is_empty() && extra.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("error: cannot create {}: {e}", out_dir.display());
        return ExitCode::FAILURE;
    }
    for path in &extra {
        if let Err(e) = std::fs::remove_file(path) {
            eprintln!("error: cannot remove {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("removed {}", path.display());
    }
    for (path, contents) in &outputs {
        if stale.contains(path) {
            if let Err(e) = std::fs::write(path, contents) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            println!("wrote {}", path.display());
        }
    }
    ExitCode::SUCCESS
}
