//! `wecom-openwork emulator`: the local WeCom as a process.

use crate::config::toml_error;

pub(crate) fn run_emulator(
    port: u16,
    config: Option<std::path::PathBuf>,
    realtime: bool,
    strict: bool,
) -> Result<(), String> {
    use wecom_openwork::clock::ManualClock;
    use wecom_openwork::emulator::{Emulator, EmulatorConfig};
    let mut config = match config {
        None => EmulatorConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let parsed = if path.extension().is_some_and(|x| x == "json") {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                toml::from_str(&text).map_err(|e| toml_error(&e, &text))
            };
            parsed.map_err(|e| format!("{}: {e}", path.display()))?
        }
    };
    config.realtime |= realtime;
    config.strict |= strict;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let emulator =
            Emulator::bind(addr, ManualClock::starting_now(), config).await.map_err(|e| e.to_string())?;
        println!("emulator listening on {}", emulator.base_uri());
        println!(
            "controls: {}/__emulator/openapi.json (stats, faults, clock/advance, suite_ticket, authorize, events, reset, …)",
            emulator.base_uri()
        );
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
        drop(emulator);
        Ok(())
    })
}
