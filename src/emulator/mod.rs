//! A local WeCom for tests and demos, built from the same specs as the client.
//!
//! It routes every spec'd endpoint and checks that each call carries exactly
//! its token kind, valid and unexpired (with WeCom's error codes), and the
//! request fields the spec requires. Tokens are random, expire on the
//! emulator's clock and come back unchanged while valid. The install flow is
//! stateful: pre-auth codes, an emulated admin who authorizes a corp, the
//! encrypted `create_auth` push to the suite's command URL, single-use auth
//! codes, permanent codes, corp tokens; `cancel_auth` and `change_auth` too.
//! Suite tickets are pushed on demand and every 10 minutes of emulator time
//! (of wall-clock time with [`EmulatorConfig::realtime`]). Pushes are made as
//! WeCom makes them: its incoming envelope (`ToUserName`, `Encrypt`,
//! `AgentID`) as `text/xml`, retried until answered `success`, 3 attempts in
//! all; any event can be pushed to a suite's data URL ([`Emulator::push_event`]).
//! Registered suites have a kind: a call the kind may not make is answered
//! with 48002, and a 代开发 suite's corps get their tokens from `gettoken`.
//! Faults can be injected per path; every request is recorded. The same
//! controls are served over HTTP under `/__emulator/` (see [`admin`]), with
//! their OpenAPI document at `/__emulator/openapi.json`.
//!
//! The browser side is served too, as plain HTML forms: the install page
//! (`/3rdapp/install`), the OAuth page (`/connect/oauth2/authorize`) and the
//! web login pages (`/wwopen/sso/3rd_qrConnect`, `/wwlogin/sso/login`), each
//! redirecting to the app with the code WeCom would hand over (see the
//! `pages` module).
//!
//! Codes the emulator did not issue (a sample's `auth_code_value`, say) get
//! the endpoint's documented sample, so every endpoint answers out of the box.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let emulator = wecom_openwork::emulator::Emulator::start().await?;
//! println!("WeCom at {}", emulator.base_uri());
//! # Ok(())
//! # }
//! ```

pub mod admin;
mod config;
mod contacts;
mod control_doc;
mod handler;
mod kf;
mod license;
mod login;
mod media;
mod oauth;
mod pages;
mod push;
mod records;
mod reply;
mod routes;
mod samples;
mod schedule;
mod state;
mod tags;
mod wedrive;

pub use config::{EmulatedSuite, EmulatorConfig};
pub use kf::KF_TOKEN_LIFETIME;
pub use login::LOGIN_CODE_LIFETIME;
pub use media::SAMPLE_MEDIA_ID;
pub use oauth::OAUTH_CODE_LIFETIME;
pub use records::{PushRecord, RecordedUpload, Violation, PUSH_ATTEMPTS};
use routes::handle;
pub use samples::{sample, EndpointSample};
use state::{random_code, unix_now, AuthCode, Shared, State};
pub use state::{Fault, RecordedRequest, TokenOwner};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{HeaderMap, Method, Uri};
use tokio::sync::oneshot;

use crate::clock::{Clock, ManualClock};
use crate::http::TokenKind;
use crate::tasks::Background;

pub use push::{PermanentCodeReset, PushError, PushTarget, PUSH_TIMEOUT};

/// At most this many tickets per suite are pushed for one advance of the
/// clock (a week's worth); earlier ones of a longer span are skipped.
pub const MAX_TICKETS_PER_ADVANCE: u64 = 7 * 24 * 6;

/// A suite ticket issued because its time came while the clock advanced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ScheduledTicket {
    /// The suite it is for.
    pub suite_id: String,
    /// The ticket.
    pub ticket: String,
    /// When it was due (Unix seconds): its `TimeStamp`, and the start of its
    /// 30 minutes of validity.
    pub timestamp: u64,
}

/// Whether `name` is a token's query parameter (of any kind).
fn is_token_param(name: &str) -> bool {
    TokenKind::WITH_TOKEN.iter().any(|kind| kind.query_name() == Some(name))
}

