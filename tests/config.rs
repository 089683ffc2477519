//! Configuration: the formats it comes in, the checks it passes, and the
//! secrets its `Debug` hides.

mod common;

use common::AES_KEY;
use wecom_openwork::config::{RetrySetting, StoreConfig, SuiteConfig};
use wecom_openwork::{Application, Config, Error, RetryPolicy, Secret};

const TOML: &str = r#"
corp_id = "wwprovider0001"
provider_secret = "provider-secret-value"
token = "ProviderToken"
aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"

[[suites]]
suite_id = "wwsuite0001"
suite_secret = "suite-secret-value"
token = "SuiteToken"
aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

[http]
timeout = 2.5
retry = { status_codes = [503], max_retries = 2, delay = 200, multiplier = 3.0 }

[store]
url = "memory:"
"#;

fn expected() -> Config {
    let mut config = Config {
        corp_id: "wwprovider0001".into(),
        provider_secret: "provider-secret-value".into(),
        token: "ProviderToken".into(),
        aes_key: AES_KEY.into(),
        suites: vec![SuiteConfig {
            suite_id: "wwsuite0001".into(),
            suite_secret: "suite-secret-value".into(),
            token: "SuiteToken".into(),
            aes_key: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C".into(),
            ..Default::default()
        }],
        ..Config::default()
    };
    config.store = StoreConfig::memory();
    config.http.timeout = 2.5;
    config.http.retry =
        serde_json::from_str(r#"{"http_codes":[503],"max_retries":2,"delay":200,"multiplier":3.0}"#)
            .expect("retry settings");
    config
}

#[test]
fn toml_yaml_json_and_environment_give_the_same_config() {
    let from_toml: Config = toml::from_str(TOML).expect("TOML");
    assert_eq!(from_toml, expected());

    // Secrets are written only when asked for explicitly.
    let yaml = Secret::exposing(|| serde_norway::to_string(&expected())).expect("to YAML");
    let from_yaml: Config = serde_norway::from_str(&yaml).expect("YAML");
    assert_eq!(from_yaml, expected());

    let json = Secret::exposing(|| serde_json::to_string(&expected())).expect("to JSON");
    let from_json: Config = serde_json::from_str(&json).expect("JSON");
    assert_eq!(from_json, expected());

    let vars = [
        ("WECOM_CORP_ID", "wwprovider0001"),
        ("WECOM_PROVIDER_SECRET", "provider-secret-value"),
        ("WECOM_TOKEN", "ProviderToken"),
        ("WECOM_AES_KEY", AES_KEY),
        ("WECOM_SUITES__0__SUITE_ID", "wwsuite0001"),
        ("WECOM_SUITES__0__SUITE_SECRET", "suite-secret-value"),
        ("WECOM_SUITES__0__TOKEN", "SuiteToken"),
        ("WECOM_SUITES__0__AES_KEY", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"),
        ("WECOM_HTTP__TIMEOUT", "2.5"),
        ("WECOM_HTTP__RETRY__HTTP_CODES__0", "503"),
        ("WECOM_HTTP__RETRY__MAX_RETRIES", "2"),
        ("WECOM_HTTP__RETRY__DELAY", "200"),
        ("WECOM_HTTP__RETRY__MULTIPLIER", "3.0"),
        ("WECOM_STORE__URL", "memory:"),
        ("UNRELATED", "ignored"),
    ];
    let from_env = Config::from_vars("WECOM_", vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).expect("env");
    assert_eq!(from_env, expected());
}

#[test]
fn the_retry_setting_takes_effect() {
    let policy = expected().http.retry.policy();
    assert_eq!(policy.http_codes, [503]);
    assert_eq!(policy.max_retries, 2);
    assert_eq!(policy.delay.as_millis(), 200);
    assert_eq!(policy.multiplier, 3.0);
    assert_eq!(RetrySetting::Enabled(true).policy(), RetryPolicy::default());
    assert_eq!(RetrySetting::Enabled(false).policy().max_retries, 0);
    let off: Config = toml::from_str(&format!("{TOML}\n")).expect("TOML");
    let app = Application::new(off).expect("valid");
    assert_eq!(app.client().retry_policy().max_retries, 2);
}

#[test]
fn a_digits_only_secret_from_the_environment_stays_a_string() {
    let vars = [
        ("W_CORP_ID", "ww1"),
        ("W_PROVIDER_SECRET", "0123"),
        ("W_TOKEN", "12345678"),
        ("W_AES_KEY", AES_KEY),
    ];
    let config = Config::from_vars("W_", vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).expect("env");
    assert_eq!(config.provider_secret.expose(), "0123");
    assert_eq!(config.token.expose(), "12345678");
}

#[test]
fn validation_names_the_bad_field() {
    type Breakage = Box<dyn Fn(&mut Config)>;
    let cases: Vec<(&str, Breakage)> = vec![
        ("aes_key: must be 43 characters, got 42", Box::new(|c| c.aes_key = AES_KEY[..42].into())),
        ("suites[0].aes_key: must be 43 characters", Box::new(|c| c.suites[0].aes_key = "x".into())),
        (
            "suites[0].aes_key: must hold only letters",
            Box::new(|c| c.suites[0].aes_key = "-".repeat(43).into()),
        ),
        ("corp_id: must not be empty", Box::new(|c| c.corp_id = "".into())),
        ("provider_secret: must not be empty", Box::new(|c| c.provider_secret = "".into())),
        ("token: must be 1 to 32 letters or digits", Box::new(|c| c.token = "has space".into())),
        ("suites[1].suite_id: wwsuite0001 is listed twice", Box::new(|c| c.suites.push(c.suites[0].clone()))),
        ("http.timeout", Box::new(|c| c.http.timeout = 0.0)),
        ("tokens.suite_ticket_ttl", Box::new(|c| c.tokens.suite_ticket_ttl = 600)),
        ("http.base_uri", Box::new(|c| c.http.base_uri = "qyapi.weixin.qq.com".into())),
        ("store.url: must start with sqlite://", Box::new(|c| c.store.url = Some("mysql://x".into()))),
        ("store.url: sqlite:// needs a file path", Box::new(|c| c.store.url = Some("sqlite://".into()))),
        ("store.url", Box::new(|c| c.store.url = Some("redis://user:pw@[::1".into()))),
        ("store.timeout", Box::new(|c| c.store.timeout = f64::NAN)),
        ("store.key_prefix", Box::new(|c| c.store.key_prefix = "{app}".into())),
        // 2 × (3 attempts × 2.5 s + 0.2 s + 0.6 s) = 16.6 s: a 10 s lease would lapse mid-fetch.
        (
            "tokens.refresh_lease: must cover the slowest token fetch (17 s",
            Box::new(|c| c.tokens.refresh_lease = 10),
        ),
    ];
    for (words, break_it) in cases {
        let mut config = expected();
        break_it(&mut config);
        let err = Application::new(config).expect_err(words);
        assert!(matches!(&err, Error::Config(m) if m.contains(words)), "{words}: {err}");
    }
    assert!(Application::new(expected()).is_ok());
}

#[test]
fn unknown_fields_are_refused() {
    let err = toml::from_str::<Config>(&TOML.replace("timeout = 2.5", "timout = 2.5")).unwrap_err();
    assert!(err.to_string().contains("timout"), "{err}");
}

#[test]
fn debug_output_hides_every_secret() {
    let config = expected();
    let app = Application::new(config.clone()).expect("valid");
    for shown in [format!("{config:?}"), format!("{app:?}"), format!("{:?}", app.account().provider_secret())]
    {
        for secret in ["provider-secret-value", "suite-secret-value", "ProviderToken", "SuiteToken", AES_KEY]
        {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }
    assert!(format!("{config:?}").contains("wwprovider0001"), "ids stay visible");
}
