//! The application's configuration, as every command reads it, and
//! `wecom-openwork config check`.

use clap::Subcommand;

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

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a configuration and print what `serve` would use.
    Check {
        /// The application's configuration (TOML, or JSON by extension).
        #[arg(long)]
        config: std::path::PathBuf,
        /// The store's URL, as `serve --store` would take it.
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
}

/// `config check`: the configuration validated, then what `serve` would use,
/// as JSON with every secret redacted and the store by its absolute place.
pub(crate) fn check(path: &std::path::Path, store: Option<String>) -> Result<(), String> {
    let mut config = load_config(path)?;
    if let Some(url) = store {
        config.store.url = Some(url.into());
    }
    config.validate().map_err(|e| format!("{}: {e}", path.display()))?;
    let store = config.store_kind().map_err(|e| e.to_string())?;
    let mut shown = serde_json::to_value(&config).map_err(|e| e.to_string())?;
    if let Some(fields) = shown.as_object_mut() {
        let default = config.store.url.is_none();
        fields.insert(
            "store".into(),
            serde_json::json!({ "location": store.to_string(), "default": default, "timeout": config.store.timeout }),
        );
    }
    println!("{}", serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?);
    Ok(())
}
