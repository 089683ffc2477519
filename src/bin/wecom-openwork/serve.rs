//! `wecom-openwork serve`: the callback side as a service, with its log,
//! its metrics, its limits and a bounded drain.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use wecom_openwork::config::LogFormat;

use crate::config::load_config;
use crate::logs;

/// Runs the service until SIGTERM or Ctrl-C (a second one exits at once).
pub(crate) fn serve(
    config: &Path,
    listen: SocketAddr,
    store: Option<String>,
    log_format: Option<LogFormat>,
) -> Result<(), String> {
    let mut config = load_config(config)?;
    if let Some(url) = store {
        config.store.url = Some(url.into());
    }
    logs::install(&config.log, log_format)?;
    let store_kind = config.store_kind().map_err(|e| e.to_string())?;
    if config.store.url.is_none() {
        tracing::warn!(store = %store_kind, "no [store] url configured: using the default SQLite file in the working directory (set [store] url or --store to be explicit)");
    } else {
        tracing::info!(store = %store_kind, "store");
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let metrics = wecom_openwork::metrics::install_prometheus().map_err(|e| e.to_string())?;
        let limits = config.server.clone();
        let app = wecom_openwork::Application::new(config).map_err(|e| e.to_string())?;
        let server = app.server();
        let resumed = server.resume().await.map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("{listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "serving callbacks on http://{local}/callback (resumed {resumed} unfinished authorizations; store {store_kind})"
        );
        tracing::info!(address = %local, resumed, "serving callbacks");
        let render: wecom_openwork::server::MetricsText = Arc::new(move || metrics.render());
        let stopped = server.listen(listener, &limits, Some(render), first_signal()).await;
        if stopped.drained {
            tracing::info!("stopped: every request and exchange finished");
        } else {
            tracing::warn!("stopped before everything finished; what was left resumes from the store");
        }
        println!("stopped");
        Ok(())
    })
}

/// The first SIGTERM or Ctrl-C; a second one ends the process at once.
async fn first_signal() {
    signal().await;
    tracing::info!("signal received: draining (a second signal exits at once)");
    tokio::spawn(async {
        signal().await;
        eprintln!("second signal: exiting at once");
        std::process::exit(130);
    });
}

/// SIGTERM or Ctrl-C.
async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
