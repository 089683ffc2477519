//! The command line's log: text or JSON lines on stderr, filtered by
//! `RUST_LOG`, else the configuration's `[log] level`, else `info`. The
//! SDK never logs a secret; this only decides where its lines go.

use tracing_subscriber::EnvFilter;
use wecom_openwork::config::{LogConfig, LogFormat};

/// Installs the process's subscriber (once; a second call changes nothing).
pub(crate) fn install(config: &LogConfig, format: Option<LogFormat>) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).map_err(|e| format!("RUST_LOG: {e}"))?
        }
        _ => {
            let level = config.level.as_deref().unwrap_or("info");
            EnvFilter::try_new(level).map_err(|e| format!("log.level: {e}"))?
        }
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format.or(config.format).unwrap_or(LogFormat::Text) {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // Already installed (a second command in one process): keep it.
    let _ = installed;
    Ok(())
}
