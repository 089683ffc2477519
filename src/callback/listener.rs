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
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
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
        let (finish, finished) = watch::channel(false);
        let context = Arc::new(Context { server: self.clone(), limits: limits.clone(), metrics });
        let workers = match limits.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let loops = EventLoops::start(workers, &context, &stopping, &finished);
        tokio::pin!(shutdown);
        let mut next = 0usize;
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
            next = next.wrapping_add(1);
            match loops.handoff(next, stream, permit) {
                Ok(()) => {}
                // No event loops of its own (one worker), or one is gone: here.
                Err((stream, permit)) => {
                    tokio::spawn(serve_connection(context.clone(), stream, stopping.clone(), permit));
                }
            }
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
        // The event loops ran background work too: they end only now.
        let _ = finish.send(true);
        loops.join().await;
        Stopped { drained: requests_done && background_done }
    }
}

/// Serves one connection until it ends, or gracefully once `stopping`.
async fn serve_connection(
    context: Arc<Context>,
    stream: tokio::net::TcpStream,
    mut stopping: watch::Receiver<bool>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
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
}

/// A connection on its way to an event loop.
type Handoff = (std::net::TcpStream, tokio::sync::OwnedSemaphorePermit);

/// Event loops of their own: one thread each, with a single-threaded
/// runtime, each serving the connections handed to it. A connection's
/// requests then stay on one thread (no wake-ups across threads, no
/// stealing), which on a small machine serves more pushes than one shared
/// runtime; the runtimes live until the drain is over, since background
/// work started by a request runs on them.
struct EventLoops {
    senders: Vec<std::sync::mpsc::Sender<Handoff>>,
    wakers: Vec<tokio::sync::mpsc::UnboundedSender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl EventLoops {
    fn start(
        workers: usize,
        context: &Arc<Context>,
        stopping: &watch::Receiver<bool>,
        finished: &watch::Receiver<bool>,
    ) -> EventLoops {
        let mut loops = EventLoops { senders: Vec::new(), wakers: Vec::new(), threads: Vec::new() };
        if workers <= 1 {
            return loops;
        }
        for n in 0..workers {
            let (send, receive) = std::sync::mpsc::channel::<Handoff>();
            let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel::<()>();
            let (context, stopping, mut finished) = (context.clone(), stopping.clone(), finished.clone());
            let spawned = std::thread::Builder::new().name(format!("wecom-callback-{n}")).spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => return tracing::error!(error = %e, "an event loop could not start"),
                };
                runtime.block_on(async move {
                    loop {
                        tokio::select! {
                            woke = woken.recv() => if woke.is_none() { break },
                            _ = finished.wait_for(|done| *done) => break,
                        }
                        while let Ok((stream, permit)) = receive.try_recv() {
                            let Ok(stream) = tokio::net::TcpStream::from_std(stream) else { continue };
                            tokio::spawn(serve_connection(context.clone(), stream, stopping.clone(), permit));
                        }
                    }
                    let _ = finished.wait_for(|done| *done).await;
                });
            });
            match spawned {
                Ok(thread) => {
                    loops.senders.push(send);
                    loops.wakers.push(wake);
                    loops.threads.push(thread);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "an event loop could not start; connections stay on the runtime")
                }
            }
        }
        loops
    }

    /// Hands connection number `n` to an event loop, or gives it back.
    fn handoff(
        &self,
        n: usize,
        stream: tokio::net::TcpStream,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<(), (tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
        if self.senders.is_empty() {
            return Err((stream, permit));
        }
        let i = n % self.senders.len();
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "a connection could not be handed over");
                return Ok(());
            }
        };
        match self.senders[i].send((std_stream, permit)) {
            Ok(()) => {
                let _ = self.wakers[i].send(());
                Ok(())
            }
            Err(std::sync::mpsc::SendError((std_stream, permit))) => {
                match tokio::net::TcpStream::from_std(std_stream) {
                    Ok(stream) => Err((stream, permit)),
                    Err(_) => Ok(()),
                }
            }
        }
    }

    /// Waits for every event loop to end (after the drain).
    async fn join(self) {
        drop(self.senders);
        drop(self.wakers);
        for thread in self.threads {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
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
        let method = request.method().clone();
        match (&method, request.uri().path()) {
            (&Method::GET, "/healthz") => return text(200, "ok"),
            (&Method::GET, "/readyz") => return self.ready().await,
            (&Method::GET, "/metrics") => {
                return match &self.metrics {
                    Some(render) => answer(200, "text/plain; version=0.0.4; charset=utf-8", render()),
                    None => text(404, "no metrics here"),
                }
            }
            _ => {}
        }
        let Some(url) = callback_url(request.uri().path()) else { return text(404, "not found") };
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
