//! The runtime seam: envelope rule, forward-compatible decoding, HTTP errors,
//! limits, and tokens that never leak into errors.

use std::time::Duration;

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wecom_openwork::api::authorization::types::GetAdminListRequest;
use wecom_openwork::api::oauth::types::{GetUserDetail3rdRequest, GetUserInfo3rdQuery};

use wecom_openwork::clock::ManualClock;
use wecom_openwork::{AccessToken, Client, Error, RetryPolicy, StaticTokens};

const SUITE: &str = "wwsuite0001";
const SECRET_TOKEN: &str = "S3CRET-SUITE-TOKEN";

/// What the scripted server does with every connection.
#[derive(Clone)]
enum Script {
    /// Answer with this status, content type and body.
    Reply(u16, &'static str, Vec<u8>),
    /// Read the request, then never answer.
    Hang,
}

/// A one-script HTTP/1.1 server on loopback; returns its base URI.
async fn serve(script: Script) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut read = 0;
                // Read the head; bodies in these tests are small and arrive with it or right after.
                loop {
                    let Ok(n) = socket.read(&mut buf[read..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    read += n;
                    let text = String::from_utf8_lossy(&buf[..read]);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if read >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                match script {
                    Script::Hang => std::future::pending::<()>().await,
                    Script::Reply(status, content_type, body) => {
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.write_all(&body).await;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

async fn json_server(body: &str) -> String {
    serve(Script::Reply(200, "application/json", body.as_bytes().to_vec())).await
}

/// Retries wait on a manual clock, so they cost no time.
fn built(builder: wecom_openwork::ClientBuilder) -> Client {
    builder
        .clock(Arc::new(ManualClock::starting_now()))
        .build(StaticTokens::new().suite(SUITE, SECRET_TOKEN))
        .expect("valid client")
}

fn client_for(base: &str) -> Client {
    built(Client::builder().base_uri(base))
}

#[tokio::test]
async fn a_nonzero_errcode_is_an_api_error_with_its_hint() {
    let base = json_server(
        r#"{"errcode":40082,"errmsg":"invalid suite_access_token, hint: [1574162516_60_abc], from ip: 49.5.0.18"}"#,
    )
    .await;
    let err = client_for(&base).suite(SUITE).get_pre_auth_code().await.unwrap_err();
    match &err {
        Error::Api { endpoint, code, message, hint, attempts } => {
            assert_eq!(*endpoint, "get_pre_auth_code");
            // The rejected token was refetched once (a fixed source gives the same one).
            assert_eq!(*attempts, 2);
            assert_eq!(*code, 40082);
            assert!(message.starts_with("invalid suite_access_token"));
            assert_eq!(hint.as_deref(), Some("1574162516_60_abc"));
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(err.is_token_invalid());
    assert_eq!(err.code(), Some(40082));
}

#[tokio::test]
async fn errcode_zero_or_absent_is_success() {
    for body in [r#"{"errcode":0,"errmsg":"ok","pre_auth_code":"P"}"#, r#"{"pre_auth_code":"P"}"#] {
        let base = json_server(body).await;
        let reply = client_for(&base).suite(SUITE).get_pre_auth_code().await.expect(body);
        assert_eq!(reply.pre_auth_code.as_deref(), Some("P"));
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_missing_ones_are_none() {
    let base = json_server(r#"{"errcode":0,"pre_auth_code":"P","brand_new_field":{"x":[1,2]}}"#).await;
    let reply = client_for(&base).suite(SUITE).get_pre_auth_code().await.expect("decodes");
    assert_eq!(reply.pre_auth_code.as_deref(), Some("P"));
    assert_eq!(reply.expires_in, None);
}

#[tokio::test]
async fn values_outside_the_documented_set_still_decode() {
    let base = json_server(r#"{"errcode":0,"admin":[{"userid":"u","auth_type":7}]}"#).await;
    let request = GetAdminListRequest::new("wwcorp", 1);
    let reply = client_for(&base).suite(SUITE).get_admin_list_with(request).await.expect("decodes");
    assert_eq!(reply.admin[0].auth_type, Some(7));

    let base = json_server(r#"{"errcode":0,"userid":"u","gender":"9"}"#).await;
    let request = GetUserDetail3rdRequest::new("t");
    let reply =
        client_for(&base).suite(SUITE).oauth().get_user_detail_3rd_with(request).await.expect("decodes");
    assert_eq!(reply.gender.as_deref(), Some("9"));
}

#[tokio::test]
async fn getuserinfo3rd_accepts_snake_case_and_legacy_pascal_case_keys() {
    let query = GetUserInfo3rdQuery::new("CODE");
    let snake =
        json_server(r#"{"errcode":0,"corpid":"C","userid":"U","deviceid":"D","open_userid":"O"}"#).await;
    let pascal = json_server(r#"{"errcode":0,"errmsg":"ok","CorpId":"C","UserId":"U","DeviceId":"D"}"#).await;
    for base in [snake, pascal] {
        let user = client_for(&base)
            .suite(SUITE)
            .oauth()
            .get_user_info_3rd_with(query.clone())
            .await
            .expect("decodes");
        assert_eq!(user.corpid.as_deref(), Some("C"));
        assert_eq!(user.userid.as_deref(), Some("U"));
        assert_eq!(user.deviceid.as_deref(), Some("D"));
    }
    let base = json_server(r#"{"errcode":0,"OpenId":"X"}"#).await;
    let visitor =
        client_for(&base).suite(SUITE).oauth().get_user_info_3rd_with(query).await.expect("decodes");
    assert_eq!(visitor.openid.as_deref(), Some("X"));
}

#[tokio::test]
async fn an_error_status_is_an_error_that_keeps_the_body() {
    let base = serve(Script::Reply(502, "text/plain", b"bad gateway".to_vec())).await;
    let err = client_for(&base).suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(&err, Error::Status { status: 502, body, .. } if body == "bad gateway"), "{err:?}");
    // A GET is safe to repeat: the default policy retried it 3 times.
    assert_eq!(err.attempts(), Some(4));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_decode_error_that_keeps_the_body() {
    let base = serve(Script::Reply(200, "text/html", b"<html>maintenance</html>".to_vec())).await;
    let err = client_for(&base).suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(&err, Error::Decode { body, .. } if body.contains("maintenance")), "{err:?}");
}

#[tokio::test]
async fn a_reply_over_the_size_limit_is_refused() {
    let big = format!(r#"{{"errcode":0,"pre_auth_code":"{}"}}"#, "x".repeat(4096));
    let base = json_server(&big).await;
    let client = built(Client::builder().base_uri(&base).max_response_bytes(1024));
    let err = client.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 1024, .. }), "{err:?}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let base = serve(Script::Hang).await;
    let client = built(
        Client::builder().base_uri(&base).timeout(Duration::from_millis(200)).retry(RetryPolicy::none()),
    );
    let err = client.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_missing_token_fails_before_any_request() {
    let base = json_server(r#"{"errcode":0}"#).await;
    let client = Client::new(&base, StaticTokens::new()).expect("valid client");
    let err = client.suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(&err, Error::Token { scope, .. } if scope.contains(SUITE)), "{err:?}");
}

#[tokio::test]
async fn errors_never_show_the_token() {
    // Nothing listens on this port once the listener is dropped.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = client_for(&base).suite(SUITE).get_pre_auth_code().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    let mut chain = String::new();
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!shown.contains(SECRET_TOKEN) && !chain.contains(SECRET_TOKEN), "{shown} {chain}");
    assert_eq!(format!("{:?}", AccessToken::new(SECRET_TOKEN)), "AccessToken(<redacted>)");
}

#[test]
fn a_bad_configuration_is_refused() {
    for base in ["qyapi.weixin.qq.com", "ftp://x", "https://x/?q=1", ""] {
        let err = Client::new(base, StaticTokens::new()).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{base}: {err:?}");
    }
    let err = Client::builder().timeout(Duration::ZERO).build(StaticTokens::new()).unwrap_err();
    assert!(matches!(err, Error::Config(_)));
}

/// A transport that answers from a script and records what it was sent.
#[derive(Debug, Default)]
struct Scripted {
    answers: std::sync::Mutex<std::collections::VecDeque<Result<(u16, &'static str), bool>>>,
    seen: std::sync::Mutex<Vec<(String, String, Vec<u8>)>>,
}

impl wecom_openwork::Transport for Scripted {
    fn send(
        &self,
        request: wecom_openwork::TransportRequest,
    ) -> wecom_openwork::BoxFuture<
        'static,
        Result<wecom_openwork::TransportResponse, wecom_openwork::TransportError>,
    > {
        let (parts, body) = request.into_parts();
        self.seen.lock().unwrap().push((parts.method.to_string(), parts.uri.to_string(), body.to_vec()));
        let answer = self.answers.lock().unwrap().pop_front().expect("a scripted answer");
        Box::pin(async move {
            match answer {
                Ok((status, json)) => Ok(http::Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(bytes::Bytes::from_static(json.as_bytes()))
                    .expect("response")),
                Err(true) => Err(wecom_openwork::TransportError::after_sending("reset after sending")),
                Err(false) => Err(wecom_openwork::TransportError::before_sending("connection refused")),
            }
        })
    }
}

fn scripted_client(answers: Vec<Result<(u16, &'static str), bool>>) -> (Client, Arc<Scripted>) {
    let transport =
        Arc::new(Scripted { answers: std::sync::Mutex::new(answers.into()), ..Scripted::default() });
    let client = built(Client::builder().base_uri("https://wecom.invalid").transport(transport.clone()));
    (client, transport)
}

#[tokio::test]
async fn a_custom_transport_gets_the_token_query_and_body_and_the_client_keeps_its_rules() {
    let (client, transport) = scripted_client(vec![
        Ok((200, r#"{"errcode":0,"admin":[{"userid":"zhangsan","auth_type":1}]}"#)),
        Ok((200, r#"{"errcode":60011,"errmsg":"no privilege to access/modify contact/party/agent"}"#)),
        Ok((502, "bad gateway")),
        Ok((200, r#"{"errcode":0,"admin":[]}"#)),
    ]);
    let request = GetAdminListRequest::new("wwcorp", 1000);
    let admins = client.suite(SUITE).get_admin_list_with(request.clone()).await.expect("answered");
    assert_eq!(admins.admin.len(), 1);
    let (method, uri, body) = transport.seen.lock().unwrap()[0].clone();
    assert_eq!(method, "POST");
    assert_eq!(
        uri,
        format!("https://wecom.invalid/cgi-bin/service/get_admin_list?suite_access_token={SECRET_TOKEN}")
    );
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["auth_corpid"], "wwcorp");
    let err = client.suite(SUITE).get_admin_list_with(request.clone()).await.unwrap_err();
    assert_eq!(err.code(), Some(60011), "the envelope rule applies: {err:?}");
    // A read is retried after a 502, through the same transport.
    let admins = client.suite(SUITE).get_admin_list_with(request).await.expect("retried");
    assert!(admins.admin.is_empty());
    assert_eq!(transport.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_one_time_code_is_retried_only_when_the_transport_never_sent_it() {
    use wecom_openwork::api::authorization::types::GetPermanentCodeV2Request;
    let ok = r#"{"errcode":0,"permanent_code":"pc","auth_corp_info":{"corpid":"wwcorp"}}"#;
    let (client, transport) = scripted_client(vec![Err(false), Ok((200, ok)), Err(true)]);
    let request = GetPermanentCodeV2Request::new("code");
    let info = client
        .suite(SUITE)
        .get_permanent_code_v2_with(request.clone())
        .await
        .expect("retried after a refused connection");
    assert_eq!(info.permanent_code.as_deref(), Some("pc"));
    assert_eq!(transport.seen.lock().unwrap().len(), 2);
    let err = client.suite(SUITE).get_permanent_code_v2_with(request).await.unwrap_err();
    assert!(matches!(err, Error::Transport { request_sent: true, .. }), "{err:?}");
    assert_eq!(transport.seen.lock().unwrap().len(), 3, "a code that may have been spent is not sent again");
}
