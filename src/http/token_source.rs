//! Where tokens come from: the [`TokenSource`] seam between typed calls and
//! whatever caches and refreshes tokens.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Error;
use crate::ids::{CorpId, SuiteId};

pub use crate::future::BoxFuture;

/// Which token: tokens of different scopes never share a cache entry.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum TokenScope {
    /// The provider access token.
    Provider,
    /// A suite's access token.
    Suite(SuiteId),
    /// An authorizing corp's access token, obtained through a suite.
    Corp {
        /// The suite the corp authorized.
        suite_id: SuiteId,
        /// The authorizing corp.
        corp_id: CorpId,
    },
    /// A downstream corp's access token (上下游), obtained with the token of
    /// the upstream corp that shares an app with it; it reads the downstream
    /// corp's contacts only.
    Downstream {
        /// The suite (a 代开发 app) the upstream corp authorized.
        suite_id: SuiteId,
        /// The upstream corp.
        corp_id: CorpId,
        /// The downstream corp.
        downstream_corp_id: CorpId,
        /// The shared app's agentid in the downstream corp.
        agentid: i64,
    },
}

impl TokenScope {
    /// The kind of token this scope has.
    pub fn kind(&self) -> crate::http::TokenKind {
        match self {
            TokenScope::Provider => crate::http::TokenKind::Provider,
            TokenScope::Suite(_) => crate::http::TokenKind::Suite,
            TokenScope::Corp { .. } | TokenScope::Downstream { .. } => crate::http::TokenKind::Corp,
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenScope::Provider => f.write_str("provider"),
            TokenScope::Suite(suite) => write!(f, "suite {suite}"),
            TokenScope::Corp { suite_id, corp_id } => {
                write!(f, "corp {corp_id} (suite {suite_id})")
            }
            TokenScope::Downstream { suite_id, corp_id, downstream_corp_id, agentid } => {
                write!(f, "downstream corp {downstream_corp_id} (app {agentid}; upstream corp {corp_id}, suite {suite_id})")
            }
        }
    }
}

/// An access token. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken(token.into())
    }

    /// The token itself, to put on a URL. Do not log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl From<&str> for AccessToken {
    fn from(token: &str) -> Self {
        AccessToken::new(token)
    }
}

impl From<String> for AccessToken {
    fn from(token: String) -> Self {
        AccessToken(token)
    }
}

/// Supplies the token a call needs. The client asks for one per call, so an
/// implementation caches; the SDK's token runtime is one, [`StaticTokens`]
/// another, and a user's own store can be a third.
pub trait TokenSource: Send + Sync {
    /// The current token of `scope`.
    fn token<'a>(&'a self, scope: &'a TokenScope) -> BoxFuture<'a, Result<AccessToken, Error>>;

    /// WeCom rejected `token` (invalid, expired, or its corp's authorization
    /// is gone): forget it, if it is still the current one, so the next
    /// [`TokenSource::token`] fetches a new one. The default does nothing.
    fn invalidate<'a>(&'a self, scope: &'a TokenScope, token: &'a AccessToken) -> BoxFuture<'a, ()> {
        let _ = (scope, token);
        Box::pin(std::future::ready(()))
    }

    /// WeCom said the corp's authorization is gone (`error` is an
    /// [`Error::AuthorizationGone`]): a source may answer that corp with the
    /// same error for a while instead of asking again. The default does
    /// nothing.
    fn authorization_gone<'a>(&'a self, scope: &'a TokenScope, error: &'a Error) -> BoxFuture<'a, ()> {
        let _ = (scope, error);
        Box::pin(std::future::ready(()))
    }
}

/// Fixed tokens, set by hand: for tests, scripts, and callers who obtain
/// tokens elsewhere.
#[derive(Default, Clone)]
pub struct StaticTokens {
    tokens: BTreeMap<TokenScope, AccessToken>,
}

impl StaticTokens {
    /// No tokens yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the token of `scope`.
    pub fn with(mut self, scope: TokenScope, token: impl Into<AccessToken>) -> Self {
        self.tokens.insert(scope, token.into());
        self
    }

    /// Sets the provider token.
    pub fn provider(self, token: impl Into<AccessToken>) -> Self {
        self.with(TokenScope::Provider, token)
    }

    /// Sets a suite's token.
    pub fn suite(self, suite_id: impl Into<SuiteId>, token: impl Into<AccessToken>) -> Self {
        self.with(TokenScope::Suite(suite_id.into()), token)
    }

    /// Sets an authorizing corp's token.
    pub fn corp(
        self,
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
        token: impl Into<AccessToken>,
    ) -> Self {
        let scope = TokenScope::Corp { suite_id: suite_id.into(), corp_id: corp_id.into() };
        self.with(scope, token)
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokens").field("scopes", &self.tokens.keys().collect::<Vec<_>>()).finish()
    }
}

impl TokenSource for StaticTokens {
    fn token<'a>(&'a self, scope: &'a TokenScope) -> BoxFuture<'a, Result<AccessToken, Error>> {
        let found = self.tokens.get(scope).cloned().ok_or_else(|| Error::Token {
            scope: scope.to_string(),
            message: "no token was set for this scope".into(),
        });
        Box::pin(std::future::ready(found))
    }
}
