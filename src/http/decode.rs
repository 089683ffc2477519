//! From a reply to what a call answers: WeCom's `errcode` envelope, then
//! JSON, bytes or a file.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{Download, Payload, Target};
use crate::error::{api_error, Error};
use crate::redact::{body_excerpt, redact_serde_error};

/// The `errcode`/`errmsg` pair every WeCom reply may carry.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// Turns a reply into what a call answers.
pub(crate) type Decode<T> = fn(&Target<'_>, Reply) -> Result<T, Error>;

/// A raw reply: content type and body; or, for a download, the file still
/// arriving.
pub(crate) struct Reply {
    pub(super) content_type: String,
    pub(super) body: Bytes,
    pub(super) download: Option<Download>,
}

/// The envelope rule: `errcode` absent or 0 is success; anything else is
/// [`Error::Api`]. Then the body decodes into `R`, ignoring unknown fields.
pub(crate) fn decode_json<R: DeserializeOwned>(target: &Target<'_>, reply: Reply) -> Result<R, Error> {
    let body = &reply.body;
    let decode_error = |source| Error::Decode {
        endpoint: target.name.clone(),
        source: redact_serde_error(source),
        body: body_excerpt(body),
    };
    let envelope: Envelope = serde_json::from_slice(body).map_err(decode_error)?;
    match refusal(target, envelope) {
        None => serde_json::from_slice(body).map_err(decode_error),
        Some(error) => Err(error),
    }
}

/// WeCom's error when the envelope carries a non-zero `errcode`.
fn refusal(target: &Target<'_>, envelope: Envelope) -> Option<Error> {
    let code = envelope.errcode.filter(|code| *code != 0)?;
    tracing::debug!(code, "WeCom error");
    Some(api_error(target.name.clone(), code, envelope.errmsg.unwrap_or_default()))
}

/// JSON (with the envelope rule) when the reply is JSON, the bytes otherwise.
pub(crate) fn decode_payload<R: DeserializeOwned>(
    target: &Target<'_>,
    reply: Reply,
) -> Result<Payload<R>, Error> {
    let looks_json = reply.content_type.contains("json")
        || reply.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if looks_json {
        decode_json(target, reply).map(Payload::Json)
    } else {
        Ok(Payload::Binary { content_type: reply.content_type, bytes: reply.body })
    }
}

/// The file as it arrives; or, read whole, WeCom's error when the body is
/// its JSON envelope with a non-zero `errcode`, else the file.
// Only download endpoints call it: none is compiled without their group's feature.
#[allow(dead_code)]
pub(crate) fn decode_download(target: &Target<'_>, reply: Reply) -> Result<Download, Error> {
    if let Some(download) = reply.download {
        return Ok(download);
    }
    // A JSON body that parses as WeCom's envelope with an errcode is its
    // refusal; anything else is the file itself.
    let looks_object = reply.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let envelope = looks_object.then(|| serde_json::from_slice(&reply.body).ok()).flatten();
    if let Some(error) = envelope.and_then(|e| refusal(target, e)) {
        return Err(error);
    }
    Ok(Download::buffered(target.name.clone(), reply.content_type, reply.body))
}
