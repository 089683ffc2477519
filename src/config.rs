//! Configuration of an [`crate::Application`]: the provider's credentials,
//! its suites, HTTP behaviour and token timing. Deserializes from any serde
//! format (TOML, YAML, JSON, environment via a serde loader) and is checked
//! as a whole by [`Config::validate`], with errors that name the field.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto::decode_aes_key;
use crate::error::Error;
use crate::http::RetryPolicy;
use crate::http::{DEFAULT_BASE_URI, DEFAULT_MAX_RESPONSE_BYTES};
use crate::ids::AppKind;
use crate::ids::{CorpId, SuiteId};
use crate::secret::Secret;
use crate::store::DEFAULT_SQLITE_FILE;
use crate::urls::BrowserUrls;

/// Everything an ISV backend is configured with. `Debug` redacts the secrets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The provider's own corp id (服务商 CorpID).
    pub corp_id: CorpId,
    /// The provider secret (ProviderSecret), for the provider access token.
    pub provider_secret: Secret,
    /// Token of the provider's system-event callback URL.
    pub token: Secret,
    /// EncodingAESKey of the provider's system-event callback URL (43 characters).
    pub aes_key: Secret,
    /// The provider's suites (third-party apps and 代开发 templates).
    #[serde(default)]
    pub suites: Vec<SuiteConfig>,
    /// HTTP behaviour.
    #[serde(default)]
    pub http: HttpConfig,
    /// Token and ticket timing.
    #[serde(default)]
    pub tokens: TokenConfig,
    /// Where tokens, tickets and permanent codes are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where the browser pages (install, OAuth, web login) are: WeCom's
    /// unless set.
    #[serde(default)]
    pub browser: BrowserConfig,
    /// The callback server's own HTTP listener (`wecom-openwork serve`,
    /// `CallbackServer::listen`): its timeouts and limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// What `wecom-openwork` logs. The library logs through `tracing` and
    /// installs no subscriber of its own.
    #[serde(default)]
    pub log: LogConfig,
}

/// The callback listener's limits. Each bounds what one slow or hostile
/// client can hold: a connection that sends half a header, a body that
/// never ends, a request that never gets its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Seconds a connection may take to send a request's headers (also
    /// while idle between requests). Default 10.
    pub header_timeout: f64,
    /// Seconds a request may take to send its body. Default 10.
    pub body_timeout: f64,
    /// Seconds from a request's headers to its answer; past it the request
    /// gets 503, which WeCom retries. Default 30.
    pub request_timeout: f64,
    /// Connections served at once; more wait in the kernel's queue until one
    /// ends. Default 1024.
    pub max_connections: usize,
    /// Seconds the first SIGTERM (or Ctrl-C) waits for requests in flight
    /// and background work; what is left then resumes from the store (the
    /// sweep, or the next start). A second signal exits at once. Default 30.
    pub drain: f64,
    /// Event-loop threads the connections are spread over (each keeps its
    /// connections on one thread); 0, the default, takes one per core, and
    /// 1 serves them on the caller's runtime.
    pub workers: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_timeout: 10.0,
            body_timeout: 10.0,
            request_timeout: 30.0,
            max_connections: 1024,
            drain: 30.0,
            workers: 0,
        }
    }
}

impl ServerConfig {
    /// A field's seconds as a duration.
    pub fn seconds(value: f64) -> Duration {
        Duration::from_secs_f64(value.clamp(0.0, 86_400.0))
    }
}

/// How `wecom-openwork` logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter (`info`, `wecom_openwork=debug,info`); `RUST_LOG`
    /// wins when set. Default `info`.
    pub level: Option<String>,
    /// `text` (the default) or `json`, one object per line; the command
    /// line's `--log-format` wins.
    pub format: Option<LogFormat>,
}

/// The shape of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where users' browsers are sent: `[browser] base = "http://127.0.0.1:8080"`
/// puts every page on one host at WeCom's paths (the emulator), and a page's
/// own key overrides it. Unset, the links go to WeCom.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserConfig {
    /// One host for every page (env `WECOM_BROWSER__BASE`).
    pub base: Option<String>,
    /// The install page's full URL.
    pub install: Option<String>,
    /// The OAuth authorization page's full URL.
    pub oauth_authorize: Option<String>,
    /// The web login page's full URL.
    pub web_login: Option<String>,
    /// The provider login (`3rd_qrConnect`) page's full URL.
    pub provider_login: Option<String>,
}

