//! The install page's redirect, `redirect_uri?auth_code=…&expires_in=600&state=…`,
//! as the ISV's web handler receives it. Its auth code is the one WeCom also
//! pushes in `create_auth`: both go through the same durable journal, so
//! the code is exchanged once, whichever arrives first, by whichever
//! instance gets there first.

use std::fmt;

use super::lifecycle::{ArrivedCode, Origin, Settled};
use super::CallbackServer;
use crate::credentials::Authorization;
use crate::crypto::install_state;
use crate::error::Error;
use crate::ids::SuiteId;
use crate::urls::parse_query;

/// Longest auth code accepted from a redirect (WeCom's codes are far shorter).
const MAX_AUTH_CODE: usize = 512;

/// The query WeCom's install page redirects the admin's browser with.
/// `Debug` hides the auth code.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstallRedirect {
    /// The temporary auth code (10 minutes, single use).
    pub auth_code: String,
    /// The `state` the install link carried.
    pub state: Option<String>,
    /// The code's lifetime in seconds, as WeCom states it.
    pub expires_in: Option<u64>,
}

impl fmt::Debug for InstallRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallRedirect")
            .field("auth_code", &"<redacted>")
            .field("state", &self.state)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl InstallRedirect {
    /// Reads the redirect's query string (with or without the leading `?`).
    pub fn from_query(query: &str) -> Result<InstallRedirect, Error> {
        let pairs = parse_query(query);
        let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let auth_code = value("auth_code").unwrap_or_default();
        if auth_code.is_empty() {
            return Err(Error::InvalidRequest("the install redirect has no auth_code".into()));
        }
        if auth_code.len() > MAX_AUTH_CODE || auth_code.chars().any(char::is_control) {
            return Err(Error::InvalidRequest("the install redirect's auth_code is malformed".into()));
        }
        let expires_in = match value("expires_in") {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                Error::InvalidRequest(format!("the install redirect's expires_in is not a number: {text:?}"))
            })?),
        };
        Ok(InstallRedirect { auth_code, state: value("state").filter(|s| !s.is_empty()), expires_in })
    }
}

/// An install the redirect completed: the corp's stored authorization, and
/// your own `state` from the link (without its signature).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Installed {
    /// The stored authorization (`Debug` hides the permanent code).
    pub authorization: Authorization,
    /// The state you gave [`crate::Suite::install_url`], if any.
    pub state: Option<String>,
}

impl CallbackServer {
    /// Completes an install from the page's redirect: the redirect's
    /// `state` must be one [`crate::Suite::install_url`] signed (less than
    /// an hour ago), else it is refused before anything is asked of WeCom
    /// or written. Then the auth code is journaled durably and exchanged for
    /// the permanent code (once, even if `create_auth` brings the same
    /// code), the authorization is stored, and `on_authorized` runs with
    /// your own state. Returns the stored authorization and your state.
    ///
    /// Waits at most [`crate::Config::slowest_token_fetch`]; an exchange
    /// still running then goes on in the background and the error says so.
    pub async fn complete_install(
        &self,
        suite_id: impl Into<SuiteId>,
        redirect: &InstallRedirect,
    ) -> Result<Installed, Error> {
        let suite_id = suite_id.into();
        let Some(suite) = self.app.config().suite(&suite_id) else {
            return Err(Error::InvalidRequest(format!("suite {suite_id} is not configured")));
        };
        let now = self.app.clock().now();
        let signed = redirect.state.as_deref().unwrap_or_default();
        let Some(state) = install_state::verify(suite.suite_secret.expose(), suite_id.as_str(), signed, now)
        else {
            tracing::warn!(suite = %suite_id, "an install redirect whose state this application did not issue (or issued over an hour ago); refused without asking WeCom");
            return Err(Error::InvalidRequest(
                "the install redirect's state was not issued by this application's install link, or is over an \
                 hour old: nothing was asked of WeCom (build links with suite.install_url)"
                    .into(),
            ));
        };
        let state = Some(state).filter(|s| !s.is_empty());
        let code = ArrivedCode {
            suite_id: suite_id.clone(),
            auth_code: &redirect.auth_code,
            origin: Origin::InstallRedirect,
            corp_id: None,
            state: state.clone(),
            pushed_at: None,
        };
        // A code `create_auth` brought first is being exchanged already
        // (here, or by the instance that took the push, or by the next
        // sweep if that one stopped): it is waited for, not raced.
        let key = self.lifecycle.accept(&self.app, code).await?;
        let limit = self.app.config().slowest_token_fetch();
        match self.lifecycle.wait_settled(&self.app, &key, limit).await? {
            Settled::Authorized(authorization) => Ok(Installed { authorization, state }),
            Settled::Failed(reason) => Err(Error::InstallIncomplete { suite_id, reason, pending: false }),
            Settled::StillPending => Err(Error::InstallIncomplete {
                suite_id,
                reason: format!("not exchanged within {limit:?}; it goes on in the background"),
                pending: true,
            }),
        }
    }
}
