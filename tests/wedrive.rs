//! 微盘 through the public API, as an ISV's app uses it: a space is created,
//! a file uploaded into it (base64 in a JSON body), listed and described,
//! then downloaded - `file_download` gives a link and a cookie, and the
//! file arrives from the link as a stream. The emulator keeps the files.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{app_on_emulator, CORP, SUITE};
use futures_util::TryStreamExt;
use sha1::{Digest, Sha1};
use wecom_openwork::api::wedrive::types::{FileDownloadRequest, FileUploadRequest};
use wecom_openwork::Error;

/// Bytes no text encoding would keep intact, larger than a reply read whole.
fn file_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_file_uploaded_into_a_space_comes_back_whole_from_its_download_link() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let drive = app.corp(SUITE, CORP);
    let drive = drive.wedrive();
    let space = drive.space_create("项目资料").await.expect("created").spaceid.expect("a space id");

    let bytes = file_bytes(300 * 1024);
    let upload = FileUploadRequest::new("季度报告 v1.bin", base64(&bytes)).spaceid(&space).fatherid(&space);
    let fileid = drive.file_upload_with(upload).await.expect("uploaded").fileid.expect("a file id");

    // Listed in the space's root, and described with its size and digest.
    let listed = drive.file_list(&space, &space).await.expect("listed");
    let items = listed.file_list.expect("a list").item;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].fileid.as_deref(), Some(fileid.as_str()));
    assert_eq!(items[0].file_size, Some(bytes.len() as i64));
    let info = drive.file_info(&fileid).await.expect("described").file_info.expect("its info");
    assert_eq!(info.file_name.as_deref(), Some("季度报告 v1.bin"));
    let sha: String = Sha1::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(info.sha.as_deref(), Some(sha.as_str()));

    // Downloaded through its link, as it arrives: the same bytes and name.
    let download = drive.download(&fileid).await.expect("a download");
    assert_eq!(download.file_name(), Some("季度报告 v1.bin"));
    assert_eq!(download.size(), Some(bytes.len() as u64));
    let chunks: Vec<_> = download.into_stream().try_collect().await.expect("every piece");
    assert_eq!(chunks.concat(), bytes);
    let fetched = emulator.requests().iter().filter(|r| r.path.starts_with("/__wedrive/download/")).count();
    assert_eq!(fetched, 1, "one GET of the link");
    let link = emulator.requests().into_iter().find(|r| r.path.starts_with("/__wedrive/download/"));
    assert!(link.is_some_and(|r| r.token().is_none()), "no token goes to the download host");
}

#[tokio::test]
async fn a_download_link_wants_its_cookie_and_expires_after_two_hours() {
    let (emulator, app, clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let drive = corp.wedrive();
    let space = drive.space_create("s").await.expect("created").spaceid.expect("a space id");
    let upload = FileUploadRequest::new("a.txt", base64(b"hello")).spaceid(&space).fatherid(&space);
    let fileid = drive.file_upload_with(upload).await.expect("uploaded").fileid.expect("a file id");
    let link = drive.file_download_with(FileDownloadRequest::new().fileid(&fileid)).await.expect("a link");
    let url = link.download_url.clone().expect("a link");
    assert!(url.starts_with(&emulator.base_uri()), "{url}");
    assert!(!format!("{link:?}").contains(link.cookie_value.as_deref().expect("a cookie")), "Debug hides it");
    let cookie = format!("{}={}", link.cookie_name.expect("its name"), link.cookie_value.expect("its value"));

    let http = reqwest::Client::new();
    let get = |cookie: Option<&str>| {
        let request = http.get(&url);
        let request = match cookie {
            Some(cookie) => request.header("Cookie", cookie),
            None => request,
        };
        async move { request.send().await.expect("answered") }
    };
    assert_eq!(get(None).await.status(), 403, "without the cookie");
    assert_eq!(get(Some("wedrive_ticket=guess")).await.status(), 403, "with another cookie");
    let answer = get(Some(&cookie)).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.bytes().await.expect("the file").as_ref(), b"hello");

    clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(get(Some(&cookie)).await.status(), 403, "expired");
}

#[tokio::test]
async fn bad_uploads_and_gone_files_are_typed_errors() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let drive = corp.wedrive();
    let space = drive.space_create("s").await.expect("created").spaceid.expect("a space id");

    let not_base64 = FileUploadRequest::new("a.txt", "%%%").spaceid(&space).fatherid(&space);
    let refused = drive.file_upload_with(not_base64).await.expect_err("refused");
    assert_eq!(refused.code(), Some(40058), "{refused}");
    // A file of another space is no folder of this one.
    let other = drive.space_create("t").await.expect("created").spaceid.expect("a space id");
    let there = FileUploadRequest::new("b.txt", base64(b"y")).spaceid(&other).fatherid(&other);
    let there = drive.file_upload_with(there).await.expect("uploaded").fileid.expect("a file id");
    let elsewhere = FileUploadRequest::new("a.txt", base64(b"x")).spaceid(&space).fatherid(&there);
    let refused = drive.file_upload_with(elsewhere).await.expect_err("refused");
    assert_eq!(refused.code(), Some(40058), "{refused}");

    let upload = FileUploadRequest::new("a.txt", base64(b"x")).spaceid(&space).fatherid(&space);
    let fileid = drive.file_upload_with(upload).await.expect("uploaded").fileid.expect("a file id");
    drive.file_delete(vec![fileid.clone()]).await.expect("deleted");
    let gone = drive.download(&fileid).await.expect_err("gone");
    assert!(matches!(gone, Error::Api { code: 40058, .. }), "{gone}");

    // Dismissing the space takes its files with it.
    let upload = FileUploadRequest::new("b.txt", base64(b"y")).spaceid(&space).fatherid(&space);
    let fileid = drive.file_upload_with(upload).await.expect("uploaded").fileid.expect("a file id");
    drive.space_dismiss(&space).await.expect("dismissed");
    let gone = drive.file_info(&fileid).await.expect_err("gone with its space");
    assert_eq!(gone.code(), Some(40058), "{gone}");
}
