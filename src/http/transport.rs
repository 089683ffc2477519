//! Where a call's HTTP request goes. By default reqwest sends it over the
//! network; a [`Transport`] of your own answers it instead: an in-process
//! WeCom for tests and deterministic simulations, a recording proxy, a
//! gateway. The client keeps its timeout, retries, limits and envelope rule
//! around whichever transport it has.

use std::fmt;

use bytes::Bytes;

use super::BoxFuture;

/// A request as the client hands it to a [`Transport`]: the URL carries the
/// token and the query; the body is complete (JSON, or a whole multipart
/// form).
pub type TransportRequest = ::http::Request<Bytes>;

/// The answer a [`Transport`] gives back: status, headers and the whole body.
pub type TransportResponse = ::http::Response<Bytes>;

/// A request that got no answer.
#[derive(Debug)]
pub struct TransportError {
    /// What went wrong.
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// Whether the request may have reached WeCom. `false` (the connection
    /// was never made) lets the client retry even a call that spends a
    /// one-time code.
    pub request_sent: bool,
}

impl TransportError {
    /// A failure after the request may have been sent (a reset, a lost reply).
    pub fn after_sending(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError { source: source.into(), request_sent: true }
    }

    /// A failure before anything was sent (the connection was refused).
    pub fn before_sending(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError { source: source.into(), request_sent: false }
    }
}

/// Sends the client's requests somewhere other than the network (see the
/// module docs). The client applies its timeout around [`Transport::send`]
/// and its response-size limit to the body it returns.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the answer, or why there was none.
    fn send(
        &self,
        request: TransportRequest,
    ) -> BoxFuture<'static, Result<TransportResponse, TransportError>>;
}
