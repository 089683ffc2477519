//! `spec/events.yaml`: the callback events WeCom pushes, and the Rust they
//! become (`wecom_openwork::events`). See `spec/EVENTS.md` for the format.
//!
//! Checking the spec (`check`) and making its Rust (`generate`) are apart:
//! the generator relies on what the check has refused.

mod check;
mod generate;

use crate::error::SpecError;
pub use crate::events_spec::*;
pub use generate::generate;

/// Parses and checks `events.yaml`.
pub fn parse(text: &str) -> Result<EventsSpec, SpecError> {
    crate::load::check_modeline(FILE, text, "events.schema.json")?;
    let yaml = crate::load::yaml_text_to_value(text).map_err(|m| SpecError::new(FILE, m))?;
    let spec: EventsSpec = serde_path_to_error::deserialize(yaml)
        .map_err(|e| SpecError::new(FILE, e.inner().to_string()).field(e.path().to_string()))?;
    check::check(&spec)?;
    Ok(spec)
}
