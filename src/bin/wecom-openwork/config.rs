//! The application's configuration, as every command reads it.

/// Reads an application's configuration: JSON by extension, else TOML.
pub(crate) fn load_config(path: &std::path::Path) -> Result<wecom_openwork::Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = if path.extension().is_some_and(|x| x == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| toml_error(&e, &text))
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}

/// A TOML error as its message and where it is, without the source line
/// toml's `Display` quotes (it may hold a secret).
pub(crate) fn toml_error(error: &toml::de::Error, text: &str) -> String {
    let Some(start) = error.span().map(|span| span.start.min(text.len())) else {
        return error.message().trim_end().to_owned();
    };
    let before = text.as_bytes().get(..start).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    format!("TOML parse error at line {line}, column {column}: {}", error.message().trim_end())
}

pub(crate) fn application(path: &std::path::Path) -> Result<wecom_openwork::Application, String> {
    wecom_openwork::Application::new(load_config(path)?).map_err(|e| e.to_string())
}
