//! `spec/schema.json` is current, and every spec file validates against it.

use std::path::PathBuf;

use wecom_openwork_codegen::load::{load_dir, yaml_text_to_json};
use wecom_openwork_codegen::spec::format_schema_json;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(spec_dir().join("schema.json")).expect("spec/schema.json exists");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema.json is JSON");
    jsonschema::validator_for(&schema).expect("schema.json is a valid JSON Schema")
}

#[test]
fn schema_json_is_fresh() {
    let committed = std::fs::read_to_string(spec_dir().join("schema.json")).expect("spec/schema.json exists");
    assert!(
        committed == format_schema_json(),
        "spec/schema.json is stale: run `cargo run -p wecom-openwork-codegen`"
    );
}

#[test]
fn every_spec_file_validates_against_the_schema() {
    let validator = validator();
    let specs = load_dir(&spec_dir()).expect("specs load");
    assert!(specs.len() >= 4, "expected the spec files, found {}", specs.len());
    for loaded in specs {
        let text = std::fs::read_to_string(spec_dir().join(&loaded.file)).expect("readable");
        let json = yaml_text_to_json(&text).expect("YAML");
        let errors: Vec<String> =
            validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "spec/{} does not match spec/schema.json:\n{}",
            loaded.file,
            errors.join("\n")
        );
    }
}

#[test]
fn the_schema_refuses_what_the_generator_refuses() {
    let validator = validator();
    let spec = serde_json::json!({
        "group": "demo",
        "summary": "s",
        "endpoints": [{
            "name": "x", "summary": "s", "doc": "https://d", "method": "POST", "path": "/p",
            "token": "supplier",
            "response": { "$ref": "#/definitions/R" },
            "example": { "response": {} }
        }],
        "definitions": { "R": { "type": "object", "description": "r", "enum": [1] } }
    });
    let errors: Vec<String> = validator.iter_errors(&spec).map(|e| e.instance_path().to_string()).collect();
    assert!(errors.iter().any(|p| p.contains("token")), "{errors:?}");
    assert!(errors.iter().any(|p| p.contains("definitions")), "{errors:?}");
}

#[test]
fn events_schema_json_is_fresh_and_events_yaml_validates_against_it() {
    use wecom_openwork_codegen::spec::events_schema_json;
    let committed = std::fs::read_to_string(spec_dir().join("events.schema.json"))
        .expect("spec/events.schema.json exists");
    assert!(
        committed == events_schema_json(),
        "spec/events.schema.json is stale: run `cargo run -p wecom-openwork-codegen`"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let text = std::fs::read_to_string(spec_dir().join("events.yaml")).expect("readable");
    let json = yaml_text_to_json(&text).expect("YAML");
    let errors: Vec<String> =
        validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "spec/events.yaml does not match spec/events.schema.json:\n{}",
        errors.join("\n")
    );
}