impl BrowserConfig {
    /// The pages' URLs: each page's own key, else `base` with WeCom's path,
    /// else WeCom's.
    pub fn urls(&self) -> Result<BrowserUrls, Error> {
        let mut urls = match &self.base {
            Some(base) => BrowserUrls::at(base).map_err(|e| browser_error(&e))?,
            None => BrowserUrls::default(),
        };
        for (page, set) in [
            (&mut urls.install, &self.install),
            (&mut urls.oauth_authorize, &self.oauth_authorize),
            (&mut urls.web_login, &self.web_login),
            (&mut urls.provider_login, &self.provider_login),
        ] {
            if let Some(url) = set {
                page.clone_from(url);
            }
        }
        urls.validate().map_err(|e| browser_error(&e))?;
        Ok(urls)
    }
}

/// A bad page URL as a configuration error naming the field.
fn browser_error(e: &Error) -> Error {
    match e {
        Error::InvalidRequest(m) => Error::Config(format!("browser.{m}")),
        other => Error::Config(format!("browser: {other}")),
    }
}

/// Where state is kept: `[store] url = "…"` (env `WECOM_STORE__URL`).
///
/// - `sqlite://PATH` — one file, the default (`sqlite://wecom-openwork.sqlite3`
///   in the working directory). Survives restarts; processes on one host may
///   share it.
/// - `redis://[user:password@]host[:port][/db]` or `rediss://…` (feature
///   `redis`) — for instances on several hosts.
/// - `memory:` — in process only: **every permanent code is lost on
///   restart**. For tests and demos.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The store's URL; unset means the default SQLite file.
    pub url: Option<Secret>,
    /// Limit on one store operation (Redis), or on waiting for another
    /// process's lock (SQLite), in seconds. Default 2.
    pub timeout: f64,
    /// Prefix of every Redis key, so several applications can share one
    /// database. Default `wecom-openwork:`.
    pub key_prefix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: None, timeout: 2.0, key_prefix: "wecom-openwork:".to_owned() }
    }
}

impl StoreConfig {
    /// The in-memory store, stated explicitly (tests, demos).
    pub fn memory() -> Self {
        StoreConfig { url: Some(Secret::new("memory:")), ..StoreConfig::default() }
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted_url(&self) -> String {
        match &self.url {
            None => format!("sqlite://{DEFAULT_SQLITE_FILE}"),
            Some(url) => redact_userinfo(url.expose()),
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &self.redacted_url())
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `scheme://user:password@host…` without the user and password.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// One suite: a third-party app or a 代开发 template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteConfig {
    /// The suite id.
    pub suite_id: SuiteId,
    /// The suite secret.
    pub suite_secret: Secret,
    /// Token of the suite's callback URLs.
    pub token: Secret,
    /// EncodingAESKey of the suite's callback URLs (43 characters).
    pub aes_key: Secret,
    /// What the suite is: `third_party` (the default) or `customized` (a
    /// 代开发 template). A customized suite's corp tokens come from
    /// `gettoken` with the permanent code as the app secret, its OAuth uses
    /// the corp token, and calls its kind may not make are refused before
    /// they are sent ([`crate::Error::AppKindNotAllowed`]).
    #[serde(default)]
    pub kind: AppKind,
}

/// HTTP behaviour of every call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Limit on one attempt, in seconds. Default 5.
    pub timeout: f64,
    /// Whether a non-success HTTP status is an error. Default on.
    pub throw: bool,
    /// Retries: `true` for [`RetryPolicy::default`], `false` for none, or the
    /// settings. Default `true`.
    pub retry: RetrySetting,
    /// The API host. Default [`DEFAULT_BASE_URI`].
    pub base_uri: String,
    /// Limit on a reply's size, in bytes. Default 8 MiB.
    pub max_response_bytes: usize,
    /// How long a call rate-limited by WeCom (45009, 45033) waits, once,
    /// before trying again, in seconds; and how long further calls to that
    /// endpoint for the same scope then fail at once with
    /// [`Error::RateLimited`]. 0, or retries off, fails at once. Default 60
    /// (WeCom's per-minute block); else 60 to 3600. See [`RetryPolicy`].
    pub rate_limit_pause: f64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: 5.0,
            throw: true,
            retry: RetrySetting::default(),
            base_uri: DEFAULT_BASE_URI.to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            rate_limit_pause: 60.0,
        }
    }
}

impl HttpConfig {
    /// The retry policy of `retry`, with `rate_limit_pause`.
    pub fn retry_policy(&self) -> RetryPolicy {
        let pause =
            if self.rate_limit_pause.is_finite() { self.rate_limit_pause.clamp(0.0, 3600.0) } else { 0.0 };
        RetryPolicy { rate_limit_pause: Duration::from_secs_f64(pause), ..self.retry.policy() }
    }
}

