//! What the emulator is told: the provider and the suites it knows.

use serde::{Deserialize, Serialize};

use crate::ids::AppKind;

/// The provider and suites the emulator knows. Empty, it accepts any
/// credentials; filled, it checks them and pushes to the suites' URLs.
/// `Debug` shows ids and URLs, never a secret, token or AES key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatorConfig {
    /// The provider's corp id (checked by `get_provider_token` when set).
    pub provider_corp_id: Option<String>,
    /// The provider secret (checked when set).
    pub provider_secret: Option<String>,
    /// Registered suites.
    pub suites: Vec<EmulatedSuite>,
    /// Refuse calls that break the SDK's own rules (a token parameter of
    /// another kind, a token given twice) instead of only recording them as
    /// violations (`GET /__emulator/violations`). WeCom itself ignores such
    /// extras, so the default is off; the SDK's own tests run strict.
    pub strict: bool,
    /// The clock follows the wall clock: a ticket is pushed to every suite
    /// with a command URL at start and every 10 minutes after, by a
    /// background task that stops with the emulator. Off, the clock moves
    /// only with `advance`.
    pub realtime: bool,
    /// The host a web-login page's (`/wwopen/sso/3rd_qrConnect`)
    /// `redirect_uri` must have, or a subdomain of it, as WeCom checks the
    /// login's trusted domain; `None` accepts any http(s) URL.
    pub login_redirect_domain: Option<String>,
    /// A member the OAuth page signs in at once: `snsapi_base` redirects
    /// without a page, and the consent page preselects them. `None` shows
    /// the member choice.
    pub oauth_user: Option<String>,
}

/// A suite registered with the emulator.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatedSuite {
    /// The suite id.
    pub suite_id: String,
    /// Its secret (checked by `get_suite_token`).
    pub suite_secret: String,
    /// The callback token.
    pub token: String,
    /// The callback EncodingAESKey.
    pub aes_key: String,
    /// Where command events (tickets, authorizations) are pushed.
    #[serde(default)]
    pub command_url: Option<String>,
    /// Where data events (a corp's messages, contact changes, …) are pushed,
    /// encrypted for the corp id; `$CORPID$` in it is replaced by the corp
    /// id, as WeCom does.
    #[serde(default)]
    pub data_url: Option<String>,
    /// A third-party app (the default) or a 代开发 template. Calls its kind
    /// may not make are answered with 48002; a customized suite's corps get
    /// their tokens from `gettoken`, a third-party suite's from
    /// `get_corp_token`.
    #[serde(default)]
    pub kind: AppKind,
    /// The host a `redirect_uri` of its install and OAuth links must have,
    /// or a subdomain of it (WeCom's trusted domain, else 50001); `None`
    /// accepts any http(s) URL.
    #[serde(default)]
    pub redirect_domain: Option<String>,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("provider_corp_id", &self.provider_corp_id)
            .field("provider_secret", &self.provider_secret.as_ref().map(|_| "<redacted>"))
            .field("suites", &self.suites)
            .field("strict", &self.strict)
            .field("realtime", &self.realtime)
            .field("login_redirect_domain", &self.login_redirect_domain)
            .field("oauth_user", &self.oauth_user)
            .finish()
    }
}

impl std::fmt::Debug for EmulatedSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedSuite")
            .field("suite_id", &self.suite_id)
            .field("command_url", &self.command_url)
            .field("data_url", &self.data_url)
            .field("kind", &self.kind)
            .field("redirect_domain", &self.redirect_domain)
            .finish_non_exhaustive()
    }
}

impl EmulatorConfig {
    /// The emulator side of an SDK configuration: the same provider and
    /// suites, pushing to `callback_base` + `/callback/command/{suite_id}`
    /// and `/callback/data/{suite_id}` (the callback server's router) when
    /// given. Strict: the SDK is what calls it, and must keep its own rules.
    pub fn from_config(config: &crate::Config, callback_base: Option<&str>) -> Self {
        EmulatorConfig {
            provider_corp_id: Some(config.corp_id.to_string()),
            provider_secret: Some(config.provider_secret.expose().to_owned()),
            suites: config
                .suites
                .iter()
                .map(|s| EmulatedSuite {
                    suite_id: s.suite_id.to_string(),
                    suite_secret: s.suite_secret.expose().to_owned(),
                    token: s.token.expose().to_owned(),
                    aes_key: s.aes_key.expose().to_owned(),
                    command_url: callback_base
                        .map(|b| format!("{}/callback/command/{}", b.trim_end_matches('/'), s.suite_id)),
                    data_url: callback_base
                        .map(|b| format!("{}/callback/data/{}", b.trim_end_matches('/'), s.suite_id)),
                    kind: s.kind,
                    redirect_domain: None,
                })
                .collect(),
            strict: true,
            realtime: false,
            login_redirect_domain: None,
            oauth_user: None,
        }
    }

    pub(super) fn suite(&self, suite_id: &str) -> Option<&EmulatedSuite> {
        self.suites.iter().find(|s| s.suite_id == suite_id)
    }

    /// The kind of a registered suite.
    pub(super) fn kind_of(&self, suite_id: &str) -> Option<AppKind> {
        self.suite(suite_id).map(|s| s.kind)
    }
}
