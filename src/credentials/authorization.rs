//! What the ISV holds for each corp that authorized one of its suites: the
//! permanent code and what is known of the authorization. Kept as a store
//! record: never expires, never evicted, and an older write never replaces a
//! newer one.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::ids::{AppKind, CorpId, SuiteId};
use crate::secret::Secret;

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One corp's authorization of one suite, as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Authorization {
    /// The suite the corp authorized.
    pub suite_id: SuiteId,
    /// The authorizing corp.
    pub corp_id: CorpId,
    /// The permanent code (WeCom hands it out once). `Debug` never shows it;
    /// serializing writes it (this is the store's record of it).
    #[serde(serialize_with = "crate::secret::serialize_exposed")]
    pub permanent_code: Secret,
    /// The corp's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_name: Option<String>,
    /// Third-party app or 代开发.
    #[serde(default)]
    pub app_kind: AppKind,
    /// The authorized agent's id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
    /// When the corp authorized (or the code was last reset), in
    /// milliseconds since the Unix epoch. A cancel older than this does not
    /// remove it.
    pub authorized_at: u64,
    /// The paid edition, when the app has editions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// Whether `on_authorized` has yet to run for it: the callback server's
    /// `resume()` runs it for every authorization so marked.
    #[serde(default)]
    pub awaiting_on_authorized: bool,
}

impl Authorization {
    /// A record of `corp_id`'s authorization of `suite_id`, issued at
    /// `authorized_at`, with nothing else known yet.
    pub fn new(
        suite_id: impl Into<SuiteId>,
        corp_id: impl Into<CorpId>,
        permanent_code: impl Into<Secret>,
        authorized_at: SystemTime,
    ) -> Self {
        Authorization {
            suite_id: suite_id.into(),
            corp_id: corp_id.into(),
            permanent_code: permanent_code.into(),
            corp_name: None,
            app_kind: AppKind::default(),
            agent_id: None,
            authorized_at: authorized_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            edition: None,
            awaiting_on_authorized: false,
        }
    }

    /// Sets the corp's name.
    #[must_use]
    pub fn with_corp_name(mut self, name: impl Into<String>) -> Self {
        self.corp_name = Some(name.into());
        self
    }

    /// Sets the app kind.
    #[must_use]
    pub fn with_app_kind(mut self, kind: AppKind) -> Self {
        self.app_kind = kind;
        self
    }

    /// Sets the authorized agent.
    #[must_use]
    pub fn with_agent_id(mut self, agent_id: i64) -> Self {
        self.agent_id = Some(agent_id);
        self
    }

    /// Sets the paid edition.
    #[must_use]
    pub fn with_edition(mut self, edition: impl Into<String>) -> Self {
        self.edition = Some(edition.into());
        self
    }

    /// When the corp authorized.
    pub fn authorized_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.authorized_at)
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("suite_id", &self.suite_id)
            .field("corp_id", &self.corp_id)
            .field("permanent_code", &self.permanent_code)
            .field("corp_name", &self.corp_name)
            .field("app_kind", &self.app_kind)
            .field("agent_id", &self.agent_id)
            .field("authorized_at", &self.authorized_at)
            .field("edition", &self.edition)
            .field("awaiting_on_authorized", &self.awaiting_on_authorized)
            .finish()
    }
}

/// What stays of an authorization after `cancel_auth`: when it was
/// cancelled, so that an older authorization arriving late (a delayed
/// exchange, a replayed push) cannot come back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Cancellation {
    /// The cancel's `TimeStamp`, in milliseconds since the Unix epoch.
    pub(crate) cancelled_at: u64,
    /// Whether `on_cancelled` has yet to run for it (the cancel removed an
    /// authorization): WeCom's retry of the push, and the callback server's
    /// resume, run it until it succeeds.
    #[serde(default)]
    pub(crate) awaiting_on_cancelled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_code_and_json_keeps_it() {
        let record = Authorization::new("wwsuite", "wwcorp", "THE-CODE", UNIX_EPOCH + Duration::from_secs(5))
            .with_corp_name("Corp")
            .with_agent_id(1000);
        assert!(!format!("{record:?}").contains("THE-CODE"));
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains("THE-CODE"), "the store must keep the code");
        let back: Authorization = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.authorized_at(), UNIX_EPOCH + Duration::from_secs(5));
    }
}
