//! The generator of the wecom-openwork typed client.
//!
//! YAML endpoint specs (see `spec/README.md`) go in; formatted Rust comes out:
//! one module per group with its request/response types (made by typify),
//! endpoint descriptors, and typed methods on the `Provider`, `Suite` and
//! `Corp` handles, a table that calls any endpoint by name with JSON (for the
//! CLI's `call`), and an OpenAPI 3.1 document of every endpoint
//! ([`openapi::openapi_json`]). The library's `build.rs` calls [`generate_dir`] on every
//! build; the `wecom-openwork-codegen` binary writes the same output to
//! `generated/` for people to read and review.

#![warn(missing_docs)]

mod dispatch;
pub mod error;
pub mod events;
mod events_spec;
pub mod features;
pub mod generate;
pub mod load;
mod names;
pub mod openapi;
pub mod sensitive;
pub mod spec;
mod tokens;
mod types;
pub mod validate;
mod xml_sample;

use std::path::Path;

pub use error::SpecError;
pub use generate::GeneratedFile;
pub use load::LoadedSpec;

/// Loads and checks every endpoint spec in `spec_dir`.
pub fn load_and_check(spec_dir: &Path) -> Result<Vec<LoadedSpec>, SpecError> {
    let specs = load::load_dir(spec_dir)?;
    validate::check_all(&specs)?;
    Ok(specs)
}

/// Loads, checks and generates: the whole pipeline over one spec directory
/// (endpoint specs, and `events.yaml` when present).
pub fn generate_dir(spec_dir: &Path) -> Result<Vec<GeneratedFile>, SpecError> {
    generate_dir_groups(spec_dir, &|_| true)
}

/// As [`generate_dir`], with the group files of only the groups `keep`
/// accepts and those their types use (see [`generate::generate_groups`]).
pub fn generate_dir_groups(
    spec_dir: &Path,
    keep: &dyn Fn(&spec::SpecFile) -> bool,
) -> Result<Vec<GeneratedFile>, SpecError> {
    let mut files = generate::generate_groups(&load_and_check(spec_dir)?, keep)?;
    let events_path = spec_dir.join("events.yaml");
    if events_path.exists() {
        let text = std::fs::read_to_string(&events_path)
            .map_err(|e| SpecError::new("events.yaml", format!("cannot read: {e}")))?;
        files.push(generate_events(&text)?);
        files.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(files)
}

/// Generates `events.rs` from the text of `events.yaml`.
pub fn generate_events(text: &str) -> Result<GeneratedFile, SpecError> {
    let spec = events::parse(text)?;
    Ok(GeneratedFile {
        name: "events.rs".into(),
        contents: tokens::format(events::generate(&spec)?, "spec/events.yaml"),
    })
}

/// Generates from spec texts given as `(file name, YAML)` pairs, as if they
/// were files of one spec directory.
pub fn generate_from_texts(texts: &[(&str, &str)]) -> Result<Vec<GeneratedFile>, SpecError> {
    let mut specs = texts
        .iter()
        .map(|(file, text)| Ok(LoadedSpec { file: (*file).to_owned(), spec: load::parse(file, text)? }))
        .collect::<Result<Vec<_>, SpecError>>()?;
    specs.sort_by(|a, b| a.file.cmp(&b.file));
    validate::check_all(&specs)?;
    generate::generate(&specs)
}
