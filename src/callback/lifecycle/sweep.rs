//! The sweep: resumes what some instance left unfinished (journals nobody
//! advanced for a while, hooks not yet delivered) and keeps the journals
//! bounded. It runs at `resume()` and then periodically on whichever
//! instance holds the sweep's lease, so a crash, a store outage or an
//! exchange stopped for any reason is picked up without a restart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::app::Application;
use crate::clock::unix_ms;
use crate::error::Error;
use crate::ids::SuiteId;
use crate::store::keys;

use super::journal::{self, Stage};
use super::Lifecycle;

/// How often the periodic sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// A journal not written for this long has lost its driver (an exchange
/// writes at least every 30 s while it runs).
const IDLE: Duration = Duration::from_secs(120);
/// How long a finished journal is kept, so that WeCom's late retries of the
/// same push find it and do nothing.
const DONE_KEPT: Duration = Duration::from_secs(24 * 3600);
/// How long a failed journal is kept for the ISV to see, and how many per
/// suite at most (forged or abandoned codes cannot grow the store forever).
const FAILED_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);
const MAX_FAILED_PER_SUITE: usize = 1000;
/// The sweep's lease: one instance sweeps the journals at a time.
const SWEEP_LEASE: &str = "lifecycle:sweep";
/// The delivery lease: one instance with hooks delivers at a time.
const DELIVER_LEASE: &str = "lifecycle:deliver";

impl Lifecycle {
    /// Resumes everything unfinished (every journal, not only idle ones),
    /// and starts the periodic sweep. Returns how much it resumed.
    pub(crate) async fn resume(self: &Arc<Self>, app: &Application) -> Result<usize, Error> {
        // Started first: a store that fails now is swept again later.
        self.start_sweeper(app);
        let resumed = self.sweep(app, Duration::ZERO).await?;
        Ok(resumed + self.deliver_undelivered(app).await?)
    }

    /// Starts the periodic sweep, once per application. It holds the
    /// application weakly: it ends when the application is dropped.
    fn start_sweeper(self: &Arc<Self>, app: &Application) {
        let mut sweeper = self.sweeper.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if sweeper.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let (lifecycle, app) = (Arc::downgrade(self), app.downgrade());
        *sweeper = Some(tokio::spawn(async move {
            loop {
                // Tokio's timer, not the application's clock: a manual clock
                // would race through the periods.
                tokio::time::sleep(SWEEP_EVERY).await;
                let (Some(lifecycle), Some(app)) = (lifecycle.upgrade(), app.upgrade()) else { return };
                if let Err(e) = lifecycle.sweep_under_lease(&app).await {
                    tracing::error!(error = %e, "the lifecycle sweep failed; it runs again shortly");
                }
            }
        }));
    }

    /// A periodic sweep: the journals by whichever instance takes the
    /// sweep's lease; the undelivered hooks by whichever instance that has
    /// them takes the delivery lease (an instance without hooks, such as
    /// `wecom-openwork serve`, must not keep it from them).
    async fn sweep_under_lease(self: &Arc<Self>, app: &Application) -> Result<(), Error> {
        let ttl = SWEEP_EVERY * 2;
        if let Some(lease) = app.store().try_lease(SWEEP_LEASE, ttl).await? {
            let swept = self.sweep(app, IDLE).await;
            if let Err(e) = app.store().release(SWEEP_LEASE, &lease).await {
                tracing::warn!(error = %e, "could not release the sweep's lease; it expires by itself");
            }
            swept?;
        }
        let hooks = self.hooks();
        if hooks.authorized.is_none() && hooks.cancelled.is_none() {
            return Ok(());
        }
        if let Some(lease) = app.store().try_lease(DELIVER_LEASE, ttl).await? {
            let delivered = self.deliver_undelivered(app).await;
            if let Err(e) = app.store().release(DELIVER_LEASE, &lease).await {
                tracing::warn!(error = %e, "could not release the delivery lease; it expires by itself");
            }
            delivered?;
        }
        Ok(())
    }

    /// One sweep: journals idle for at least `idle` are resumed here, old
    /// ones are dropped, and undelivered hooks run (where a hook is set).
    async fn sweep(self: &Arc<Self>, app: &Application, idle: Duration) -> Result<usize, Error> {
        let now = unix_ms(app.clock().now());
        let mut resumed = 0;
        let mut failed: BTreeMap<SuiteId, Vec<(u64, String, u64)>> = BTreeMap::new();
        let mut by_stage: BTreeMap<&'static str, usize> =
            ["pending", "exchanged", "done", "failed"].into_iter().map(|s| (s, 0)).collect();
        for key in app.store().record_keys(keys::PENDING_PREFIX).await? {
            let Some(entry) = journal::read(app, &key).await? else { continue };
            let pending = &entry.pending;
            *by_stage.entry(pending.stage.name()).or_default() += 1;
            let age = Duration::from_millis(now.saturating_sub(pending.received_at));
            match &pending.stage {
                Stage::Pending | Stage::Exchanged { .. } => {
                    if pending.idle_for(now) >= idle && self.start(app, key) {
                        resumed += 1;
                    }
                }
                // A provisional authorization waits for its push, as long as
                // a finished journal is kept.
                Stage::Done { .. } if age > DONE_KEPT => {
                    app.store().delete_record(&key, Some(entry.version.saturating_add(1))).await?;
                }
                Stage::Done { .. } => {}
                Stage::Failed { .. } => failed.entry(pending.suite_id.clone()).or_default().push((
                    pending.received_at,
                    key,
                    entry.version,
                )),
            }
        }
        for (stage, count) in by_stage {
            crate::metrics::journals(stage, count);
        }
        for (_, mut journals) in failed {
            journals.sort();
            let surplus = journals.len().saturating_sub(MAX_FAILED_PER_SUITE);
            for (i, (received_at, key, version)) in journals.into_iter().enumerate() {
                let old = Duration::from_millis(now.saturating_sub(received_at)) > FAILED_KEPT;
                if i < surplus || old {
                    app.store().delete_record(&key, Some(version.saturating_add(1))).await?;
                }
            }
        }
        Ok(resumed)
    }

    /// Starts the `on_authorized` and `on_cancelled` deliveries the store
    /// holds marked, where this application has the hook.
    async fn deliver_undelivered(self: &Arc<Self>, app: &Application) -> Result<usize, Error> {
        let mut resumed = 0;
        let hooks = self.hooks();
        if hooks.authorized.is_some() {
            for stored in app.tokens().authorization_records().await? {
                if stored.value.awaiting_on_authorized && self.start_delivery(app, stored, None) {
                    resumed += 1;
                }
            }
        }
        if hooks.cancelled.is_some() {
            for (suite_id, corp_id, cancel) in app.tokens().undelivered_cancels().await? {
                let key = format!("cancelled:{suite_id}:{corp_id}:{}", cancel.version);
                let (lifecycle, app) = (self.clone(), app.clone());
                let deliver = async move {
                    if let Err(e) = lifecycle.deliver_cancelled(&app, &suite_id, &corp_id, cancel).await {
                        tracing::error!(suite = %suite_id, corp = %corp_id, error = %e, "on_cancelled failed; it runs again with the next sweep");
                    }
                };
                if self.spawn_once(key, deliver) {
                    resumed += 1;
                }
            }
        }
        Ok(resumed)
    }
}
