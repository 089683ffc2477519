//! Media end to end against the emulator: a multipart upload WeCom's way
//! (field, file name, `filelength`, content type), a streamed download of
//! what was uploaded, sizes refused before sending, and WeCom's JSON error
//! in place of a file.

mod common;

use common::{app_on_emulator, CORP, SUITE};
use wecom_openwork::api::media::types::UploadMediaQuery;
use wecom_openwork::emulator::Fault;
use wecom_openwork::{Error, UploadFile};

/// Bytes that do not repeat with a short period, so a misplaced piece shows.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn an_uploaded_file_comes_back_whole_streamed_with_its_name_and_type() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let bytes = pattern(3 * 1024 * 1024 + 17);
    let file = UploadFile::new("季度报告.pdf", "application/pdf", bytes.clone());
    let reply = corp.media().upload(&UploadMediaQuery::new("file"), file).await.expect("uploaded");
    let media_id = reply.media_id.expect("a media id");
    assert_eq!(reply.type_.as_deref(), Some("file"));

    let sent = emulator.requests().pop().expect("recorded");
    let upload = sent.upload.expect("a multipart upload");
    assert_eq!(upload.field, "media");
    assert_eq!(upload.file_name, "季度报告.pdf");
    assert_eq!(upload.file_length, Some(bytes.len() as u64));
    assert_eq!(upload.content_type, "application/pdf");
    assert_eq!(upload.size, bytes.len() as u64);

    let download = corp.media().get(media_id).await.expect("downloaded");
    assert_eq!(download.content_type(), "application/pdf");
    assert_eq!(download.file_name(), Some("季度报告.pdf"));
    assert_eq!(download.size(), Some(bytes.len() as u64));
    let mut out = Vec::new();
    let written = download.write_to(&mut out).await.expect("read to the end");
    assert_eq!(written, bytes.len() as u64);
    assert!(out == bytes, "the downloaded bytes differ from the uploaded ones");
}

#[tokio::test]
async fn a_small_download_arrives_as_well() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let file = UploadFile::new("hello.txt", "text/plain", &b"hello, wecom"[..]);
    let reply = corp.media().upload(&UploadMediaQuery::new("file"), file).await.expect("uploaded");
    let download = corp.media().get(reply.media_id.unwrap()).await.expect("downloaded");
    assert_eq!(download.content_type(), "text/plain");
    assert_eq!(download.bytes(1024).await.expect("read").as_ref(), b"hello, wecom");
}

#[tokio::test]
async fn files_of_the_wrong_size_are_refused_before_sending() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    emulator.clear_requests();
    let voice = UploadFile::new("v.amr", "voice/amr", vec![0u8; 2 * 1024 * 1024 + 1]);
    let error = corp.media().upload(&UploadMediaQuery::new("voice"), voice.clone()).await.unwrap_err();
    assert!(
        matches!(error, Error::UploadSize { size, min: 6, max, .. } if size == voice.len() && max == 2 * 1024 * 1024),
        "{error:?}"
    );
    // The same file is a valid `file`.
    corp.media().upload(&UploadMediaQuery::new("file"), voice).await.expect("a file may be larger");
    let tiny = UploadFile::new("t.txt", "text/plain", &b"12345"[..]);
    let error = corp.media().upload(&UploadMediaQuery::new("file"), tiny).await.unwrap_err();
    assert!(matches!(error, Error::UploadSize { size: 5, min: 6, .. }), "{error:?}");
    let uploads = emulator.requests().iter().filter(|r| r.path == "/cgi-bin/media/upload").count();
    assert_eq!(uploads, 1, "only the valid upload was sent");
}

#[tokio::test]
async fn a_name_that_would_break_the_form_is_refused() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    for name in ["a\"b.txt", "line\r\nbreak.txt", "", "/etc/passwd", "c:\\x.txt"] {
        let file = UploadFile::new(name, "text/plain", &b"content"[..]);
        let error = corp.media().upload(&UploadMediaQuery::new("file"), file).await.unwrap_err();
        assert!(matches!(error, Error::InvalidRequest(_)), "{name:?}: {error:?}");
    }
}

#[tokio::test]
async fn an_unknown_media_id_is_wecoms_error_not_a_file() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let error = app.corp(SUITE, CORP).media().get("no-such-media").await.unwrap_err();
    assert_eq!(error.code(), Some(40007), "{error:?}");
}

#[tokio::test]
async fn an_upload_is_sent_again_whole_after_the_token_is_refused() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    emulator.inject(Some("/cgi-bin/media/upload"), 1, Fault::Errcode(40014));
    let bytes = pattern(100_000);
    let file = UploadFile::new("again.bin", "application/octet-stream", bytes.clone());
    let reply =
        corp.media().upload(&UploadMediaQuery::new("file"), file).await.expect("uploaded on the retry");
    let uploads: Vec<_> =
        emulator.requests().into_iter().filter(|r| r.path == "/cgi-bin/media/upload").collect();
    assert_eq!(uploads.len(), 2, "refused once, then sent again");
    assert_eq!(uploads[1].upload.as_ref().map(|u| u.size), Some(bytes.len() as u64));
    let download = corp.media().get(reply.media_id.unwrap()).await.expect("downloaded");
    assert!(download.bytes(1 << 20).await.expect("read") == bytes);
}

#[tokio::test]
async fn uploads_from_disk_take_their_name_and_type_from_the_path() {
    let dir = std::env::temp_dir().join(format!("wecom-openwork-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("photo.PNG");
    std::fs::write(&path, pattern(4096)).expect("written");
    let file = UploadFile::from_path(&path).await.expect("read");
    assert_eq!(file.file_name(), "photo.PNG");
    assert_eq!(file.content_type(), "image/png");
    assert_eq!(file.len(), 4096);
    let missing = UploadFile::from_path(dir.join("missing.png")).await.unwrap_err();
    assert!(matches!(missing, Error::InvalidRequest(_)), "{missing:?}");
    std::fs::remove_dir_all(&dir).expect("cleaned");
}
