//! The journal of one auth code's exchange, as stored: written before
//! `success` is answered, then advanced one stage at a time. Every write is
//! a compare-and-set on the record's version, so two instances (one of them
//! perhaps paused past its lease) never both advance it, and a write that
//! landed although the store reported a failure is recognised as written.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::app::Application;
use crate::error::Error;
use crate::ids::{CorpId, SuiteId};
use crate::store::{keys, replace_landed, Record};

use super::AUTH_CODE_LIFETIME;

/// Which push started an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    CreateAuth,
    ResetPermanentCode,
    /// The install page's redirect to the ISV's `redirect_uri`.
    InstallRedirect,
}

/// Where an exchange stands.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Stage {
    Pending,
    Exchanged {
        #[serde(rename = "authorized_corp_id")]
        corp_id: CorpId,
        permanent_code: String,
        corp_name: Option<String>,
    },
    Done {
        #[serde(rename = "authorized_corp_id")]
        corp_id: CorpId,
        /// Kept while the authorization's version is provisional (an install
        /// its redirect completed before WeCom's push arrived): the push
        /// stores it again at the version WeCom gives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        permanent_code: Option<String>,
    },
    Failed {
        reason: String,
    },
}

impl Stage {
    /// The stage's name, as stored and counted.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Exchanged { .. } => "exchanged",
            Stage::Done { .. } => "done",
            Stage::Failed { .. } => "failed",
        }
    }
}

/// The journal of one auth code's exchange.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingExchange {
    pub(crate) suite_id: SuiteId,
    pub(crate) auth_code: String,
    pub(crate) origin: Origin,
    pub(crate) corp_id: Option<CorpId>,
    pub(crate) state: Option<String>,
    /// When it arrived, by our clock, in ms since the epoch: its ten
    /// minutes count from here.
    pub(crate) received_at: u64,
    /// When it was last written, in ms: a journal nobody advanced for a
    /// while is resumed by whichever instance sweeps.
    #[serde(default)]
    pub(crate) updated_at: u64,
    /// The version of the authorization it leads to (WeCom's `TimeStamp`
    /// and the order of arrival within that second); `None` until a push
    /// brings it (an install completed by its redirect alone).
    #[serde(default)]
    pub(crate) version: Option<u64>,
    pub(crate) attempts: u32,
    /// Whether the last attempt may have reached WeCom without an answer.
    pub(crate) uncertain: bool,
    pub(crate) last_error: Option<String>,
    #[serde(flatten)]
    pub(crate) stage: Stage,
}

impl fmt::Debug for PendingExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingExchange")
            .field("suite_id", &self.suite_id)
            .field("origin", &self.origin)
            .field("corp_id", &self.corp_id)
            .field("received_at", &self.received_at)
            .field("version", &self.version)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl PendingExchange {
    /// When WeCom stops accepting the code, in ms.
    pub(crate) fn expires_at(&self) -> u64 {
        self.received_at.saturating_add(AUTH_CODE_LIFETIME.as_millis() as u64)
    }

    /// How long ago it was last written, at `now` (ms).
    pub(crate) fn idle_for(&self, now: u64) -> Duration {
        Duration::from_millis(now.saturating_sub(self.updated_at.max(self.received_at)))
    }
}

/// A journal as read, with the record version its next write must match.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) pending: PendingExchange,
    pub(crate) version: u64,
}

/// The store key of an auth code's journal: the code itself never goes into
/// a key, only a digest of it.
pub(crate) fn key(suite_id: &SuiteId, auth_code: &str) -> String {
    let digest = Sha1::digest(auth_code.as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{}{suite_id}:{hex}", keys::PENDING_PREFIX)
}

/// Journals written before a field had its own name still read: the
/// stage's corp (once `corp_id`, written twice with the push's own) and the
/// version (once `pushed_at`, WeCom's `TimeStamp` in ms).
fn upgrade(value: &mut serde_json::Value) {
    let Some(map) = value.as_object_mut() else { return };
    let settled = matches!(map.get("status").and_then(|s| s.as_str()), Some("exchanged" | "done"));
    if settled && !map.contains_key("authorized_corp_id") {
        if let Some(corp) = map.get("corp_id").cloned() {
            map.insert("authorized_corp_id".into(), corp);
        }
    }
    if !map.contains_key("version") {
        if let Some(pushed_at) = map.get("pushed_at").cloned() {
            map.insert("version".into(), pushed_at);
        }
    }
}

pub(crate) fn parse(text: &str) -> Result<PendingExchange, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    upgrade(&mut value);
    serde_json::from_value(value)
}