/// `retry`: a switch, or the policy's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RetrySetting {
    /// `true`: the default policy; `false`: no retries.
    Enabled(bool),
    /// Explicit settings; unset ones keep their defaults.
    Custom(RetryConfig),
}

impl Default for RetrySetting {
    fn default() -> Self {
        RetrySetting::Enabled(true)
    }
}

/// Retry settings, as users of the PHP SDK know them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// HTTP statuses to retry (`status_codes` is accepted too).
    #[serde(alias = "status_codes")]
    pub http_codes: Vec<u16>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First wait, in milliseconds.
    pub delay: u64,
    /// Growth of the wait per retry.
    pub multiplier: f64,
    /// Longest wait, in milliseconds.
    pub max_delay: u64,
    /// Random spread of each wait, a fraction in `[0, 1]`.
    pub jitter: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        let policy = RetryPolicy::default();
        RetryConfig {
            http_codes: policy.http_codes,
            max_retries: policy.max_retries,
            delay: policy.delay.as_millis() as u64,
            multiplier: policy.multiplier,
            max_delay: policy.max_delay.as_millis() as u64,
            jitter: policy.jitter,
        }
    }
}

impl RetrySetting {
    /// The policy this setting stands for.
    pub fn policy(&self) -> RetryPolicy {
        match self {
            RetrySetting::Enabled(true) => RetryPolicy::default(),
            RetrySetting::Enabled(false) => RetryPolicy::none(),
            RetrySetting::Custom(c) => RetryPolicy {
                http_codes: c.http_codes.clone(),
                max_retries: c.max_retries,
                delay: Duration::from_millis(c.delay),
                multiplier: c.multiplier,
                max_delay: Duration::from_millis(c.max_delay),
                jitter: c.jitter,
                ..RetryPolicy::default()
            },
        }
    }
}

/// When tokens are refreshed and how long tickets are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Refresh a token this many seconds before it expires. Default 300.
    pub refresh_margin: u64,
    /// Keep a pushed suite ticket this many seconds (at least 1800, WeCom's
    /// validity). Default 1800.
    pub suite_ticket_ttl: u64,
    /// How long one instance may hold the "I am refreshing" lease, in
    /// seconds. It must cover the slowest possible fetch (a corp token may
    /// need a suite token first: twice the timeout × attempts plus back-off);
    /// [`Config::validate`] refuses a shorter one. Default 60.
    pub refresh_lease: u64,
    /// How long a corp whose authorization is gone (40084, 48004, 301007,
    /// 2000002) is answered `Error::AuthorizationGone` without asking WeCom
    /// again, in seconds; a new permanent code ends it at once. 0 turns it
    /// off. Default 300.
    pub authorization_gone_ttl: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            refresh_margin: 300,
            suite_ticket_ttl: 1800,
            refresh_lease: 60,
            authorization_gone_ttl: 300,
        }
    }
}

/// The kind of store a configuration names.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKind {
    /// `memory:`.
    Memory,
    /// `sqlite://PATH`, or the default file.
    Sqlite(std::path::PathBuf),
    /// `redis://…` or `rediss://…`, with its URL (which may hold a password).
    Redis(String),
}

impl std::fmt::Display for StoreKind {
    /// Where the store is, as an operator needs to see it: an SQLite file by
    /// its absolute path, a Redis URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreKind::Memory => f.write_str("memory: (nothing survives the process)"),
            StoreKind::Sqlite(path) => {
                let absolute = std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.clone());
                write!(f, "sqlite://{}", absolute.display())
            }
            StoreKind::Redis(url) => f.write_str(&redact_userinfo(url)),
        }
    }
}

impl std::fmt::Debug for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreKind::Memory => f.write_str("Memory"),
            StoreKind::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreKind::Redis(url) => f.debug_tuple("Redis").field(&redact_userinfo(url)).finish(),
        }
    }
}

fn check_token(field: &str, token: &Secret) -> Result<(), Error> {
    let t = token.expose();
    if t.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Config(format!("{field}: must be 1 to 32 letters or digits")));
    }
    Ok(())
}

fn check_aes_key(field: &str, key: &Secret) -> Result<(), Error> {
    decode_aes_key(key.expose()).map(|_| ()).map_err(|m| Error::Config(format!("{field}: {m}")))
}

fn check_nonempty(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::Config(format!("{field}: must not be empty")))
    } else {
        Ok(())
    }
}