/// Lifetime of every token the emulator issues.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// How often suite tickets are pushed, and how long one stays valid.
pub const TICKET_INTERVAL: Duration = Duration::from_secs(600);
const TICKET_VALIDITY: Duration = Duration::from_secs(1800);
/// The largest request the emulator reads: above WeCom's 20 MB file limit,
/// so that the client's own size check is what refuses a larger file.
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;
const PRE_AUTH_CODE_LIFETIME: Duration = Duration::from_secs(1200);
const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A 1×1 PNG, served where WeCom answers with an image.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A running emulator on a loopback port. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    /// The task moving the clock with the wall clock (realtime mode).
    realtime: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Starts on a free loopback port, with its own clock at the current
    /// time and no registered provider or suites (any credentials pass).
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_with_clock(ManualClock::starting_now()).await
    }

    /// Starts on a free loopback port, on `clock` (share it with the
    /// application so both see the same time). Strict (see
    /// [`EmulatorConfig::strict`]): this is how the SDK tests itself.
    pub async fn start_with_clock(clock: ManualClock) -> std::io::Result<Emulator> {
        let config = EmulatorConfig { strict: true, ..EmulatorConfig::default() };
        Emulator::bind(SocketAddr::from(([127, 0, 0, 1], 0)), clock, config).await
    }

    /// Starts on `addr` (port 0 picks a free one) with `config`. With
    /// `config.realtime`, a ticket is pushed to every suite with a command
    /// URL now and the clock then follows the wall clock.
    pub async fn bind(
        addr: SocketAddr,
        clock: ManualClock,
        config: EmulatorConfig,
    ) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder().timeout(PUSH_TIMEOUT).build().map_err(std::io::Error::other)?;
        let epoch = clock.now();
        let shared = Arc::new(Shared {
            config,
            base_uri: format!("http://{addr}"),
            clock,
            state: Mutex::new(State { ticket_epoch: Some(epoch), ..State::default() }),
            http,
            pending: Background::default(),
        });
        let router = admin::router(shared.clone())
            .merge(pages::router(shared.clone()))
            .fallback({
                let shared = shared.clone();
                move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      method: Method,
                      uri: Uri,
                      headers: HeaderMap,
                      body: Bytes| {
                    let shared = shared.clone();
                    reply::PEER
                        .scope(peer.ip(), async move { handle(&shared, method, uri, headers, body).await })
                }
            })
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let server = axum::serve(listener, service).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "emulator stopped");
            }
        });
        let realtime = shared.config.realtime.then(|| tokio::spawn(follow_wall_clock(shared.clone())));
        Ok(Emulator { addr, shared, shutdown: Some(tx), realtime })
    }

    /// The base URI to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn base_uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &ManualClock {
        &self.shared.clock
    }

    /// Moves the emulator's clock forward: tokens and codes expire on it, and
    /// suites with a command URL get every ticket that falls due in the span,
    /// one each 10 minutes after the last (after the start when none was
    /// pushed), each issued at its own due time and pushed in order (await
    /// [`Emulator::settle`] for those pushes). Returns the tickets issued; a
    /// span that would overflow the clock is ignored.
    pub fn advance(&self, by: Duration) -> Vec<ScheduledTicket> {
        advance(&self.shared, by).unwrap_or_default()
    }

    /// Waits for the pushes started so far.
    pub async fn settle(&self) {
        settle(&self.shared).await;
    }

    /// The calls that broke the SDK's own rules (recorded when not strict).
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.state().violations.clone()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// How many requests went to `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.shared.state().requests.iter().filter(|r| r.path == path).count()
    }

    /// Requests per path.
    pub fn stats(&self) -> HashMap<String, usize> {
        stats(&self.shared)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.state().requests.clear();
    }

    /// Removes every injected fault not yet used up. Returns how many.
    pub fn clear_faults(&self) -> usize {
        clear_faults(&self.shared)
    }

    /// Waits for the pushes under way, then forgets the recorded requests and
    /// pushes, the faults and everything issued (tokens, tickets, codes,
    /// permanent codes, orders, members, tags, media). The configuration and
    /// the clock stay; the ticket schedule restarts from now.
    pub async fn reset(&self) {
        reset(&self.shared).await;
    }

    /// Answers the next `times` calls to `path` (every path when `None`) with
    /// `fault`. Faults queue in the order injected.
    pub fn inject(&self, path: Option<&str>, times: usize, fault: Fault) {
        self.shared.state().faults.push((path.map(str::to_owned), times, fault));
    }

    /// Who `token` was issued to, if the emulator issued it.
    pub fn token_owner(&self, token: &str) -> Option<TokenOwner> {
        self.shared.state().issued.get(token).map(|i| TokenOwner::from(&i.owner))
    }

    /// Makes `token` invalid at once, as WeCom may do before its expiry.
    pub fn revoke_token(&self, token: &str) {
        let mut state = self.shared.state();
        if let Some(issued) = state.issued.remove(token) {
            state.current.remove(&issued.owner);
        }
    }

    /// Every callback push made so far.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.state().pushes.clone()
    }

    /// Pushes a new suite ticket to the suite's command URL now. Returns
    /// the last attempt ([`Emulator::suite_ticket`] has the ticket).
    pub async fn push_suite_ticket(&self, suite_id: &str) -> Result<PushRecord, PushError> {
        push::suite_ticket(&self.shared, suite_id).await.map(|(_, record)| record)
    }

    /// The newest ticket issued for `suite_id`, if any.
    pub fn suite_ticket(&self, suite_id: &str) -> Option<String> {
        let state = self.shared.state();
        state.tickets.get(suite_id)?.iter().max_by_key(|(_, at)| *at).map(|(ticket, _)| ticket.clone())
    }

    /// An emulated admin of `corp_id` authorizes the suite: an auth code is
    /// issued and pushed in `create_auth`. Returns the auth code.
    pub async fn authorize_corp(&self, suite_id: &str, corp_id: &str) -> Result<String, PushError> {
        push::authorize(&self.shared, suite_id, corp_id, "").await.map(|(code, _)| code)
    }

    /// An OAuth code for member `userid` of `corp_id`, as WeCom's OAuth
    /// redirect would hand it to the app of `suite_id`: it works once, within
    /// 5 minutes, with that suite's token (or, for a 代开发 app, that corp's).
    pub fn oauth_code(&self, suite_id: &str, corp_id: &str, userid: &str) -> Result<String, String> {
        oauth::issue_code(&self.shared, suite_id, corp_id, userid)
    }

    /// Pays license order `order_id` (as the provider would in the admin
    /// console): its accounts appear, one active code each.
    pub fn pay_license_order(&self, order_id: &str) -> Result<(), String> {
        license::pay(&self.shared, order_id)
    }

    /// The corp cancels its authorization: its permanent code and tokens stop
    /// working and `cancel_auth` is pushed.
    pub async fn cancel_authorization(&self, suite_id: &str, corp_id: &str) -> Result<PushRecord, PushError> {
        push::cancel(&self.shared, suite_id, corp_id).await
    }

    /// The corp changes its authorization (visible range, permissions):
    /// `change_auth` is pushed.
    pub async fn change_authorization(&self, suite_id: &str, corp_id: &str) -> Result<PushRecord, PushError> {
        push::change(&self.shared, suite_id, corp_id).await
    }

    /// The provider resets the permanent code of a corp that authorized the
    /// suite (a 代开发 app's secret): a new code replaces the old one, which
    /// stops working at once, and `reset_permanent_code` is pushed with an
    /// auth code that `get_permanent_code` exchanges for the new code.
    pub async fn reset_permanent_code(
        &self,
        suite_id: &str,
        corp_id: &str,
    ) -> Result<PermanentCodeReset, PushError> {
        push::reset_permanent_code(&self.shared, suite_id, corp_id).await
    }

    /// Pushes the plain event `xml` (any event: a message, a contact change,
    /// …) for `corp_id`: to the suite's data URL encrypted for the corp id
    /// (with the event's `AgentID` in the envelope), or to its command URL
    /// encrypted for the suite id. Returns the last attempt.
    pub async fn push_event(
        &self,
        suite_id: &str,
        corp_id: &str,
        xml: &str,
        target: PushTarget,
    ) -> Result<PushRecord, PushError> {
        push::event(&self.shared, suite_id, corp_id, xml, target).await
    }

    /// A WeChat customer (`external_userid`) writes `text` to 微信客服
    /// account `open_kfid` of `corp_id` (one the corp added with
    /// `kf/account/add`): the message waits for `kf/sync_msg`, and
    /// `kf_msg_or_event` is pushed to the suite's data URL with a token
    /// that lets `sync_msg` read for [`KF_TOKEN_LIFETIME`]. Returns the
    /// push's last attempt.
    pub async fn kf_customer_writes(
        &self,
        suite_id: &str,
        corp_id: &str,
        open_kfid: &str,
        external_userid: &str,
        text: &str,
    ) -> Result<PushRecord, PushError> {
        kf::customer_writes(&self.shared, suite_id, corp_id, open_kfid, external_userid, text).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.realtime.take() {
            task.abort();
        }
    }
}