/// Reads journal `key`; an unreadable one is logged and left as it is.
pub(crate) async fn read(app: &Application, key: &str) -> Result<Option<Entry>, Error> {
    let Some(record) = app.store().get_record(key).await? else { return Ok(None) };
    match parse(&record.value) {
        Ok(pending) => Ok(Some(Entry { pending, version: record.version })),
        Err(e) => {
            tracing::error!(key, error = %e, "an unreadable exchange journal; left as it is");
            Ok(None)
        }
    }
}

fn record(app: &Application, pending: &PendingExchange, version: u64) -> Result<Record, Error> {
    let value = serde_json::to_string(pending)
        .map_err(|e| crate::store::store_error(&app.store().describe(), "put_record", e))?;
    Ok(Record { value, version })
}

/// Writes a new journal unless one exists; answers whether it wrote it.
pub(crate) async fn create(app: &Application, key: &str, pending: &PendingExchange) -> Result<bool, Error> {
    let written = replace_landed(app.store().as_ref(), key, None, &record(app, pending, 1)?).await?;
    if written {
        crate::metrics::journal_write(pending.stage.name());
    }
    Ok(written)
}

/// Writes `next` over `current` if nobody wrote the journal since it was
/// read; answers the new entry, or `None` when someone did.
pub(crate) async fn advance(
    app: &Application,
    key: &str,
    current: &Entry,
    mut next: PendingExchange,
) -> Result<Option<Entry>, Error> {
    next.updated_at = crate::clock::unix_ms(app.clock().now());
    let version = current.version.saturating_add(1);
    let record = record(app, &next, version)?;
    let written = replace_landed(app.store().as_ref(), key, Some(current.version), &record).await?;
    if written {
        crate::metrics::journal_write(next.stage.name());
    }
    Ok(written.then_some(Entry { pending: next, version }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(stage: Stage, corp_id: Option<&str>) -> PendingExchange {
        PendingExchange {
            suite_id: SuiteId::new("wwsuite"),
            auth_code: "code".into(),
            origin: Origin::ResetPermanentCode,
            corp_id: corp_id.map(CorpId::new),
            state: None,
            received_at: 1,
            updated_at: 1,
            version: Some(1000),
            attempts: 1,
            uncertain: false,
            last_error: None,
            stage,
        }
    }

    /// Every stage reads back as written: an exchanged journal holds a
    /// permanent code that a restart must still find.
    #[test]
    fn every_stage_reads_back() {
        let corp = || CorpId::new("wwcorp");
        for (stage, push_corp) in [
            (Stage::Pending, Some("wwpushed")),
            (Stage::Exchanged { corp_id: corp(), permanent_code: "pc".into(), corp_name: None }, None),
            (
                Stage::Exchanged { corp_id: corp(), permanent_code: "pc".into(), corp_name: None },
                Some("wwpushed"),
            ),
            (Stage::Done { corp_id: corp(), permanent_code: None }, None),
            (Stage::Done { corp_id: corp(), permanent_code: Some("pc".into()) }, None),
            (Stage::Failed { reason: "r".into() }, Some("wwpushed")),
        ] {
            let written = journal(stage.clone(), push_corp);
            let text = serde_json::to_string(&written).expect("serializes");
            let read = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(read == written, "{text}");
        }
    }

    /// A journal written before the stage's corp and the version had their
    /// own names (`corp_id` twice, `pushed_at`) still reads.
    #[test]
    fn an_older_journal_still_reads() {
        let text = r#"{"suite_id":"wwsuite","auth_code":"code","origin":"create_auth","corp_id":null,"state":null,"received_at":1,"pushed_at":7000,"attempts":1,"uncertain":false,"last_error":null,"status":"exchanged","corp_id":"wwcorp","permanent_code":"pc","corp_name":null}"#;
        let read = parse(text).expect("reads");
        assert!(
            matches!(read.stage, Stage::Exchanged { ref corp_id, ref permanent_code, .. } if corp_id.as_str() == "wwcorp" && permanent_code == "pc")
        );
        assert_eq!(read.version, Some(7000));
    }
}
