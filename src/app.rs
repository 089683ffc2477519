//! The [`Application`]: configuration, store, clock and token runtime in one
//! place, and the handles everything else hangs on.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::authorization::types::{CorpAuthInfo, GetAuthInfoRequest};
use crate::api::oauth::types::{
    GetUserDetail3rdRequest, GetUserDetailRequest, GetUserInfo3rdQuery, GetUserInfoQuery, UserDetail,
    UserDetail3rd, UserInfo, UserInfo3rd,
};
use crate::authorizations::{AppKind, Authorization};
use crate::client::{decode_json, Client, Target, TokenUse};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StoreKind};
use crate::endpoint::HttpMethod;
use crate::error::Error;
use crate::handle::{Corp, Provider, Suite};
use crate::ids::{CorpId, SuiteId};
use crate::secret::Secret;
use crate::store::{MemoryStore, SqliteStore, Store};
use crate::token::{StaticTokens, TokenScope, TokenSource};
use crate::tokens::TokenManager;
use crate::urls::{oauth_authorize_url, OAuthScope};

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
/// let token: String = app.provider_access_token().get_token().await?;
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

    /// Validates the configuration and builds the application.
    pub fn build(self) -> Result<Application, Error> {
        self.config.validate()?;
        let config = Arc::new(self.config);
        let store = match self.store {
            Some(store) => store,
            None => open_store(&config, &self.clock)?,
        };
        let client_builder = || {
            let mut builder = Client::builder()
                .base_uri(config.http.base_uri.clone())
                .timeout(config.timeout())
                .max_response_bytes(config.http.max_response_bytes)
                .retry(config.http.retry_policy())
                .throw(config.http.throw)
                .clock(self.clock.clone());
            if let Some(http) = &self.http {
                builder = builder.http_client(http.clone());
            }
            for suite in &config.suites {
                builder = builder.app_kind(suite.suite_id.clone(), suite.kind);
            }
            builder
        };
        let fetcher = client_builder().build(StaticTokens::new())?;
        let tokens = Arc::new(TokenManager::new(config.clone(), store.clone(), self.clock.clone(), fetcher));
        let client = client_builder().build_shared(tokens.clone())?;
        Ok(Application { inner: Arc::new(Inner { config, store, clock: self.clock, tokens, client }) })
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
        ApplicationBuilder { config, store: None, clock: Arc::new(SystemClock), http: None }
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

    /// The provider access token.
    pub fn provider_access_token(&self) -> AccessTokenHandle {
        self.token_handle(TokenScope::Provider, None)
    }

    /// A suite's access token.
    pub fn suite_access_token(&self, suite_id: impl Into<SuiteId>) -> AccessTokenHandle {
        self.token_handle(TokenScope::Suite(suite_id.into()), None)
    }

    /// An authorizing corp's access token, from its stored permanent code.
    pub fn corp_access_token(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
    ) -> AccessTokenHandle {
        self.token_handle(TokenScope::Corp { suite_id: suite_id.into(), corp_id: corp_id.into() }, None)
    }

    /// An authorizing corp's access token, from `permanent_code` (stored for
    /// later use by [`Application::corp`]). The PHP SDK's name.
    pub fn authorizer_access_token(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> AccessTokenHandle {
        let scope = TokenScope::Corp { suite_id: suite_id.into(), corp_id: corp_id.into() };
        self.token_handle(scope, Some(permanent_code.into()))
    }

    fn token_handle(&self, scope: TokenScope, permanent_code: Option<Secret>) -> AccessTokenHandle {
        AccessTokenHandle {
            tokens: self.inner.tokens.clone(),
            key: self.inner.tokens.key_of(&scope).into(),
            scope,
            permanent_code,
            code_stored: Arc::default(),
        }
    }

    /// A suite's ticket: read it, or store a pushed one.
    pub fn suite_ticket(&self, suite_id: impl Into<SuiteId>) -> SuiteTicket {
        SuiteTicket {
            tokens: self.inner.tokens.clone(),
            clock: self.inner.clock.clone(),
            suite_id: suite_id.into(),
        }
    }

    /// The provider-token methods (`get_register_code`, `corpid_to_opencorpid`, …).
    pub fn provider(&self) -> Provider {
        self.inner.client.provider()
    }

    /// A suite's methods (suite, authorization, third-party OAuth), with its
    /// suite token obtained and refreshed for you.
    pub fn suite(&self, suite_id: impl Into<SuiteId>) -> Suite {
        self.inner.client.suite(suite_id)
    }

    /// An authorizing corp's methods, with its corp token obtained from the
    /// stored permanent code and refreshed for you.
    pub fn corp(&self, suite_id: impl Into<SuiteId>, corp_id: impl Into<CorpId>) -> Corp {
        self.inner.client.corp(suite_id, corp_id)
    }

    /// The corp's authorization (`get_auth_info`). The PHP SDK's name.
    pub async fn authorization(
        &self,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        suite_id: impl Into<SuiteId>,
    ) -> Result<CorpAuthInfo, Error> {
        let request = GetAuthInfoRequest {
            auth_corpid: corp_id.into().to_string(),
            permanent_code: permanent_code.into().expose().to_owned(),
        };
        self.suite(suite_id).get_auth_info(&request).await
    }

    /// Stores a corp's permanent code (as the create_auth handler does).
    pub async fn set_permanent_code(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
    ) -> Result<(), Error> {
        let code = permanent_code.into();
        self.inner.tokens.set_permanent_code(&suite_id.into(), &corp_id.into(), code.expose()).await
    }

    /// A corp's stored permanent code.
    pub async fn permanent_code(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
    ) -> Result<Option<Secret>, Error> {
        self.inner.tokens.permanent_code(&suite_id.into(), &corp_id.into()).await
    }

    /// Forgets a corp (after cancel_auth): its authorization with the
    /// permanent code, and its token. Returns whether there was one.
    pub async fn forget_corp(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
    ) -> Result<bool, Error> {
        self.inner.tokens.forget_corp(&suite_id.into(), &corp_id.into(), None).await
    }

    /// Forgets a corp only if its stored authorization was issued before
    /// `cancelled_at`: a late or replayed cancel never removes a newer
    /// authorization. Returns whether it was forgotten.
    pub async fn forget_corp_cancelled_at(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
        cancelled_at: SystemTime,
    ) -> Result<bool, Error> {
        self.inner.tokens.forget_corp(&suite_id.into(), &corp_id.into(), Some(cancelled_at)).await
    }

    /// A corp's stored authorization: its permanent code and what is known
    /// of it (name, agent, edition, when it authorized).
    pub async fn authorization_record(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
    ) -> Result<Option<Authorization>, Error> {
        self.inner.tokens.authorization(&suite_id.into(), &corp_id.into()).await
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

    /// Use `source` for the provider token instead of the runtime.
    pub fn set_provider_access_token(&self, source: impl TokenSource + 'static) {
        self.inner.tokens.set_override(TokenScope::Provider, Arc::new(source));
    }

    /// Use `source` for a suite's token instead of the runtime.
    pub fn set_suite_access_token(&self, suite_id: impl Into<SuiteId>, source: impl TokenSource + 'static) {
        self.inner.tokens.set_override(TokenScope::Suite(suite_id.into()), Arc::new(source));
    }

    /// Use `source` for a corp's token instead of the runtime.
    pub fn set_authorizer_access_token(
        &self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
        source: impl TokenSource + 'static,
    ) {
        let scope = TokenScope::Corp { suite_id: suite_id.into(), corp_id: corp_id.into() };
        self.inner.tokens.set_override(scope, Arc::new(source));
    }

    /// Third-party OAuth for a suite's users (`appid` = the suite id), with
    /// the suite token. A 代开发 suite may not use it: its calls fail with
    /// [`Error::AppKindNotAllowed`]; use [`Application::corp_oauth`].
    pub fn oauth(&self, suite_id: impl Into<SuiteId>) -> OAuth {
        OAuth { suite: self.suite(suite_id) }
    }

    /// OAuth of a corp's users through the suite's app (`appid` = the corp
    /// id), as the suite's configured kind does it: a third-party suite
    /// resolves codes with `get_user_info_3rd` / `get_user_detail_3rd` and
    /// its suite token (the PHP SDK's `getCorpOAuth`); a 代开发 suite with
    /// `get_user_info` / `get_user_detail` and the corp token. A suite that
    /// is not configured is taken for a third-party one.
    pub fn corp_oauth(&self, corp_id: impl Into<CorpId>, suite_id: impl Into<SuiteId>) -> CorpOAuth {
        let suite_id = suite_id.into();
        let kind = self.inner.config.suite(&suite_id).map(|s| s.kind).unwrap_or_default();
        CorpOAuth { kind, suite: self.suite(suite_id.clone()), corp: self.corp(suite_id, corp_id) }
    }

    /// The typed client behind the handles, with this application's token
    /// runtime, retries and limits.
    pub fn api(&self) -> &Client {
        &self.inner.client
    }

    /// Calls to endpoints no spec covers yet, with the same tokens, retries
    /// and envelope rule.
    pub fn client(&self) -> UntypedClient {
        UntypedClient { client: self.inner.client.clone() }
    }
}

/// One token scope's access token (the PHP SDK's `getToken()`).
#[derive(Clone)]
pub struct AccessTokenHandle {
    tokens: Arc<TokenManager>,
    /// The scope's store key, made once.
    key: Arc<str>,
    scope: TokenScope,
    permanent_code: Option<Secret>,
    /// Whether `permanent_code` was stored: once per handle, not per call
    /// (and never again after a cancel_auth forgot it).
    code_stored: Arc<std::sync::atomic::AtomicBool>,
}

impl fmt::Debug for AccessTokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenHandle").field("scope", &self.scope).finish_non_exhaustive()
    }
}

