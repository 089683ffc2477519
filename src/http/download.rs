//! A file WeCom sends back (`media.get`), read as it arrives.

use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{EndpointName, Error};

/// A downloaded file, read piece by piece as it arrives, so a large file
/// never sits whole in memory. Each piece must arrive within the client's
/// timeout.
pub struct Download {
    endpoint: EndpointName,
    content_type: String,
    file_name: Option<String>,
    size: Option<u64>,
    timeout: Duration,
    source: Source,
}

enum Source {
    Live(reqwest::Response),
    Buffered(Option<Bytes>),
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("endpoint", &self.endpoint)
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// A download still arriving on `response`.
    pub(crate) fn live(endpoint: EndpointName, response: reqwest::Response, timeout: Duration) -> Download {
        let headers = response.headers();
        let text = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        let content_type = text(reqwest::header::CONTENT_TYPE).unwrap_or_default().to_owned();
        let file_name = text(reqwest::header::CONTENT_DISPOSITION).and_then(disposition_file_name);
        let size = response.content_length();
        Download { endpoint, content_type, file_name, size, timeout, source: Source::Live(response) }
    }

    /// A download already read (a small body that had to be looked at).
    pub(crate) fn buffered(endpoint: EndpointName, content_type: String, bytes: Bytes) -> Download {
        let size = Some(bytes.len() as u64);
        let source = Source::Buffered(Some(bytes));
        Download { endpoint, content_type, file_name: None, size, timeout: Duration::ZERO, source }
    }

    /// The `Content-Type` WeCom sent, empty when absent.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file name from `Content-Disposition`, as WeCom sent it. Treat it
    /// as untrusted before using it as a path.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The size announced by `Content-Length`, if any.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The next piece of the file; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        match &mut self.source {
            Source::Buffered(bytes) => Ok(bytes.take()),
            Source::Live(response) => {
                let next = tokio::time::timeout(self.timeout, response.chunk()).await;
                match next {
                    Err(_) => Err(Error::Timeout {
                        endpoint: self.endpoint.clone(),
                        timeout: self.timeout,
                        attempts: 1,
                    }),
                    Ok(Err(e)) => Err(Error::Transport {
                        endpoint: self.endpoint.clone(),
                        request_sent: true,
                        source: Box::new(e.without_url()),
                        attempts: 1,
                    }),
                    Ok(Ok(chunk)) => Ok(chunk),
                }
            }
        }
    }

    /// Writes the whole file to `out` and returns its size.
    pub async fn write_to<W: AsyncWrite + Unpin + ?Sized>(mut self, out: &mut W) -> Result<u64, Error> {
        let mut written = 0u64;
        while let Some(chunk) = self.chunk().await? {
            out.write_all(&chunk).await.map_err(|e| self.write_error(e))?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(|e| self.write_error(e))?;
        Ok(written)
    }

    /// The whole file in memory, refused ([`Error::TooLarge`]) past `limit`
    /// bytes.
    pub async fn bytes(mut self, limit: usize) -> Result<Bytes, Error> {
        let too_large = |endpoint: &EndpointName| Error::TooLarge { endpoint: endpoint.clone(), limit };
        if self.size.is_some_and(|size| size > limit as u64) {
            return Err(too_large(&self.endpoint));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(&self.endpoint));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The file as a stream of pieces.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, Error>> + Send {
        futures_util::stream::try_unfold(self, |mut download| async move {
            Ok(download.chunk().await?.map(|chunk| (chunk, download)))
        })
    }

    fn write_error(&self, error: std::io::Error) -> Error {
        Error::InvalidRequest(format!("{}: cannot write the download: {error}", self.endpoint))
    }
}

/// The file name of a `Content-Disposition` header: `filename*=UTF-8''…`
/// (percent-decoded) before `filename="…"`.
fn disposition_file_name(header: &str) -> Option<String> {
    let params: Vec<(&str, &str)> = header
        .split(';')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let extended = params.iter().find(|(k, _)| k.eq_ignore_ascii_case("filename*")).and_then(|(_, v)| {
        let (_, encoded) = v.split_once("''")?;
        percent_encoding::percent_decode_str(encoded).decode_utf8().ok().map(|s| s.into_owned())
    });
    extended.or_else(|| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("filename"))
            .map(|(_, v)| v.trim_matches('"').to_owned())
            .filter(|name| !name.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::disposition_file_name;

    #[test]
    fn file_names_come_from_either_form_of_the_header() {
        assert_eq!(disposition_file_name("attachment; filename=\"a b.jpg\"").as_deref(), Some("a b.jpg"));
        assert_eq!(
            disposition_file_name("attachment; filename=\"x.txt\"; filename*=UTF-8''%E6%96%87.txt")
                .as_deref(),
            Some("文.txt")
        );
        assert_eq!(disposition_file_name("attachment"), None);
        assert_eq!(disposition_file_name("attachment; filename=\"\""), None);
    }
}
