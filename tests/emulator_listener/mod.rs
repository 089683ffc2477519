//! A callback listener for the emulator's push tests: it records every
//! request as it arrived and answers from a script (`success` once the
//! script is used up).

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use wecom_openwork::crypto::{parse_envelope, MsgCrypt};
use wecom_openwork::emulator::{EmulatedSuite, EmulatorConfig};

pub const SUITE: &str = "wwsuitepush01";
/// A suite with no URL at all.
pub const QUIET_SUITE: &str = "wwsuitepush02";
pub const CORP: &str = "wwcorppush01";
pub const TOKEN: &str = "PushToken";
/// An EncodingAESKey from WeCom's official samples.
pub const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

/// One request as the listener got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Received {
    /// The envelope's `ToUserName`, `AgentID` and the message decrypted for
    /// `receive_id` (an error when it was encrypted for another).
    pub fn open(&self, receive_id: &str) -> (String, String, Result<String, String>) {
        let envelope = parse_envelope(self.body.as_bytes()).expect("an envelope");
        let crypt = MsgCrypt::new(TOKEN, AES_KEY, receive_id).expect("crypt");
        let q = |name: &str| self.query.get(name).map(String::as_str).unwrap_or_default();
        let opened = crypt
            .decrypt(q("msg_signature"), q("timestamp"), q("nonce"), &envelope.encrypt)
            .map_err(|e| e.to_string());
        (envelope.to_user_name.unwrap_or_default(), envelope.agent_id.unwrap_or_default(), opened)
    }
}

/// The listener: its base URL, what it got, what it answers next.
pub struct Listener {
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
    count: tokio::sync::watch::Receiver<usize>,
}

impl Listener {
    pub async fn start() -> Listener {
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::<(u16, String)>::new()));
        let (counter, count) = tokio::sync::watch::channel(0usize);
        let counter = Arc::new(counter);
        let router = axum::Router::new().fallback({
            let (received, script) = (received.clone(), script.clone());
            move |method: axum::http::Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (received, script, counter) = (received.clone(), script.clone(), counter.clone());
                async move {
                    let query = uri
                        .query()
                        .unwrap_or_default()
                        .split('&')
                        .filter_map(|pair| pair.split_once('='))
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect();
                    received.lock().expect("lock").push(Received {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        query,
                        content_type: headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    counter.send_modify(|n| *n += 1);
                    let (status, text) =
                        script.lock().expect("lock").pop_front().unwrap_or((200, "success".to_owned()));
                    (StatusCode::from_u16(status).expect("status"), text)
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
        Listener { base, received, script, count }
    }

    /// The next answers, in order, before `success` again.
    pub fn answer_next(&self, answers: &[(u16, &str)]) {
        self.script.lock().expect("lock").extend(answers.iter().map(|(s, b)| (*s, (*b).to_owned())));
    }

    /// Waits (10 s at most) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut count = self.count.clone();
        tokio::time::timeout(std::time::Duration::from_secs(10), count.wait_for(|got| *got >= n))
            .await
            .expect("the pushes arrive in time")
            .expect("the listener runs");
        self.received()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

/// SUITE pushing to `{base}/command` and `{base}/data/{corp}`; QUIET_SUITE
/// with no URL.
pub fn emulator_config(base: &str) -> EmulatorConfig {
    EmulatorConfig {
        suites: vec![
            EmulatedSuite {
                suite_id: SUITE.into(),
                suite_secret: "suite-secret".into(),
                token: TOKEN.into(),
                aes_key: AES_KEY.into(),
                command_url: Some(format!("{base}/command")),
                data_url: Some(format!("{base}/data/$CORPID$")),
                ..EmulatedSuite::default()
            },
            EmulatedSuite {
                suite_id: QUIET_SUITE.into(),
                suite_secret: "suite-secret".into(),
                token: TOKEN.into(),
                aes_key: AES_KEY.into(),
                ..EmulatedSuite::default()
            },
        ],
        ..EmulatorConfig::default()
    }
}

/// The text of element `name` in a plain message.
pub fn element(message: &str, name: &str) -> Option<String> {
    let start = message.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + message[start..].find(&format!("</{name}>"))?;
    let text = &message[start..end];
    Some(text.trim().trim_start_matches("<![CDATA[").trim_end_matches("]]>").to_owned())
}