impl AccessTokenHandle {
    /// The scope.
    pub fn scope(&self) -> &TokenScope {
        &self.scope
    }

    async fn remember_code(&self) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        if self.code_stored.load(Ordering::Acquire) {
            return Ok(());
        }
        if let (Some(code), TokenScope::Corp { suite_id, corp_id }) = (&self.permanent_code, &self.scope) {
            self.tokens.set_permanent_code(suite_id, corp_id, code.expose()).await?;
        }
        self.code_stored.store(true, Ordering::Release);
        Ok(())
    }

    /// The current token, fetched or refreshed if needed.
    pub async fn get_token(&self) -> Result<String, Error> {
        self.remember_code().await?;
        self.tokens.get_keyed(&self.scope, &self.key).await
    }

    /// Drops the stored token and fetches a new one.
    pub async fn refresh(&self) -> Result<String, Error> {
        self.remember_code().await?;
        self.tokens.forget(&self.scope).await?;
        self.tokens.get_keyed(&self.scope, &self.key).await
    }
}

/// A suite's ticket (the PHP SDK's `getSuiteTicket()`).
#[derive(Clone)]
pub struct SuiteTicket {
    tokens: Arc<TokenManager>,
    clock: Arc<dyn Clock>,
    suite_id: SuiteId,
}

