//! One distinct push through `CallbackServer::serve`, in process: the
//! signature, the decryption, the event, the replay window, the handler
//! chain and the answer; no network. What `serve` spends per push besides
//! HTTP (see `benches/push/` for the whole service against Node).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wecom_openwork::config::{StoreConfig, SuiteConfig};
use wecom_openwork::crypto::MsgCrypt;
use wecom_openwork::server::CallbackUrl;
use wecom_openwork::{Application, Config};

const SUITE: &str = "wwbenchsuite";
const TOKEN: &str = "BenchToken";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn app() -> Application {
    let config = Config {
        corp_id: "wwbenchprovider".into(),
        provider_secret: "secret".into(),
        token: TOKEN.into(),
        aes_key: AES_KEY.into(),
        suites: vec![SuiteConfig {
            suite_id: SUITE.into(),
            suite_secret: "secret".into(),
            token: TOKEN.into(),
            aes_key: AES_KEY.into(),
            ..Default::default()
        }],
        store: StoreConfig::memory(),
        ..Config::default()
    };
    Application::new(config).expect("valid")
}

fn push_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let server = app().server();
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, SUITE).expect("key");
    let url = CallbackUrl::Command(SUITE.into());
    let mut n = 0u64;
    let mut group = c.benchmark_group("push");
    group.throughput(Throughput::Elements(1));
    group.bench_function("distinct change_contact through serve", |b| {
        b.iter_batched(
            || {
                n += 1;
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now");
                let timestamp = now.as_secs().to_string();
                let message = format!(
                    "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><AuthCorpId><![CDATA[wwcorp]]></AuthCorpId><InfoType><![CDATA[change_contact]]></InfoType><TimeStamp>{timestamp}</TimeStamp><ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[user{n}]]></UserID><Name><![CDATA[Member {n}]]></Name><Department><![CDATA[1]]></Department><Mobile><![CDATA[13800000000]]></Mobile></xml>"
                );
                let sealed = crypt.encrypt(&message, &timestamp, "nonce").expect("sealed");
                let query = format!("msg_signature={}&timestamp={timestamp}&nonce=nonce", sealed.msg_signature);
                let body = format!(
                    "<xml><ToUserName><![CDATA[{SUITE}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>",
                    sealed.encrypt
                );
                (query, body)
            },
            |(query, body)| {
                let response = runtime.block_on(server.serve(&url, "POST", &query, body.as_bytes()));
                assert_eq!(response.body, "success");
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, push_path);
criterion_main!(benches);