/// Moves the clock by `by` and issues every ticket due in the span (pushed
/// in the background); `None`, and no move, when the clock would overflow.
pub(crate) fn advance(shared: &Arc<Shared>, by: Duration) -> Option<Vec<ScheduledTicket>> {
    shared.now().checked_add(by)?;
    shared.clock.advance(by);
    let now = shared.now();
    let mut due: Vec<(String, Vec<(String, SystemTime)>)> = Vec::new();
    {
        let mut state = shared.state();
        for suite in shared.config.suites.iter().filter(|s| s.command_url.is_some()) {
            let suite_id = suite.suite_id.as_str();
            let Some(mut at) = state.last_ticket_push.get(suite_id).copied().or(state.ticket_epoch) else {
                continue;
            };
            let span = now.duration_since(at).unwrap_or_default().as_secs();
            let count = span / TICKET_INTERVAL.as_secs();
            let skipped = count.saturating_sub(MAX_TICKETS_PER_ADVANCE);
            if skipped > 0 {
                let jump = Duration::from_secs(TICKET_INTERVAL.as_secs().saturating_mul(skipped));
                at = at.checked_add(jump).unwrap_or(now);
            }
            let mut tickets = Vec::new();
            while let Some(next) = at.checked_add(TICKET_INTERVAL).filter(|next| *next <= now) {
                tickets.push((push::issue_ticket(&mut state, suite_id, next), next));
                at = next;
            }
            if !tickets.is_empty() {
                due.push((suite_id.to_owned(), tickets));
            }
        }
    }
    let mut issued = Vec::new();
    for (suite_id, tickets) in due {
        issued.extend(tickets.iter().map(|(ticket, at)| ScheduledTicket {
            suite_id: suite_id.clone(),
            ticket: ticket.clone(),
            timestamp: at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
        }));
        let shared_for_task = shared.clone();
        shared.pending.spawn(async move {
            for (ticket, at) in tickets {
                if let Err(e) = push::push_ticket(&shared_for_task, &suite_id, &ticket, at).await {
                    tracing::warn!(suite = %suite_id, error = %e, "scheduled suite_ticket push failed");
                }
            }
        });
    }
    Some(issued)
}