impl fmt::Debug for SuiteTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteTicket").field("suite_id", &self.suite_id).finish_non_exhaustive()
    }
}

impl SuiteTicket {
    /// The latest ticket, or [`Error::SuiteTicketMissing`].
    pub async fn get_ticket(&self) -> Result<String, Error> {
        self.tokens.ticket(&self.suite_id).await
    }

    /// Stores a ticket pushed now.
    pub async fn set_ticket(&self, ticket: &str) -> Result<(), Error> {
        self.set_ticket_pushed_at(ticket, self.clock.now()).await.map(|_| ())
    }

    /// Stores a ticket pushed at `pushed_at` (the push's `TimeStamp`), unless
    /// a newer push is stored: the newest wins even when pushes arrive out of
    /// order. Returns whether it was stored.
    pub async fn set_ticket_pushed_at(&self, ticket: &str, pushed_at: SystemTime) -> Result<bool, Error> {
        self.tokens.set_ticket(&self.suite_id, ticket, pushed_at).await
    }
}

/// Third-party OAuth of a suite: the link, and a code into its user.
#[derive(Clone, Debug)]
pub struct OAuth {
    suite: Suite,
}

impl OAuth {
    /// The authorization link (`appid` = the suite id).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
    ) -> Result<String, Error> {
        oauth_authorize_url(self.suite.suite_id().as_str(), redirect_uri, scope, state, None)
    }

    /// The user a redirect's `code` belongs to (`get_user_info_3rd`).
    pub async fn user_from_code(&self, code: &str) -> Result<UserInfo3rd, Error> {
        self.suite.get_user_info_3rd(&GetUserInfo3rdQuery { code: code.to_owned() }).await
    }

    /// The user's details from a `user_ticket` (`get_user_detail_3rd`).
    pub async fn user_detail(&self, user_ticket: &str) -> Result<UserDetail3rd, Error> {
        self.suite.get_user_detail_3rd(&GetUserDetail3rdRequest { user_ticket: user_ticket.to_owned() }).await
    }
}

/// OAuth of a corp's users through a suite's app, the way the suite's kind
/// does it (see [`Application::corp_oauth`]).
#[derive(Clone, Debug)]
pub struct CorpOAuth {
    kind: AppKind,
    suite: Suite,
    corp: Corp,
}

/// Who an OAuth code belongs to, as the endpoint the suite's kind uses
/// answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CorpOAuthUser {
    /// A third-party suite's answer (`get_user_info_3rd`, suite token).
    ThirdParty(UserInfo3rd),
    /// A 代开发 suite's answer (`get_user_info`, corp token).
    Customized(UserInfo),
}

impl CorpOAuthUser {
    /// The member's userid, when the user is a member of the corp.
    pub fn userid(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.userid.as_deref(),
            CorpOAuthUser::Customized(u) => u.userid.as_deref(),
        }
    }

    /// The ticket for [`CorpOAuth::user_detail`], when the scope and the
    /// app's visible range give one.
    pub fn user_ticket(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.user_ticket.as_deref(),
            CorpOAuthUser::Customized(u) => u.user_ticket.as_deref(),
        }
    }

    /// The identifier of a user who is not a member.
    pub fn openid(&self) -> Option<&str> {
        match self {
            CorpOAuthUser::ThirdParty(u) => u.openid.as_deref(),
            CorpOAuthUser::Customized(u) => u.openid.as_deref(),
        }
    }
}

