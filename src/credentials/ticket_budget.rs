//! WeCom's hourly limits on JS-SDK ticket fetches, counted in process, so a
//! runaway caller gets a typed error before WeCom blocks the app.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::error::Error;
use crate::ids::{CorpId, SuiteId};

/// WeCom's limits on JS-SDK ticket fetches: per corp and per app, each hour.
pub(crate) const TICKETS_PER_CORP_HOUR: usize = 400;
/// See [`TICKETS_PER_CORP_HOUR`].
pub(crate) const TICKETS_PER_APP_HOUR: usize = 100;
const HOUR_MS: u64 = 3_600_000;

/// When tickets were fetched in the last hour, per corp and per app.
#[derive(Default)]
pub(super) struct TicketBudget {
    fetches: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl TicketBudget {
    /// Counts a ticket fetch against WeCom's hourly limits (per corp, and per
    /// app: the suite's app in that corp), refusing it with
    /// [`Error::RateLimited`] when one would be passed.
    pub(super) fn count(&self, suite_id: &SuiteId, corp_id: &CorpId, now: u64) -> Result<(), Error> {
        let corp_key = format!("corp:{corp_id}");
        let app_key = format!("app:{suite_id}:{corp_id}");
        let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, limit, who) in
            [(&corp_key, TICKETS_PER_CORP_HOUR, "corp"), (&app_key, TICKETS_PER_APP_HOUR, "app")]
        {
            let times = fetches.entry(key.clone()).or_default();
            while times.front().is_some_and(|t| now.saturating_sub(*t) >= HOUR_MS) {
                times.pop_front();
            }
            if times.len() >= limit {
                let retry_after =
                    Duration::from_millis(times.front().map_or(0, |t| HOUR_MS - now.saturating_sub(*t)));
                return Err(Error::RateLimited {
                    endpoint: "jsapi ticket".into(),
                    code: 45009,
                    message: format!(
                        "WeCom allows {limit} JS-SDK ticket fetches per {who} per hour; this {who} used them \
                         (counted by this process): cache the ticket"
                    ),
                    hint: None,
                    retry_after,
                    attempts: 0,
                });
            }
        }
        for key in [corp_key, app_key] {
            fetches.entry(key).or_default().push_back(now);
        }
        Ok(())
    }
}
