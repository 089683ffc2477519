//! Reading spec files: YAML text to [`SpecFile`], with errors that name the
//! endpoint and field at fault.

use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::SpecError;
use crate::spec::SpecFile;

/// Files under `spec/` that are not endpoint specs (they have formats of their own).
pub const NOT_ENDPOINT_SPECS: &[&str] = &["events.yaml", "errors.yaml"];

/// A spec file and its path relative to the spec directory.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSpec {
    /// Path relative to the spec directory, with `/` separators (e.g. `corp/user.yaml`).
    pub file: String,
    /// The parsed spec.
    pub spec: SpecFile,
}

/// Every endpoint spec below `dir` (recursively), sorted by path.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedSpec>, SpecError> {
    let mut files = Vec::new();
    collect_yaml(dir, dir, &mut files)?;
    files.sort();
    let mut specs = Vec::with_capacity(files.len());
    for file in files {
        let text = fs::read_to_string(dir.join(&file))
            .map_err(|e| SpecError::new(&file, format!("cannot read: {e}")))?;
        let spec = parse(&file, &text)?;
        specs.push(LoadedSpec { file, spec });
    }
    Ok(specs)
}

fn collect_yaml(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), SpecError> {
    let entries = fs::read_dir(dir)
        .map_err(|e| SpecError::new(&dir.display().to_string(), format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| SpecError::new(&dir.display().to_string(), e.to_string()))?;
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(root, &path, out)?;
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let is_yaml = relative.ends_with(".yaml") || relative.ends_with(".yml");
        if is_yaml && !NOT_ENDPOINT_SPECS.contains(&relative.as_str()) {
            out.push(relative);
        }
    }
    Ok(())
}

/// The first line every spec file carries, so that editors validate it
/// against the format's JSON Schema (`schema` is `schema.json` or
/// `events.schema.json`; `file` is relative to the spec directory).
pub fn modeline(file: &str, schema: &str) -> String {
    let up = "../".repeat(file.matches('/').count());
    let dir = if up.is_empty() { "./".to_owned() } else { up };
    format!("# yaml-language-server: $schema={dir}{schema}")
}

/// Refuses a file whose first line is not its [`modeline`].
pub fn check_modeline(file: &str, text: &str, schema: &str) -> Result<(), SpecError> {
    let expected = modeline(file, schema);
    if text.lines().next().map(str::trim_end) != Some(expected.as_str()) {
        return Err(SpecError::new(
            file,
            format!("the first line must be `{expected}` (editors validate the file against it)"),
        )
        .field("$schema"));
    }
    Ok(())
}

/// Parses one spec file's text. `file` is only used to label errors.
pub fn parse(file: &str, text: &str) -> Result<SpecFile, SpecError> {
    check_modeline(file, text, "schema.json")?;
    let yaml = yaml_text_to_value(text).map_err(|m| SpecError::new(file, m))?;
    let json = yaml_to_json(yaml.clone()).map_err(|m| SpecError::new(file, m))?;
    serde_path_to_error::deserialize::<_, SpecFile>(yaml).map_err(|e| {
        let path = e.path().to_string();
        let (endpoint, mut field) = locate(&json, &path);
        let message = e.into_inner().to_string();
        // serde names a missing field in its message, not in the path.
        if let Some(missing) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next())
        {
            field = match field.as_str() {
                "" | "." => missing.to_owned(),
                parent => format!("{parent}.{missing}"),
            };
        }
        let mut err = SpecError::new(file, message);
        if let Some(endpoint) = endpoint {
            err = err.endpoint(&endpoint);
        }
        if !field.is_empty() && field != "." {
            err = err.field(field);
        }
        err
    })
}

/// A YAML document with every mapping key as text (`0: formal` → `"0"`), in
/// the order the file lists them: what the spec types deserialize from.
pub fn yaml_text_to_value(text: &str) -> Result<serde_norway::Value, String> {
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    string_keys(yaml)
}

fn string_keys(value: serde_norway::Value) -> Result<serde_norway::Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Sequence(items) => Y::Sequence(items.into_iter().map(string_keys).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = serde_norway::Mapping::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(Y::String(key), string_keys(v)?);
            }
            Y::Mapping(out)
        }
        Y::Tagged(tagged) => return Err(format!("YAML tags are not supported ({})", tagged.tag)),
        other => other,
    })
}

/// Splits a serde path such as `endpoints[2].token` into the endpoint's name
/// (as written in the file, or `#2` when it has none) and the field within it.
fn locate(json: &Value, path: &str) -> (Option<String>, String) {
    let Some(rest) = path.strip_prefix("endpoints[") else {
        return (None, path.to_owned());
    };
    let Some((index, field)) = rest.split_once(']') else {
        return (None, path.to_owned());
    };
    let name = index.parse::<usize>().ok().map(|i| {
        json.get("endpoints")
            .and_then(|e| e.get(i))
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_owned)
    });
    (name, field.trim_start_matches('.').to_owned())
}

/// A YAML document as JSON, the form the spec schema and the loader check.
pub fn yaml_text_to_json(text: &str) -> Result<Value, String> {
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    yaml_to_json(yaml)
}

/// YAML allows non-string keys (`0: formal`); JSON does not, so scalar keys
/// become their text.
fn yaml_to_json(value: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("number {n} has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => return Err(format!("YAML tags are not supported ({})", tagged.tag)),
    })
}
