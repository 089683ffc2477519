//! `wecom-openwork serve`: the callback side as a service.

use crate::config::application;

pub(crate) fn serve(config: &std::path::Path, listen: std::net::SocketAddr) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = application(config)?;
        let server = app.server();
        let resumed = server.resume().await.map_err(|e| e.to_string())?;
        let router = server.router().route("/healthz", axum::routing::get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("{listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "serving callbacks on http://{local}/callback (resumed {resumed} unfinished authorizations)"
        );
        axum::serve(listener, router).with_graceful_shutdown(stopped()).await.map_err(|e| e.to_string())?;
        server.drain().await;
        println!("stopped");
        Ok(())
    })
}

/// SIGTERM or Ctrl-C.
pub(crate) async fn stopped() {
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
