//! What the token runtime keeps fresh, named once for the cache, the
//! fetches and the metrics.

use crate::http::TokenScope;
use crate::ids::{CorpId, SuiteId};

/// What the manager keeps fresh: an access token, or a JS-SDK ticket of an
/// authorized corp (refreshed early and single-flight the same way).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Credential {
    /// An access token.
    Token(TokenScope),
    /// The corp's `jsapi_ticket` (signs `wx.config`), per (suite, corp).
    CorpTicket { suite_id: SuiteId, corp_id: CorpId },
    /// The app's `agent_config` ticket (signs `wx.agentConfig`), per (suite,
    /// corp): the corp token names the app, so there is one per pair.
    AgentTicket { suite_id: SuiteId, corp_id: CorpId },
}

impl Credential {
    /// What kind of credential it is, for metrics (no ids).
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Credential::Token(TokenScope::Provider) => "provider",
            Credential::Token(TokenScope::Suite(_)) => "suite",
            Credential::Token(TokenScope::Corp { .. }) => "corp",
            Credential::Token(TokenScope::Downstream { .. }) => "downstream",
            Credential::CorpTicket { .. } => "jsapi_ticket",
            Credential::AgentTicket { .. } => "agent_ticket",
        }
    }
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(scope) => write!(f, "{scope} token"),
            Credential::CorpTicket { suite_id, corp_id } => {
                write!(f, "jsapi ticket of corp {corp_id} (suite {suite_id})")
            }
            Credential::AgentTicket { suite_id, corp_id } => {
                write!(f, "agent_config ticket of corp {corp_id} (suite {suite_id})")
            }
        }
    }
}
