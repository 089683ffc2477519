//! The callback server's own HTTP listener, for running it as a service
//! (`wecom-openwork serve`): the callback URLs, `/healthz`, `/readyz` and,
//! when given, `/metrics`, with every limit a public endpoint needs (header,
//! body and request timeouts, a connection limit, a bounded drain). An app
//! with a web framework of its own mounts [`CallbackServer::router`] instead.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::{CallbackResponse, CallbackServer, CallbackUrl};
use crate::config::ServerConfig;
use crate::ids::SuiteId;

/// Renders the metrics text for `GET /metrics` (Prometheus's exposition).
pub type MetricsText = Arc<dyn Fn() -> String + Send + Sync>;

/// How a [`CallbackServer::listen`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    /// Whether every request and every piece of background work ended
    /// within the drain; what did not resumes from the store.
    pub drained: bool,
}

type Answer = Response<Full<Bytes>>;

fn answer(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn text(status: u16, body: &'static str) -> Answer {
    answer(status, "text/plain; charset=utf-8", body)
}

impl From<CallbackResponse> for Answer {
    fn from(response: CallbackResponse) -> Answer {
        answer(response.status, response.content_type, response.body)
    }
}

/// Which callback URL a path is, under `/callback`.
fn callback_url(path: &str) -> Option<CallbackUrl> {
    let rest = path.strip_prefix("/callback/")?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("system"), None, _, _) => Some(CallbackUrl::System),
        (Some("command"), Some(suite), None, _) if !suite.is_empty() => {
            Some(CallbackUrl::Command(SuiteId::new(suite)))
        }
        // A trailing corp id (WeCom's `$CORPID$`) is accepted and ignored.
        (Some("data"), Some(suite), _, None) if !suite.is_empty() => {
            Some(CallbackUrl::Data(SuiteId::new(suite)))
        }
        _ => None,
    }
}

impl CallbackServer {
    /// Serves on `listener` until `shutdown` resolves: the callback URLs
    /// under `/callback` (as [`CallbackServer::router`] has them),
    /// `GET /healthz` (the process answers), `GET /readyz` (the store
    /// answers) and, with `metrics`, `GET /metrics`. Each connection gets
    /// `limits.header_timeout` for a request's headers, each request
    /// `limits.body_timeout` for its body (else 408) and
    /// `limits.request_timeout` in all (else 503, which WeCom retries); at
    /// most `limits.max_connections` are served at once.
    ///
    /// Then it stops taking connections, lets the requests in flight finish
    /// and waits for the background work, all within `limits.drain`; what
    /// is left is stopped and resumes from the store.
    pub async fn listen(
        &self,
        listener: TcpListener,
        limits: &ServerConfig,
        metrics: Option<MetricsText>,
        shutdown: impl Future<Output = ()>,
    ) -> Stopped {
        let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let (stop, stopping) = watch::channel(false);
        let context = Arc::new(Context { server: self.clone(), limits: limits.clone(), metrics });
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = connections.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: pause, don't spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let (context, mut stopping) = (context.clone(), stopping.clone());
            tokio::spawn(async move {
                let header_timeout = ServerConfig::seconds(context.limits.header_timeout);
                let service = hyper::service::service_fn(move |request| {
                    let context = context.clone();
                    async move { Ok::<_, std::convert::Infallible>(context.handle(request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(connection);
                let stop = async move {
                    // The guard `wait_for` answers is not `Send`: dropped here.
                    let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
                };
                tokio::select! {
                    _ = connection.as_mut() => {}
                    () = stop => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
                drop(permit);
            });
        }
        drop(listener);
        let drain = ServerConfig::seconds(limits.drain);
        let deadline = tokio::time::Instant::now() + drain;
        tracing::info!(drain = ?drain, "stopping: no new connections; draining the requests in flight");
        let _ = stop.send(true);
        // Every permit back: every connection ended.
        let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
        let requests_done = tokio::time::timeout_at(deadline, connections.acquire_many(all)).await.is_ok();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let background_done = self.shutdown(left).await;
        Stopped { drained: requests_done && background_done }
    }
}

/// What every request of a listener shares.
struct Context {
    server: CallbackServer,
    limits: ServerConfig,
    metrics: Option<MetricsText>,
}

impl Context {
    /// One request, within the request timeout.
    async fn handle(&self, request: Request<Incoming>) -> Answer {
        let limit = ServerConfig::seconds(self.limits.request_timeout);
        match tokio::time::timeout(limit, self.route(request)).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::warn!(timeout = ?limit, "a request ran out of time; answered 503 (WeCom retries it)");
                text(503, "timed out")
            }
        }
    }

    async fn route(&self, request: Request<Incoming>) -> Answer {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        match (method.clone(), path.as_str()) {
            (Method::GET, "/healthz") => return text(200, "ok"),
            (Method::GET, "/readyz") => return self.ready().await,
            (Method::GET, "/metrics") => {
                return match &self.metrics {
                    Some(render) => answer(200, "text/plain; version=0.0.4; charset=utf-8", render()),
                    None => text(404, "no metrics here"),
                }
            }
            _ => {}
        }
        let Some(url) = callback_url(&path) else { return text(404, "not found") };
        let query = request.uri().query().unwrap_or_default().to_owned();
        let max_body = self.server.max_body;
        let body_limit = ServerConfig::seconds(self.limits.body_timeout);
        let read = Limited::new(request.into_body(), max_body.saturating_add(1)).collect();
        let body = match tokio::time::timeout(body_limit, read).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                // `serve` answers (and counts) an oversized body itself.
                Bytes::from(vec![0; max_body.saturating_add(1)])
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, url = ?url, "a request's body could not be read");
                return text(400, "unreadable body");
            }
            Err(_) => {
                tracing::warn!(timeout = ?body_limit, url = ?url, "a request's body did not arrive in time; answered 408");
                return text(408, "body timeout");
            }
        };
        self.server.serve(&url, method.as_str(), &query, &body).await.into()
    }

    /// Ready when the store answers.
    async fn ready(&self) -> Answer {
        let store = self.server.app.store();
        let limit = Duration::from_secs_f64(self.server.app.config().store.timeout);
        match tokio::time::timeout(limit, store.get_record("readyz")).await {
            Ok(Ok(_)) => text(200, "ready"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the store fails");
                text(503, "store unavailable")
            }
            Err(_) => text(503, "store unavailable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_paths_are_read_as_the_router_reads_them() {
        assert_eq!(callback_url("/callback/system"), Some(CallbackUrl::System));
        assert_eq!(callback_url("/callback/command/ww1"), Some(CallbackUrl::Command(SuiteId::new("ww1"))));
        assert_eq!(callback_url("/callback/data/ww1"), Some(CallbackUrl::Data(SuiteId::new("ww1"))));
        assert_eq!(callback_url("/callback/data/ww1/wwcorp"), Some(CallbackUrl::Data(SuiteId::new("ww1"))));
        for bad in [
            "/callback",
            "/callback/",
            "/callback/command/",
            "/callback/command/a/b",
            "/other",
            "/callback/data/a/b/c",
        ] {
            assert_eq!(callback_url(bad), None, "{bad}");
        }
    }
}
