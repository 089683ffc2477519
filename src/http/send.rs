//! One attempt on the wire: the request through reqwest or a
//! [`Transport`], the HTTP status rule, and the body read within its limit.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::{
    AccessToken, Client, Download, HttpMethod, Reply, RequestBody, Target, Transport, SMALL_DOWNLOAD,
};
use crate::error::Error;
use crate::redact::body_excerpt;

impl Client {
    /// One attempt: the request, the status rule, the body within its limit.
    pub(super) async fn send(
        &self,
        target: &Target<'_>,
        token: Option<&AccessToken>,
        query: &[(String, String)],
        body: &RequestBody,
    ) -> Result<Reply, Error> {
        let inner = &self.inner;
        let url = match target.link_cookie {
            Some(_) => target.path.to_owned(),
            None => format!("{}{}", inner.base_uri, target.path),
        };
        if let Some(transport) = &inner.transport {
            return self.send_through(transport.as_ref(), target, url, token, query, body).await;
        }
        let method = match target.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut request = inner.http.request(method, url);
        if !target.download {
            // A download may take longer than one timeout as a whole; each of
            // its steps is limited instead.
            request = request.timeout(inner.timeout);
        }
        if let (Some(param), Some(token)) = (target.token_param, token) {
            request = request.query(&[(param, token.secret())]);
        }
        if let Some(cookie) = target.link_cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if !query.is_empty() {
            request = request.query(query);
        }
        match body {
            RequestBody::None => {}
            RequestBody::Json(body) => {
                request =
                    request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            RequestBody::Multipart(form) => {
                let parts = form.parts.clone().map(Ok::<_, std::io::Error>);
                request = request
                    .header(reqwest::header::CONTENT_TYPE, form.content_type.as_str())
                    .header(reqwest::header::CONTENT_LENGTH, form.len())
                    .body(reqwest::Body::wrap_stream(futures_util::stream::iter(parts)));
            }
        }
        let timed_out =
            || Error::Timeout { endpoint: target.name.clone(), timeout: inner.timeout, attempts: 1 };
        let response = tokio::time::timeout(inner.timeout, request.send())
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| transport(target, inner.timeout, e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let small = response.content_length().is_some_and(|len| len <= SMALL_DOWNLOAD);
        if target.download && status.is_success() && !small && !content_type.contains("json") {
            let download = Download::live(target.name.clone(), response, inner.timeout);
            return Ok(Reply { content_type, body: Bytes::new(), download: Some(download) });
        }
        let read = read_limited(target, response, inner.max_response_bytes, inner.timeout);
        let body = tokio::time::timeout(inner.timeout, read).await.map_err(|_| timed_out())??;
        self.status_rule(target, status.as_u16(), content_type, body)
    }

    /// An answer read whole: an error status is [`Error::Status`] when the
    /// client throws on them, else the reply.
    fn status_rule(
        &self,
        target: &Target<'_>,
        status: u16,
        content_type: String,
        body: Bytes,
    ) -> Result<Reply, Error> {
        if self.inner.throw && !(200..300).contains(&status) {
            return Err(Error::Status {
                endpoint: target.name.clone(),
                status,
                body: body_excerpt(&body),
                attempts: 1,
            });
        }
        Ok(Reply { content_type, body, download: None })
    }

    /// [`Client::send`] through a [`Transport`] of the user's: the same URL,
    /// token, query and body; the same timeout, status rule and size limit.
    async fn send_through(
        &self,
        transport: &dyn Transport,
        target: &Target<'_>,
        url: String,
        token: Option<&AccessToken>,
        query: &[(String, String)],
        body: &RequestBody,
    ) -> Result<Reply, Error> {
        let inner = &self.inner;
        let mut url = reqwest::Url::parse(&url)
            .map_err(|e| Error::InvalidRequest(format!("{}: not a URL: {e}", target.name)))?;
        {
            let mut pairs = url.query_pairs_mut();
            if let (Some(param), Some(token)) = (target.token_param, token) {
                pairs.append_pair(param, token.secret());
            }
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let method = match target.method {
            HttpMethod::Get => ::http::Method::GET,
            HttpMethod::Post => ::http::Method::POST,
        };
        let (content_type, bytes) = match body {
            RequestBody::None => (None, Bytes::new()),
            RequestBody::Json(json) => (Some("application/json".to_owned()), Bytes::from(json.clone())),
            RequestBody::Multipart(form) => {
                (Some(form.content_type.clone()), form.parts.iter().flatten().copied().collect())
            }
        };
        let mut request = ::http::Request::builder().method(method).uri(url.as_str());
        if let Some(content_type) = content_type {
            request = request.header(::http::header::CONTENT_TYPE, content_type);
        }
        if let Some(cookie) = target.link_cookie {
            request = request.header(::http::header::COOKIE, cookie);
        }
        let request = request
            .body(bytes)
            .map_err(|e| Error::InvalidRequest(format!("{}: cannot build the request: {e}", target.name)))?;
        let answer = tokio::time::timeout(inner.timeout, transport.send(request))
            .await
            .map_err(|_| Error::Timeout {
                endpoint: target.name.clone(),
                timeout: inner.timeout,
                attempts: 1,
            })?
            .map_err(|e| Error::Transport {
                endpoint: target.name.clone(),
                source: e.source,
                request_sent: e.request_sent,
                attempts: 1,
            })?;
        let status = answer.status();
        let content_type = answer
            .headers()
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = answer.into_body();
        if body.len() > inner.max_response_bytes {
            return Err(Error::TooLarge { endpoint: target.name.clone(), limit: inner.max_response_bytes });
        }
        self.status_rule(target, status.as_u16(), content_type, body)
    }
}

fn transport(target: &Target<'_>, timeout: Duration, error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout { endpoint: target.name.clone(), timeout, attempts: 1 }
    } else {
        Error::Transport {
            endpoint: target.name.clone(),
            request_sent: !error.is_connect(),
            source: Box::new(error.without_url()),
            attempts: 1,
        }
    }
}

/// Reads the body, refusing to hold more than `limit` bytes.
async fn read_limited(
    target: &Target<'_>,
    mut response: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Error> {
    let too_large = || Error::TooLarge { endpoint: target.name.clone(), limit };
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(target, timeout, e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
