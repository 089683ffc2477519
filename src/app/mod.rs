//! The [`Application`]: configuration, store, clock and token runtime in one
//! place, and the handles everything else hangs on.

mod call;
mod credential_handles;
mod handles;
mod jssdk;
#[cfg(feature = "message")]
mod messages;
mod oauth;
#[cfg(feature = "wedrive")]
mod wedrive;

pub use call::Call;
pub(crate) use call::{map_request, Place};
pub use credential_handles::{AccessTokenHandle, PermanentCodeHandle, TicketHandle};
pub use handles::{Corp, Provider, Suite};
pub use oauth::{CorpOAuthUser, CorpOAuthUserDetail};

use credential_handles::Runtime;

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StoreKind};
use crate::credentials::Authorization;
use crate::credentials::TokenManager;
use crate::error::Error;
use crate::http::Client;
use crate::http::UntypedClient;
use crate::http::{StaticTokens, Transport};
use crate::ids::{CorpId, SuiteId};
use crate::secret::Secret;
use crate::store::{MemoryStore, SqliteStore, Store};

/// An ISV backend's entry point: build it once from a [`Config`], share it
/// (it is cheap to clone), and take handles from it.
///
/// ```no_run
/// use wecom_openwork::{Application, Config};
///
/// # async fn run(config: Config) -> Result<(), wecom_openwork::Error> {
/// let app = Application::new(config)?;
/// let suite = app.suite("wwddddccc7775555aaa");
/// let pre = suite.get_pre_auth_code().await?; // the suite token is obtained for you
/// let corp = app.corp("wwddddccc7775555aaa", "wwcorp");
/// let token: String = app.provider().access_token().get().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Application {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    tokens: Arc<TokenManager>,
    client: Client,
    /// What the callback servers of this application share (their hooks
    /// and background work), kept here without this module knowing its type.
    callback_state: OnceLock<Arc<dyn Any + Send + Sync>>,
}

/// An [`Application`] held without keeping it alive (for periodic work
/// that should end with it).
#[derive(Clone)]
pub(crate) struct WeakApplication(std::sync::Weak<Inner>);

impl WeakApplication {
    /// The application, if it is still alive.
    pub(crate) fn upgrade(&self) -> Option<Application> {
        self.0.upgrade().map(|inner| Application { inner })
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Builds an [`Application`] with a store or clock of your choice.
#[must_use]
pub struct ApplicationBuilder {
    config: Config,
    store: Option<Arc<dyn Store>>,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    transport: Option<Arc<dyn Transport>>,
}

impl ApplicationBuilder {
    /// The store for tokens, tickets and permanent codes, in place of the
    /// one `config.store` names (by default the SQLite file
    /// `wecom-openwork.sqlite3` in the working directory).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock for expiry and back-off. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The reqwest client to send with (proxy, TLS, pool).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Where requests go instead of the network (see [`Transport`]): an
    /// in-process WeCom for tests and simulations.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Validates the configuration and builds the application.
    pub fn build(self) -> Result<Application, Error> {
        self.config.validate()?;
        let config = Arc::new(self.config);
        let store = match self.store {
            Some(store) => store,
            None => open_store(&config, &self.clock)?,
        };
        let store: Arc<dyn Store> = Arc::new(crate::store::Measured::new(store, self.clock.clone()));
        let browser = config.browser.urls()?;
        let client_builder = || {
            let mut builder = Client::builder()
                .browser_urls(browser.clone())
                .base_uri(config.http.base_uri.clone())
                .timeout(config.timeout())
                .max_response_bytes(config.http.max_response_bytes)
                .retry(config.http.retry_policy())
                .throw(config.http.throw)
                .clock(self.clock.clone());
            if let Some(http) = &self.http {
                builder = builder.http_client(http.clone());
            }
            if let Some(transport) = &self.transport {
                builder = builder.transport(transport.clone());
            }
            for suite in &config.suites {
                builder = builder.app_kind(suite.suite_id.clone(), suite.kind);
            }
            builder
        };
        let fetcher = client_builder().build(StaticTokens::new())?;
        let tokens = Arc::new(TokenManager::new(config.clone(), store.clone(), self.clock.clone(), fetcher));
        let client = client_builder().build_shared(tokens.clone())?;
        Ok(Application {
            inner: Arc::new(Inner {
                config,
                store,
                clock: self.clock,
                tokens,
                client,
                callback_state: OnceLock::new(),
            }),
        })
    }
}

/// Opens the store `config.store` names.
fn open_store(config: &Config, clock: &Arc<dyn Clock>) -> Result<Arc<dyn Store>, Error> {
    let timeout = Duration::from_secs_f64(config.store.timeout);
    Ok(match config.store_kind()? {
        StoreKind::Memory => Arc::new(MemoryStore::with_clock(clock.clone())),
        StoreKind::Sqlite(path) => {
            if config.store.url.is_none() {
                log_default_store_once(&path);
            }
            Arc::new(SqliteStore::open_with(&path, timeout, clock.clone())?)
        }
        #[cfg(feature = "redis")]
        StoreKind::Redis(url) => {
            let options = crate::store::RedisOptions { key_prefix: config.store.key_prefix.clone(), timeout };
            Arc::new(crate::store::RedisStore::open(&url, options)?)
        }
        #[allow(unreachable_patterns)]
        other => return Err(Error::Config(format!("store.url: {other:?} is not built in"))),
    })
}

/// Says where the default store is, once per process.
fn log_default_store_once(path: &std::path::Path) {
    static LOGGED: std::sync::Once = std::sync::Once::new();
    LOGGED.call_once(|| {
        let shown = std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf());
        tracing::info!(path = %shown.display(), "no store configured: keeping tokens, tickets and permanent codes in this SQLite file");
    });
}

/// The provider's account, as configured (the PHP SDK's `getAccount()`).
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    config: &'a Config,
}

