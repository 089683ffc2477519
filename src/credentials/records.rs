//! The authorization records: per (suite, corp), the authorization with its
//! permanent code, or what a cancel left of it. Each write carries the
//! version of the WeCom action it records, so that an older action (a late
//! push, a delayed exchange, a code the ISV held on to) never replaces a
//! newer one.

use std::time::SystemTime;

use super::authorization::{Authorization, Cancellation};
use super::manager::TokenManager;
use crate::clock::unix_ms;
use crate::error::Error;
use crate::http::TokenScope;
use crate::ids::{CorpId, SuiteId};
use crate::secret::Secret;
use crate::store::{keys, replace_landed, store_error, Record};

/// The version of a permanent code set by hand: older than any WeCom action,
/// so a code the ISV held on to never replaces one WeCom issued later, nor
/// brings back a corp that cancelled. Another hand-set code replaces it.
pub(crate) const HAND_SET_VERSION: u64 = 0;

/// What the record of one (suite, corp) holds.
#[derive(Clone, Debug)]
pub(crate) enum Stored {
    /// The corp's authorization.
    Authorized(Authorization),
    /// The corp cancelled.
    Cancelled(Cancellation),
}

/// A record's content and its version.
#[derive(Clone, Debug)]
pub(crate) struct Versioned<T> {
    pub(crate) value: T,
    pub(crate) version: u64,
}

impl TokenManager {
    fn describe_store(&self) -> String {
        self.store.describe()
    }

    fn parse_stored(&self, key: &str, value: &str) -> Result<Stored, Error> {
        if let Ok(cancellation) = serde_json::from_str::<Cancellation>(value) {
            return Ok(Stored::Cancelled(cancellation));
        }
        serde_json::from_str(value).map(Stored::Authorized).map_err(|e| {
            store_error(&self.describe_store(), "get_record", format!("{key} is not an authorization: {e}"))
        })
    }

    fn encode(&self, stored: &Stored) -> Result<String, Error> {
        match stored {
            Stored::Authorized(authorization) => serde_json::to_string(authorization),
            Stored::Cancelled(cancellation) => serde_json::to_string(cancellation),
        }
        .map_err(|e| store_error(&self.describe_store(), "put_record", e))
    }

    /// The record of `corp_id`'s authorization of `suite_id` with its version.
    pub(crate) async fn stored_authorization(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
    ) -> Result<Option<Versioned<Stored>>, Error> {
        let key = keys::authorization(suite_id, corp_id);
        let Some(record) = self.store.get_record(&key).await? else { return Ok(None) };
        Ok(Some(Versioned { value: self.parse_stored(&key, &record.value)?, version: record.version }))
    }

    /// The stored authorization of `corp_id` for `suite_id` (none after a
    /// cancel).
    pub(crate) async fn authorization(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
    ) -> Result<Option<Authorization>, Error> {
        Ok(match self.stored_authorization(suite_id, corp_id).await? {
            Some(Versioned { value: Stored::Authorized(authorization), .. }) => Some(authorization),
            _ => None,
        })
    }

