//! `wecom-openwork emulator`: the local WeCom as a process.

use crate::config::toml_error;

/// Runs the emulator until Ctrl-C: on the wall clock, like WeCom, unless
/// `manual_clock` (or the config's `realtime = false`) keeps it still.
pub(crate) fn run_emulator(
    port: u16,
    config: Option<std::path::PathBuf>,
    manual_clock: bool,
    strict: bool,
) -> Result<(), String> {
    use wecom_openwork::clock::ManualClock;
    use wecom_openwork::emulator::{Emulator, EmulatorConfig};
    let (mut config, realtime_set) = match config {
        None => (EmulatorConfig::default(), false),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let (parsed, set) = if path.extension().is_some_and(|x| x == "json") {
                let set = serde_json::from_str::<serde_json::Value>(&text)
                    .is_ok_and(|v| v.get("realtime").is_some());
                (serde_json::from_str(&text).map_err(|e| e.to_string()), set)
            } else {
                let set = text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("realtime"));
                (toml::from_str(&text).map_err(|e| toml_error(&e, &text)), set)
            };
            (parsed.map_err(|e| format!("{}: {e}", path.display()))?, set)
        }
    };
    if manual_clock {
        config.realtime = false;
    } else if !realtime_set {
        config.realtime = true;
    }
    config.strict |= strict;
    let realtime = config.realtime;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let emulator =
            Emulator::bind(addr, ManualClock::starting_now(), config).await.map_err(|e| e.to_string())?;
        println!("emulator listening on {}", emulator.base_uri());
        let clock = if realtime { "the wall clock" } else { "a manual clock (moved by POST /__emulator/clock/advance)" };
        println!("clock: {clock}");
        println!(
            "controls: {}/__emulator/openapi.json (stats, faults, clock/advance, suite_ticket, authorize, events, reset, …)",
            emulator.base_uri()
        );
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
        drop(emulator);
        Ok(())
    })
}
