//! A file to upload, and the `multipart/form-data` body WeCom reads it from.

use std::fmt;
use std::path::Path;

use bytes::Bytes;

use crate::error::Error;

/// A file for an upload endpoint (`media.upload`, …): its name (WeCom shows
/// it as the file's name when the media is sent), content type and bytes.
/// Cheap to clone: the bytes are shared.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadFile {
    file_name: String,
    content_type: String,
    bytes: Bytes,
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl UploadFile {
    /// A file from memory. `content_type` is e.g. `image/png`,
    /// `application/octet-stream`.
    pub fn new(
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        UploadFile { file_name: file_name.into(), content_type: content_type.into(), bytes: bytes.into() }
    }

    /// Reads a file from disk; its name is the path's last part and its
    /// content type follows the extension (jpg, png, bmp, amr, mp4; any other
    /// is `application/octet-stream`).
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::InvalidRequest(format!("{}: no usable file name", path.display())))?
            .to_owned();
        let read = {
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || std::fs::read(path))
        };
        let bytes = read
            .await
            .map_err(|e| Error::InvalidRequest(format!("{}: {e}", path.display())))?
            .map_err(|e| Error::InvalidRequest(format!("{}: cannot read it: {e}", path.display())))?;
        let content_type = content_type_of(&file_name);
        Ok(UploadFile::new(file_name, content_type, bytes))
    }

    /// The name WeCom is told.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type WeCom is told.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// The content types WeCom's upload guide names, by extension.
fn content_type_of(file_name: &str) -> &'static str {
    let extension = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpg",
        "png" => "image/png",
        "bmp" => "image/bmp",
        "amr" => "voice/amr",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// A `multipart/form-data` body with one file part, as WeCom's upload guide
/// describes it (with `filelength`): the head, the file (shared, not
/// copied) and the tail.
#[derive(Debug, Clone)]
pub(crate) struct Multipart {
    pub(crate) content_type: String,
    pub(crate) parts: [Bytes; 3],
}

impl Multipart {
    /// The body for `file` in form field `field`. A name or content type that
    /// would break the part's headers is refused.
    pub(crate) fn new(field: &str, file: &UploadFile) -> Result<Multipart, Error> {
        let bad = |what: &str, value: &str| {
            Error::InvalidRequest(format!("upload: the {what} {value:?} cannot go into a form-data header"))
        };
        let name = &file.file_name;
        if name.is_empty() || name.starts_with('/') || name.contains(['"', '\\', ':', '\r', '\n', '\0']) {
            return Err(bad("file name", name));
        }
        let content_type = &file.content_type;
        if content_type.is_empty() || !content_type.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(bad("content type", content_type));
        }
        let boundary: String = std::iter::repeat_with(fastrand::alphanumeric).take(32).collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"; \
             filelength={}\r\nContent-Type: {content_type}\r\n\r\n",
            file.len()
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        Ok(Multipart {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            parts: [Bytes::from(head), file.bytes.clone(), Bytes::from(tail)],
        })
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.len() as u64).sum()
    }
}