    /// After a new permanent code is stored: a token got with an older code
    /// belongs to an older authorization, and "gone" no longer holds.
    async fn code_changed(&self, suite_id: &SuiteId, corp_id: &CorpId) -> Result<(), Error> {
        let scope = TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() };
        self.clear_gone(&scope);
        self.forget(&scope).await
    }

    /// Writes `authorization` at `version` unless a newer record (an
    /// authorization or a cancel) is stored; returns whether it was written.
    pub(crate) async fn put_authorization(
        &self,
        authorization: &Authorization,
        version: u64,
    ) -> Result<bool, Error> {
        if authorization.permanent_code.is_empty() {
            return Err(Error::InvalidRequest("a permanent code must not be empty".into()));
        }
        let (suite_id, corp_id) = (&authorization.suite_id, &authorization.corp_id);
        let previous = self.authorization(suite_id, corp_id).await.ok().flatten();
        let value = self.encode(&Stored::Authorized(authorization.clone()))?;
        let stored = self
            .store
            .put_record(&keys::authorization(suite_id, corp_id), &Record { value, version })
            .await?;
        if stored && previous.is_none_or(|p| p.permanent_code != authorization.permanent_code) {
            self.code_changed(suite_id, corp_id).await?;
        }
        Ok(stored)
    }

    /// Writes `value` at `version` only if the stored record's version is
    /// `expected` (`None`: no record): the fenced write the lifecycle makes
    /// when it decides from what it read. A write that landed although the
    /// store reported a failure counts as written.
    pub(crate) async fn replace_authorization(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        expected: Option<u64>,
        value: &Stored,
        version: u64,
    ) -> Result<bool, Error> {
        if let Stored::Authorized(a) = value {
            if a.permanent_code.is_empty() {
                return Err(Error::InvalidRequest("a permanent code must not be empty".into()));
            }
        }
        let key = keys::authorization(suite_id, corp_id);
        let record = Record { value: self.encode(value)?, version };
        let previous_code = match expected {
            Some(_) => self.authorization(suite_id, corp_id).await.ok().flatten().map(|a| a.permanent_code),
            None => None,
        };
        let written = replace_landed(self.store.as_ref(), &key, expected, &record).await?;
        let new_code = match value {
            Stored::Authorized(a) => previous_code.as_ref() != Some(&a.permanent_code),
            Stored::Cancelled(_) => true,
        };
        if written && new_code {
            self.code_changed(suite_id, corp_id).await?;
        }
        Ok(written)
    }

    /// Stores an authorization, its `authorized_at` being its version,
    /// unless a newer one is stored; returns whether it was stored.
    pub(crate) async fn save_authorization(&self, authorization: &Authorization) -> Result<bool, Error> {
        self.put_authorization(authorization, authorization.authorized_at).await
    }

    /// Stores a permanent code given by hand. It never replaces one WeCom
    /// issued, nor a cancel (see [`HAND_SET_VERSION`]): then it is refused,
    /// saying which. The same code again changes nothing.
    pub(crate) async fn set_permanent_code(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        code: &str,
    ) -> Result<(), Error> {
        match self.offer_permanent_code(suite_id, corp_id, code).await? {
            None => Ok(()),
            Some(what) => Err(Error::InvalidRequest(format!(
                "corp {corp_id} (suite {suite_id}): {what} is stored, and a permanent code set by hand never \
                 replaces it; forget the corp first to store this one"
            ))),
        }
    }

    /// [`TokenManager::set_permanent_code`], answering what kept the code
    /// from being stored instead of failing (`None`: stored, or the same).
    pub(crate) async fn offer_permanent_code(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        code: &str,
    ) -> Result<Option<&'static str>, Error> {
        if code.is_empty() {
            return Err(Error::InvalidRequest("a permanent code must not be empty".into()));
        }
        match &self.stored_authorization(suite_id, corp_id).await? {
            Some(Versioned { value: Stored::Authorized(a), .. }) if a.permanent_code.expose() == code => {
                return Ok(None)
            }
            Some(Versioned { value: Stored::Authorized(_), version }) if *version > HAND_SET_VERSION => {
                return Ok(Some("a permanent code issued by WeCom"))
            }
            Some(Versioned { value: Stored::Cancelled(_), .. }) => {
                return Ok(Some("its cancel (cancel_auth)"))
            }
            _ => {}
        }
        let kind = self.config.suite(suite_id).map(|s| s.kind).unwrap_or_default();
        let authorization =
            Authorization::new(suite_id.clone(), corp_id.clone(), code, self.clock.now()).with_app_kind(kind);
        let stored = self.put_authorization(&authorization, HAND_SET_VERSION).await?;
        Ok((!stored).then_some("a newer authorization"))
    }

    /// The stored permanent code of a corp, if it is authorized.
    pub(crate) async fn permanent_code(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
    ) -> Result<Option<Secret>, Error> {
        Ok(self.authorization(suite_id, corp_id).await?.map(|a| a.permanent_code))
    }

    /// Every stored authorization, in key order.
    pub(crate) async fn authorizations(&self) -> Result<Vec<Authorization>, Error> {
        Ok(self.authorization_records().await?.into_iter().map(|v| v.value).collect())
    }

    /// Every stored authorization with its record's version, in key order.
    pub(crate) async fn authorization_records(&self) -> Result<Vec<Versioned<Authorization>>, Error> {
        let mut all = Vec::new();
        for key in self.store.record_keys(keys::AUTHORIZATION_PREFIX).await? {
            let Some(record) = self.store.get_record(&key).await? else { continue };
            match self.parse_stored(&key, &record.value) {
                Ok(Stored::Authorized(value)) => all.push(Versioned { value, version: record.version }),
                Ok(Stored::Cancelled(_)) => {}
                Err(e) => tracing::warn!(error = %e, "a record that is not an authorization"),
            }
        }
        Ok(all)
    }

    /// Every cancel whose `on_cancelled` has yet to run, in key order.
    pub(crate) async fn undelivered_cancels(
        &self,
    ) -> Result<Vec<(SuiteId, CorpId, Versioned<Cancellation>)>, Error> {
        let mut all = Vec::new();
        for key in self.store.record_keys(keys::AUTHORIZATION_PREFIX).await? {
            let Some(record) = self.store.get_record(&key).await? else { continue };
            let Ok(Stored::Cancelled(cancellation)) = self.parse_stored(&key, &record.value) else {
                continue;
            };
            let Some((suite, corp)) = keys::authorization_ids(&key) else { continue };
            if cancellation.awaiting_on_cancelled {
                all.push((suite, corp, Versioned { value: cancellation, version: record.version }));
            }
        }
        Ok(all)
    }

    /// Forgets a corp: its authorization (or what a cancel left of it) and
    /// its token. With `before` (a cancel's time), only an authorization
    /// issued earlier goes, and what stays is the time of the cancel, so
    /// that an older authorization arriving late cannot come back. Returns
    /// whether an authorization went.
    pub(crate) async fn forget_corp(
        &self,
        suite_id: &SuiteId,
        corp_id: &CorpId,
        before: Option<SystemTime>,
    ) -> Result<bool, Error> {
        let key = keys::authorization(suite_id, corp_id);
        let forgotten = match before.map(unix_ms) {
            // Whatever is there goes, a cancel's record too: the ISV asked.
            None => {
                let had = self.authorization(suite_id, corp_id).await?.is_some();
                self.store.delete_record(&key, None).await? && had
            }
            Some(cancelled_at) => {
                let current = self.stored_authorization(suite_id, corp_id).await?;
                if current.as_ref().is_some_and(|r| r.version >= cancelled_at) {
                    return Ok(false);
                }
                let had = matches!(current, Some(Versioned { value: Stored::Authorized(_), .. }));
                let tombstone =
                    Stored::Cancelled(Cancellation { cancelled_at, awaiting_on_cancelled: false });
                // A newer authorization written meanwhile wins the compare.
                let value = self.encode(&tombstone)?;
                self.store.put_record(&key, &Record { value, version: cancelled_at }).await? && had
            }
        };
        if forgotten {
            self.forget(&TokenScope::Corp { suite_id: suite_id.clone(), corp_id: corp_id.clone() }).await?;
        }
        Ok(forgotten)
    }

    /// The latest suite ticket of `suite_id`, while younger than the
    /// configured ticket lifetime.
    pub(crate) async fn ticket(&self, suite_id: &SuiteId) -> Result<String, Error> {
        let record = self.store.get_record(&keys::suite_ticket(suite_id)).await?;
        let max_age = self.config.tokens.suite_ticket_ttl.saturating_mul(1000);
        let now = self.now_ms();
        record
            .filter(|r| now < r.version.saturating_add(max_age) && !r.value.is_empty())
            .map(|r| r.value)
            .ok_or_else(|| Error::SuiteTicketMissing { suite_id: suite_id.clone() })
    }

    /// Stores a pushed ticket unless a newer push is already stored; returns
    /// whether it was stored.
    pub(crate) async fn set_ticket(
        &self,
        suite_id: &SuiteId,
        ticket: &str,
        pushed_at: SystemTime,
    ) -> Result<bool, Error> {
        if ticket.is_empty() {
            return Err(Error::InvalidRequest("a suite ticket must not be empty".into()));
        }
        let record = Record { value: ticket.to_owned(), version: unix_ms(pushed_at) };
        self.store.put_record(&keys::suite_ticket(suite_id), &record).await
    }
}