impl Account<'_> {
    /// The provider's corp id.
    pub fn corp_id(&self) -> &CorpId {
        &self.config.corp_id
    }

    /// The provider secret.
    pub fn provider_secret(&self) -> &Secret {
        &self.config.provider_secret
    }

    /// The system-event callback token.
    pub fn token(&self) -> &Secret {
        &self.config.token
    }

    /// The system-event callback EncodingAESKey.
    pub fn aes_key(&self) -> &Secret {
        &self.config.aes_key
    }
}

impl Application {
    /// Validates `config` and builds an application with the store it names
    /// (by default the SQLite file `wecom-openwork.sqlite3` in the working
    /// directory).
    pub fn new(config: Config) -> Result<Application, Error> {
        Application::builder(config).build()
    }

    /// A builder, to choose the store or the clock.
    pub fn builder(config: Config) -> ApplicationBuilder {
        ApplicationBuilder { config, store: None, clock: Arc::new(SystemClock), http: None, transport: None }
    }

    /// The provider login page (`3rd_qrConnect`) for the provider's corp,
    /// on the configured page (WeCom's by default). The browser comes back
    /// to `redirect_uri?auth_code=…&state=…`; the code goes to
    /// `app.provider().get_login_info`, once, within 5 minutes.
    pub fn provider_login_url(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        usertype: crate::urls::LoginUserType,
    ) -> Result<String, Error> {
        let urls = self.inner.client.browser_urls();
        urls.provider_login_url(&self.inner.config.corp_id, redirect_uri, state, usertype)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The provider's account: corp id, secret, callback token and key.
    pub fn account(&self) -> Account<'_> {
        Account { config: &self.inner.config }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    #[cfg(test)]
    pub(crate) fn token_manager(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// The token runtime, with the authorization records.
    pub(crate) fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// The slot the callback servers keep their shared state in.
    pub(crate) fn callback_state(&self) -> &OnceLock<Arc<dyn Any + Send + Sync>> {
        &self.inner.callback_state
    }

    /// This application, held weakly.
    pub(crate) fn downgrade(&self) -> WeakApplication {
        WeakApplication(Arc::downgrade(&self.inner))
    }

    fn runtime(&self) -> Runtime {
        Runtime { tokens: self.inner.tokens.clone(), clock: self.inner.clock.clone() }
    }

    /// The provider's handle: provider-token calls and the provider access
    /// token (`app.provider().access_token()`).
    pub fn provider(&self) -> Provider {
        Provider::new(self.inner.client.clone(), Some(self.runtime()))
    }

    /// A suite's handle: the install flow, its groups, its access token and
    /// its ticket, with the suite token obtained and refreshed for you.
    pub fn suite(&self, suite_id: impl Into<SuiteId>) -> Suite {
        Suite::new(self.inner.client.clone(), suite_id.into(), Some(self.runtime()))
    }

    /// An authorizing corp's handle, with its corp token obtained from the
    /// stored permanent code and refreshed for you. The suite comes first.
    /// A pair that looks swapped (the first id is not a configured suite but
    /// the second is) gives a handle whose every call fails at once, saying
    /// so, before anything is sent.
    pub fn corp(&self, suite_id: impl Into<SuiteId>, corp_id: impl Into<CorpId>) -> Corp {
        let (suite_id, corp_id) = (suite_id.into(), corp_id.into());
        let config = &self.inner.config;
        let swapped =
            config.suite(&suite_id).is_none() && config.suite(&SuiteId::new(corp_id.as_str())).is_some();
        let corp =
            Corp::new(self.inner.client.clone(), suite_id.clone(), corp_id.clone(), Some(self.runtime()));
        if swapped {
            return corp.refused(format!(
                "app.corp(suite, corp) was given ({suite_id}, {corp_id}): {corp_id} is a configured suite and \
                 {suite_id} is not; the suite comes first"
            ));
        }
        corp
    }

    /// Stores an authorization, unless a newer one of the same corp and
    /// suite is stored. Returns whether it was stored.
    pub async fn save_authorization(&self, authorization: &Authorization) -> Result<bool, Error> {
        self.inner.tokens.save_authorization(authorization).await
    }

    /// Every stored authorization, by suite then corp.
    pub async fn authorizations(&self) -> Result<Vec<Authorization>, Error> {
        self.inner.tokens.authorizations().await
    }

    /// The typed client behind the handles, with this application's token
    /// runtime, retries and limits.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Calls to endpoints no spec covers yet, with the same tokens, retries
    /// and envelope rule: the escape hatch.
    #[doc(alias = "getClient")]
    pub fn untyped(&self) -> UntypedClient {
        UntypedClient::new(self.inner.client.clone())
    }
}
