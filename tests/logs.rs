//! Calls leave a trace (one span per call, with its endpoint, suite, corp and
//! attempt) and the trace never holds a token or a secret.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{app_on_emulator, AES_KEY, CORP, SUITE};
use wecom_openwork::emulator::Fault;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_name_the_call_and_never_a_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    corp.jsapi().get_jsapi_ticket().await.expect("call");
    emulator.inject(Some("/cgi-bin/get_jsapi_ticket"), 1, Fault::Errcode(42001));
    corp.jsapi().get_jsapi_ticket().await.expect("call after a refetch");
    emulator.inject(Some("/cgi-bin/get_jsapi_ticket"), 1, Fault::Errcode(-1));
    corp.jsapi().get_jsapi_ticket().await.expect("call after a back-off");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("UTF-8");
    assert!(logs.contains("wecom.call"), "{logs}");
    assert!(logs.contains("endpoint=get_jsapi_ticket"), "{logs}");
    assert!(logs.contains(&format!("corp=\"{CORP}\"")) || logs.contains(&format!("corp={CORP}")), "{logs}");
    assert!(logs.contains("attempt=2"), "{logs}");

    let mut secrets: Vec<String> =
        emulator.requests().iter().filter_map(|r| r.token().map(str::to_owned)).collect();
    assert!(secrets.len() >= 5, "tokens were used");
    secrets.extend(
        [
            "provider-secret-value",
            "secret-of-wwsuite0001",
            "permanent-code-of-corp",
            "ticket-of-wwsuite0001",
            AES_KEY,
        ]
        .map(String::from),
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
}
