//! 微盘 downloads in one call. WeCom does not answer `file_download` with
//! the file but with a link and a cookie the link wants; [`CorpWedrive::download`]
//! asks for both and fetches the file, handed over as it arrives.

use crate::api::wedrive::types::FileDownloadRequest;
use crate::api::wedrive::CorpWedrive;
use crate::error::Error;
use crate::http::Download;

/// The name a download through a link goes by in errors and logs.
const LINKED_DOWNLOAD: &str = "wedrive.file_download link";

impl CorpWedrive<'_> {
    /// Downloads file `fileid` (an ordinary file, not a folder or an
    /// online document): [`Self::file_download`] for its link and cookie,
    /// then a GET of the link with the cookie. Read the [`Download`] as it
    /// arrives ([`Download::write_to`], [`Download::into_stream`]) or whole
    /// ([`Download::bytes`], with a size limit).
    pub async fn download(&self, fileid: impl Into<String>) -> Result<Download, Error> {
        let link = self.file_download_with(FileDownloadRequest::new().fileid(fileid)).await?;
        let missing = |member: &'static str| Error::Decode {
            endpoint: crate::api::wedrive::endpoints::FILE_DOWNLOAD.name.into(),
            source: <serde_json::Error as serde::de::Error>::missing_field(member),
            body: String::new(),
        };
        let url = link.download_url.ok_or_else(|| missing("download_url"))?;
        let name = link.cookie_name.ok_or_else(|| missing("cookie_name"))?;
        let value = link.cookie_value.ok_or_else(|| missing("cookie_value"))?;
        self.handle().client().linked_file(LINKED_DOWNLOAD, &url, &format!("{name}={value}")).await
    }
}