impl Config {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        check_nonempty("corp_id", self.corp_id.as_str())?;
        check_nonempty("provider_secret", self.provider_secret.expose())?;
        check_token("token", &self.token)?;
        check_aes_key("aes_key", &self.aes_key)?;
        let mut seen = std::collections::BTreeSet::new();
        for (i, suite) in self.suites.iter().enumerate() {
            check_nonempty(&format!("suites[{i}].suite_id"), suite.suite_id.as_str())?;
            if !seen.insert(suite.suite_id.as_str()) {
                return Err(Error::Config(format!(
                    "suites[{i}].suite_id: {} is listed twice",
                    suite.suite_id
                )));
            }
            check_nonempty(&format!("suites[{i}].suite_secret"), suite.suite_secret.expose())?;
            check_token(&format!("suites[{i}].token"), &suite.token)?;
            check_aes_key(&format!("suites[{i}].aes_key"), &suite.aes_key)?;
        }
        let http = &self.http;
        if !(http.timeout.is_finite() && http.timeout > 0.0 && http.timeout <= 3600.0) {
            return Err(Error::Config(format!(
                "http.timeout: must be between 0 and 3600 seconds, got {}",
                http.timeout
            )));
        }
        let pause = http.rate_limit_pause;
        if !(pause == 0.0 || (60.0..=3600.0).contains(&pause)) {
            return Err(Error::Config(format!(
                "http.rate_limit_pause: must be 0 (fail at once) or between 60 (WeCom blocks for a minute) \
                 and 3600 seconds, got {pause}"
            )));
        }
        if http.max_response_bytes == 0 {
            return Err(Error::Config("http.max_response_bytes: must be greater than zero".into()));
        }
        if let RetrySetting::Custom(retry) = &http.retry {
            if !(retry.multiplier.is_finite() && retry.multiplier >= 1.0) {
                return Err(Error::Config("http.retry.multiplier: must be at least 1".into()));
            }
            if !(0.0..=1.0).contains(&retry.jitter) {
                return Err(Error::Config("http.retry.jitter: must be between 0 and 1".into()));
            }
            if retry.max_retries > 10 {
                return Err(Error::Config("http.retry.max_retries: at most 10".into()));
            }
        }
        let tokens = &self.tokens;
        if tokens.suite_ticket_ttl < 1800 {
            return Err(Error::Config(
                "tokens.suite_ticket_ttl: WeCom's tickets are valid 1800 s; keep them at least that long"
                    .into(),
            ));
        }
        if tokens.refresh_margin >= 3600 {
            return Err(Error::Config("tokens.refresh_margin: must be under 3600 seconds".into()));
        }
        if tokens.authorization_gone_ttl > 24 * 3600 {
            return Err(Error::Config("tokens.authorization_gone_ttl: at most a day (86400 s)".into()));
        }
        if tokens.suite_ticket_ttl > 7 * 24 * 3600 {
            return Err(Error::Config("tokens.suite_ticket_ttl: at most a week".into()));
        }
        let slowest = self.slowest_token_fetch();
        if Duration::from_secs(tokens.refresh_lease) < slowest || tokens.refresh_lease > 24 * 3600 {
            return Err(Error::Config(format!(
                "tokens.refresh_lease: must cover the slowest token fetch ({} s with these http settings) \
                 and be at most a day, got {} s",
                slowest.as_secs_f64().ceil(),
                tokens.refresh_lease
            )));
        }
        self.store_kind()?;
        if !(self.store.timeout.is_finite() && self.store.timeout > 0.0 && self.store.timeout <= 600.0) {
            return Err(Error::Config(format!(
                "store.timeout: must be between 0 and 600 seconds, got {}",
                self.store.timeout
            )));
        }
        if self.store.key_prefix.contains(['{', '}']) {
            return Err(Error::Config("store.key_prefix: must not contain `{` or `}`".into()));
        }
        self.browser.urls()?;
        let server = &self.server;
        for (field, value) in [
            ("server.header_timeout", server.header_timeout),
            ("server.body_timeout", server.body_timeout),
            ("server.request_timeout", server.request_timeout),
            ("server.drain", server.drain),
        ] {
            if !(value.is_finite() && value > 0.0 && value <= 3600.0) {
                return Err(Error::Config(format!(
                    "{field}: must be between 0 and 3600 seconds, got {value}"
                )));
            }
        }
        if server.workers > 1024 {
            return Err(Error::Config(format!("server.workers: at most 1024, got {}", server.workers)));
        }
        if !(1..=1_000_000).contains(&server.max_connections) {
            return Err(Error::Config(format!(
                "server.max_connections: must be between 1 and 1000000, got {}",
                server.max_connections
            )));
        }
        Ok(())
    }

    /// The slowest a token fetch can be: a corp token may need a suite token
    /// first, and each call may take every attempt, timeout and back-off.
    pub fn slowest_token_fetch(&self) -> Duration {
        let policy = self.http.retry.policy();
        let attempts = policy.max_retries.saturating_add(1);
        let waits: Duration = (0..policy.max_retries).map(|n| policy.backoff(n, 1.0)).sum();
        (self.timeout() * attempts + waits) * 2
    }

    /// Which store [`StoreConfig::url`] names, or the field's error.
    pub fn store_kind(&self) -> Result<StoreKind, Error> {
        let Some(url) = &self.store.url else {
            return Ok(StoreKind::Sqlite(std::path::PathBuf::from(DEFAULT_SQLITE_FILE)));
        };
        let url = url.expose();
        let bad = |why: &str| Error::Config(format!("store.url: {why}, got {:?}", redact_userinfo(url)));
        if url == "memory:" || url == "memory://" {
            Ok(StoreKind::Memory)
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(bad("sqlite:// needs a file path"));
            }
            Ok(StoreKind::Sqlite(std::path::PathBuf::from(path)))
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            if cfg!(feature = "redis") {
                Ok(StoreKind::Redis(url.to_owned()))
            } else {
                Err(bad("redis:// needs the crate's `redis` feature"))
            }
        } else {
            Err(bad("must start with sqlite://, redis://, rediss:// or be memory:"))
        }
    }

    /// Reads the configuration from environment variables named after the
    /// fields: `WECOM_CORP_ID`, `WECOM_PROVIDER_SECRET`, `WECOM_TOKEN`,
    /// `WECOM_AES_KEY`; nested fields joined by `__`, list items by index:
    /// `WECOM_SUITES__0__SUITE_ID`, `WECOM_HTTP__TIMEOUT`,
    /// `WECOM_HTTP__RETRY__MAX_RETRIES`. Not validated yet: see
    /// [`Config::validate`] (which [`crate::Application::new`] runs).
    pub fn from_env() -> Result<Config, Error> {
        Config::from_vars("WECOM_", std::env::vars())
    }

    /// Like [`Config::from_env`], from any `(name, value)` pairs with the
    /// given prefix.
    pub fn from_vars(
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Error> {
        let mut root = serde_json::Value::Object(serde_json::Map::new());
        for (name, value) in vars {
            let Some(path) = name.strip_prefix(prefix) else { continue };
            let parts: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            if value == crate::secret::REDACTED {
                return Err(Error::Config(format!("{name}: {}", crate::secret::REDACTED_REFUSED)));
            }
            insert_path(&mut root, &parts, env_value(&value))
                .map_err(|m| Error::Config(format!("{name}: {m}")))?;
        }
        serde_json::from_value(lists_from_indexed_maps(root))
            .map_err(|e| Error::Config(format!("environment: {e}")))
    }

    /// The configuration of suite `suite_id`, if listed.
    pub fn suite(&self, suite_id: &SuiteId) -> Option<&SuiteConfig> {
        self.suites.iter().find(|s| &s.suite_id == suite_id)
    }

    /// `http.timeout` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.http.timeout)
    }
}

/// An environment value as JSON: a number or boolean when it reads back
/// exactly so, a string otherwise (so `0123` stays a string).
fn env_value(text: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)))
            if serde_json::to_string(&v).ok().as_deref() == Some(text) =>
        {
            v
        }
        _ => serde_json::Value::String(text.to_owned()),
    }
}

fn insert_path(
    node: &mut serde_json::Value,
    path: &[String],
    value: serde_json::Value,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else { return Err("empty name".into()) };
    if first.is_empty() {
        return Err("empty name segment".into());
    }
    let serde_json::Value::Object(map) = node else {
        return Err(format!("`{first}` is set both as a value and as a group"));
    };
    if rest.is_empty() {
        map.insert(first.clone(), value);
        return Ok(());
    }
    let child = map.entry(first.clone()).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    insert_path(child, rest, value)
}

/// `{"0": a, "1": b}` becomes `[a, b]` (list items come as indexed names).
fn lists_from_indexed_maps(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, serde_json::Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), lists_from_indexed_maps(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                serde_json::Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                serde_json::Value::Object(
                    map.into_iter().map(|(k, v)| (k, lists_from_indexed_maps(v))).collect(),
                )
            }
        }
        other => other,
    }
}