/// A member's details from a `user_ticket`, as the endpoint the suite's
/// kind uses answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CorpOAuthUserDetail {
    /// A third-party suite's answer (`get_user_detail_3rd`, suite token).
    ThirdParty(UserDetail3rd),
    /// A 代开发 suite's answer (`get_user_detail`, corp token).
    Customized(UserDetail),
}

impl CorpOAuthUserDetail {
    /// The member's userid.
    pub fn userid(&self) -> Option<&str> {
        match self {
            CorpOAuthUserDetail::ThirdParty(d) => d.userid.as_deref(),
            CorpOAuthUserDetail::Customized(d) => d.userid.as_deref(),
        }
    }
}

impl CorpOAuth {
    /// The suite's kind, which decides the endpoints used.
    pub fn kind(&self) -> AppKind {
        self.kind
    }

    /// The authorization link (`appid` = the corp id; `agentid` is required
    /// for [`OAuthScope::PrivateInfo`]).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: OAuthScope,
        state: Option<&str>,
        agentid: Option<i64>,
    ) -> Result<String, Error> {
        oauth_authorize_url(self.corp.corp_id().as_str(), redirect_uri, scope, state, agentid)
    }

    /// The user a redirect's `code` belongs to: `get_user_info_3rd` (suite
    /// token) for a third-party suite, `get_user_info` (corp token) for a
    /// 代开发 one. The code is single use: the call is never repeated.
    pub async fn user_from_code(&self, code: &str) -> Result<CorpOAuthUser, Error> {
        match self.kind {
            AppKind::ThirdParty => self
                .suite
                .get_user_info_3rd(&GetUserInfo3rdQuery { code: code.to_owned() })
                .await
                .map(CorpOAuthUser::ThirdParty),
            AppKind::Customized => self
                .corp
                .get_user_info(&GetUserInfoQuery { code: code.to_owned() })
                .await
                .map(CorpOAuthUser::Customized),
        }
    }

    /// The user's details from a `user_ticket`: `get_user_detail_3rd` (suite
    /// token) for a third-party suite, `get_user_detail` (corp token) for a
    /// 代开发 one.
    pub async fn user_detail(&self, user_ticket: &str) -> Result<CorpOAuthUserDetail, Error> {
        match self.kind {
            AppKind::ThirdParty => self
                .suite
                .get_user_detail_3rd(&GetUserDetail3rdRequest { user_ticket: user_ticket.to_owned() })
                .await
                .map(CorpOAuthUserDetail::ThirdParty),
            AppKind::Customized => self
                .corp
                .get_user_detail(&GetUserDetailRequest { user_ticket: user_ticket.to_owned() })
                .await
                .map(CorpOAuthUserDetail::Customized),
        }
    }
}

/// Calls by path, for endpoints not (yet) in a spec. The token scope picks
/// the token and its query name (`provider_access_token`,
/// `suite_access_token`, `access_token`); `None` sends no token.
#[derive(Clone, Debug)]
pub struct UntypedClient {
    client: Client,
}

impl UntypedClient {
    /// `GET path?query` (retried on uncertain failures: a GET is safe to repeat).
    pub async fn get<R: DeserializeOwned>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        query: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Get, path, scope, Some(query), None::<&()>, true).await
    }

    /// `POST path` with a JSON body. Not repeated after an uncertain failure
    /// (it may consume a one-time code); see [`UntypedClient::post_json_idempotent`].
    pub async fn post_json<R: DeserializeOwned>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        body: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Post, path, scope, None::<&()>, Some(body), false).await
    }

    /// `POST path` with a JSON body that is harmless to send twice, so it is
    /// retried like a GET.
    pub async fn post_json_idempotent<R: DeserializeOwned>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        body: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Post, path, scope, None::<&()>, Some(body), true).await
    }

    async fn call<Q: Serialize + ?Sized, B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: HttpMethod,
        path: &str,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
        retry_safe: bool,
    ) -> Result<R, Error> {
        if path.contains(['?', '#']) || path.chars().any(char::is_whitespace) {
            return Err(Error::InvalidRequest(format!(
                "path {path:?} must be a bare path; pass parameters as `query`"
            )));
        }
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        let token_param = scope.as_ref().map(|s| match s {
            TokenScope::Provider => "provider_access_token",
            TokenScope::Suite(_) => "suite_access_token",
            TokenScope::Corp { .. } => "access_token",
        });
        let target = Target { name: path.clone().into(), method, path: &path, token_param, retry_safe };
        let tokens = scope.as_ref().map_or(TokenUse::Without, TokenUse::Scope);
        self.client.run(target, tokens, query, body, decode_json).await
    }
}