/// Realtime mode: a ticket for every suite with a command URL now, then the
/// clock moved with the wall clock every second (pushing tickets as they
/// fall due). Runs until aborted.
async fn follow_wall_clock(shared: Arc<Shared>) {
    let suites: Vec<String> =
        shared.config.suites.iter().filter(|s| s.command_url.is_some()).map(|s| s.suite_id.clone()).collect();
    for suite_id in suites {
        if let Err(e) = push::suite_ticket(&shared, &suite_id).await {
            tracing::warn!(suite = %suite_id, error = %e, "first suite_ticket push failed");
        }
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = tokio::time::Instant::now();
    loop {
        ticks.tick().await;
        let now = tokio::time::Instant::now();
        advance(&shared, now.duration_since(last));
        last = now;
    }
}

pub(crate) fn clear_faults(shared: &Shared) -> usize {
    std::mem::take(&mut shared.state().faults).len()
}

pub(crate) async fn reset(shared: &Shared) {
    settle(shared).await;
    let now = shared.now();
    *shared.state() = State { ticket_epoch: Some(now), ..State::default() };
}

pub(crate) async fn settle(shared: &Shared) {
    shared.pending.drain().await;
}

pub(crate) fn stats(shared: &Shared) -> HashMap<String, usize> {
    let mut calls = HashMap::new();
    for request in &shared.state().requests {
        *calls.entry(request.path.clone()).or_insert(0) += 1;
    }
    calls
}

pub(crate) fn inject(shared: &Shared, path: Option<String>, times: usize, fault: Fault) {
    shared.state().faults.push((path, times, fault));
}
