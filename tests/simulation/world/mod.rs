//! The simulated world: WeCom, the network between it and the ISV, 2–4
//! instances of the ISV's server sharing one store, and the faults. It runs
//! the real code (`CallbackServer::serve`, the lifecycle, the token
//! runtime) on tokio's paused clock in one thread, so a seed replays the
//! same run; every decision of chance comes from the seed's generator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::task::AbortHandle;
use wecom_openwork::config::{RetryConfig, RetrySetting, StoreConfig, SuiteConfig};
use wecom_openwork::crypto::MsgCrypt;
use wecom_openwork::server::{CallbackServer, CallbackUrl, InstallRedirect};
use wecom_openwork::store::{keys, MemoryStore, Store};
use wecom_openwork::{AppKind, Application, Config, SuiteId};

use crate::clock::SimClock;
use crate::rng::Rng;
use crate::store::{FaultyStore, StoreFate};
use crate::wecom::{SimTransport, WeCom, WeComFate, SUITE, SUITE_SECRET};

mod fates;
mod logs;
mod traffic;

pub use logs::capture_logs;

pub const PROVIDER: &str = "wwsimprovider";
pub const CALLBACK_TOKEN: &str = "SimToken";
pub const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
/// How long WeCom waits for an answer to a push before it gives up on
/// that attempt, and how many times it tries in all.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);
const PUSH_ATTEMPTS: usize = 4;

/// How rough the world is.
#[derive(Debug, Clone)]
pub struct Faults {
    pub enabled: bool,
    pub store_error: f64,
    pub store_timeout: f64,
    pub store_lost_ack: f64,
    pub wecom_error: f64,
    pub wecom_status: f64,
    pub wecom_rate_limit: f64,
    pub wecom_act_then_hang: f64,
    pub wecom_refused: f64,
    pub duplicate: f64,
    pub handler_error: f64,
    /// The store answers nothing until this time (ms of simulated time).
    pub outage_until_ms: u64,
}

impl Faults {
    pub fn calm() -> Faults {
        Faults {
            enabled: false,
            store_error: 0.0,
            store_timeout: 0.0,
            store_lost_ack: 0.0,
            wecom_error: 0.0,
            wecom_status: 0.0,
            wecom_rate_limit: 0.0,
            wecom_act_then_hang: 0.0,
            wecom_refused: 0.0,
            duplicate: 0.0,
            handler_error: 0.0,
            outage_until_ms: 0,
        }
    }

    pub fn stormy(rng: &mut Rng) -> Faults {
        let scale = [0.5, 1.0, 2.0][rng.below(3) as usize];
        Faults {
            enabled: true,
            store_error: 0.01 * scale,
            store_timeout: 0.004 * scale,
            store_lost_ack: 0.006 * scale,
            wecom_error: 0.04 * scale,
            wecom_status: 0.02 * scale,
            wecom_rate_limit: 0.005 * scale,
            wecom_act_then_hang: 0.02 * scale,
            wecom_refused: 0.01 * scale,
            duplicate: 0.05,
            handler_error: 0.03,
            outage_until_ms: 0,
        }
    }
}

/// Counts of the faults injected, by kind.
#[derive(Debug, Default, Clone)]
pub struct Injected {
    pub counts: BTreeMap<&'static str, u64>,
}

impl Injected {
    pub fn add(&mut self, kind: &'static str) {
        *self.counts.entry(kind).or_default() += 1;
    }
}

/// A push WeCom sent, and what became of it.
#[derive(Debug, Clone)]
pub struct PushRecord {
    pub message: String,
    pub kind: String,
    pub acked: bool,
}

/// What the ISV's code saw: hooks and handlers that ran to the end.
#[derive(Debug, Default)]
pub struct Ledger {
    /// (instance, incarnation, message) of every push a handler chain
    /// finished with success.
    pub handled: Vec<(usize, u64, String)>,
    /// (corp, permanent code, at ms) of every `on_authorized`.
    pub authorized: Vec<(String, String, u64)>,
    /// (corp, at ms) of every `on_cancelled`.
    pub cancelled: Vec<(String, u64)>,
    pub pushes: Vec<PushRecord>,
    /// The auth codes an install redirect brought to an instance.
    pub redirected: Vec<String>,
}

/// One running incarnation of an instance.
pub struct Live {
    pub incarnation: u64,
    pub app: Application,
    pub server: CallbackServer,
    requests: Vec<AbortHandle>,
}

pub struct Slot {
    pub live: Option<Live>,
    pub incarnations: u64,
    pub skew_ms: i64,
    /// Whether this instance has lifecycle hooks (the first does not, as
    /// `wecom-openwork serve` has none).
    pub hooks: bool,
    /// The instance dies at its store operation counted down to zero.
    pub crash_after_ops: Option<u64>,
}

/// A fate forced on the next requests to WeCom (scenarios).
struct Forced {
    instance: Option<usize>,
    path_suffix: &'static str,
    fate: WeComFate,
    times: usize,
}

struct State {
    forced: Vec<Forced>,
    faults: Faults,
    injected: Injected,
    instances: Vec<Slot>,
    trace: Vec<String>,
    ledger: Ledger,
    violations: Vec<String>,
    settling: bool,
}

pub struct World {
    /// Changes a scenario makes to the instances' configuration.
    tweak: Mutex<Option<fn(&mut Config)>>,
    pub seed: u64,
    pub base: SystemTime,
    pub start: tokio::time::Instant,
    rng: Mutex<Rng>,
    pub wecom: Mutex<WeCom>,
    pub store: Arc<MemoryStore>,
    state: Mutex<State>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("seed", &self.seed).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The store's clock: the world's true time (a shared store has one clock).
fn store_clock(base: SystemTime, start: tokio::time::Instant) -> SimClock {
    SimClock { base, start, skew_ms: 0 }
}

impl World {
    pub fn new(seed: u64, instances: usize, faults: Faults, skews: Vec<i64>) -> Arc<World> {
        let base = UNIX_EPOCH + Duration::from_secs(1_796_083_200); // 2026-12-01T00:00:00Z
        let start = tokio::time::Instant::now();
        let store = Arc::new(MemoryStore::with_clock(Arc::new(store_clock(base, start))));
        let slots = (0..instances)
            .map(|i| Slot {
                live: None,
                incarnations: 0,
                skew_ms: skews.get(i).copied().unwrap_or(0),
                hooks: i != 0,
                crash_after_ops: None,
            })
            .collect();
        Arc::new(World {
            tweak: Mutex::new(None),
            seed,
            base,
            start,
            rng: Mutex::new(Rng::new(seed.wrapping_mul(31).wrapping_add(7))),
            wecom: Mutex::new(WeCom::default()),
            store,
            state: Mutex::new(State {
                forced: Vec::new(),
                faults,
                injected: Injected::default(),
                instances: slots,
                trace: Vec::new(),
                ledger: Ledger::default(),
                violations: Vec::new(),
                settling: false,
            }),
        })
    }

    pub fn now_ms(&self) -> u64 {
        tokio::time::Instant::now().saturating_duration_since(self.start).as_millis() as u64
    }

    /// WeCom's clock, in whole seconds since the epoch.
    pub fn wecom_second(&self) -> u64 {
        (self.base + Duration::from_millis(self.now_ms()))
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn wall_ms(&self) -> u64 {
        (self.base + Duration::from_millis(self.now_ms()))
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    pub fn trace(&self, line: impl AsRef<str>) {
        let at = self.now_ms();
        let line = format!("{:>9.3}s {}", at as f64 / 1000.0, line.as_ref());
        if std::env::var_os("WECOM_SIM_LIVE").is_some() {
            eprintln!("{line}");
        }
        lock(&self.state).trace.push(line);
    }

    pub fn violation(&self, what: impl Into<String>) {
        let what = what.into();
        self.trace(format!("VIOLATION {what}"));
        lock(&self.state).violations.push(what);
    }

    pub fn violations(&self) -> Vec<String> {
        lock(&self.state).violations.clone()
    }

    pub fn trace_lines(&self) -> Vec<String> {
        lock(&self.state).trace.clone()
    }

    pub fn injected(&self) -> Injected {
        lock(&self.state).injected.clone()
    }

    pub fn with_ledger<T>(&self, f: impl FnOnce(&Ledger) -> T) -> T {
        f(&lock(&self.state).ledger)
    }

    pub fn rng<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        f(&mut lock(&self.rng))
    }

    pub fn latency_ms(&self) -> u64 {
        self.rng(|r| r.between(5, 60))
    }

    pub fn alive(&self, instance: usize, incarnation: u64) -> bool {
        lock(&self.state)
            .instances
            .get(instance)
            .and_then(|s| s.live.as_ref())
            .is_some_and(|l| l.incarnation == incarnation)
    }

    /// Turns the faults off and lets the world settle.
    pub fn settle(&self) {
        let mut state = lock(&self.state);
        state.faults = Faults::calm();
        state.settling = true;
        for slot in &mut state.instances {
            slot.crash_after_ops = None;
        }
    }

    /// The next `times` requests of `instance` (any when `None`) whose path
    /// ends with `path_suffix` meet `fate`.
    pub fn force_wecom(
        &self,
        instance: Option<usize>,
        path_suffix: &'static str,
        fate: WeComFate,
        times: usize,
    ) {
        lock(&self.state).forced.push(Forced { instance, path_suffix, fate, times });
    }

    pub fn set_outage(&self, until_ms: u64) {
        lock(&self.state).faults.outage_until_ms = until_ms;
        self.trace(format!("the store is down until {:.3}s", until_ms as f64 / 1000.0));
    }

    pub fn arm_crash(&self, instance: usize, after_ops: u64) {
        if let Some(slot) = lock(&self.state).instances.get_mut(instance) {
            slot.crash_after_ops = Some(after_ops);
        }
    }

    pub fn config(&self) -> Config {
        let mut config = Config {
            corp_id: PROVIDER.into(),
            provider_secret: "sim-provider-secret".into(),
            token: CALLBACK_TOKEN.into(),
            aes_key: AES_KEY.into(),
            suites: vec![SuiteConfig {
                suite_id: SUITE.into(),
                suite_secret: SUITE_SECRET.into(),
                token: CALLBACK_TOKEN.into(),
                aes_key: AES_KEY.into(),
                kind: AppKind::ThirdParty,
            }],
            store: StoreConfig::memory(),
            ..Config::default()
        };
        config.http.base_uri = "https://wecom.sim".into();
        config.http.timeout = 2.0;
        config.http.retry = RetrySetting::Custom(RetryConfig {
            delay: 200,
            multiplier: 2.0,
            jitter: 0.0,
            ..RetryConfig::default()
        });
        if let Some(tweak) = *lock(&self.tweak) {
            tweak(&mut config);
        }
        config
    }

    /// Instances started from now on get `tweak`'s configuration.
    pub fn tweak_config(&self, tweak: fn(&mut Config)) {
        *lock(&self.tweak) = Some(tweak);
    }

    /// Starts (or restarts) `instance` from the store, and resumes.
    pub async fn start_instance(self: &Arc<Self>, instance: usize) {
        let (incarnation, skew_ms, hooks) = {
            let mut state = lock(&self.state);
            let Some(slot) = state.instances.get_mut(instance) else { return };
            if slot.live.is_some() {
                return;
            }
            slot.incarnations += 1;
            (slot.incarnations, slot.skew_ms, slot.hooks)
        };
        let clock = SimClock { base: self.base, start: self.start, skew_ms };
        let store = FaultyStore { inner: self.store.clone(), world: self.clone(), instance, incarnation };
        let transport = SimTransport { world: self.clone(), instance, incarnation };
        let app = match Application::builder(self.config())
            .clock(Arc::new(clock))
            .store(Arc::new(store))
            .transport(Arc::new(transport))
            .build()
        {
            Ok(app) => app,
            Err(e) => {
                self.violation(format!("the application did not build: {e}"));
                return;
            }
        };
        let server = self.server_for(&app, instance, incarnation, hooks);
        lock(&self.state).instances[instance].live =
            Some(Live { incarnation, app: app.clone(), server: server.clone(), requests: Vec::new() });
        self.trace(format!(
            "inst {instance}: started (incarnation {incarnation}, skew {skew_ms} ms, hooks {hooks})"
        ));
        let world = self.clone();
        // Resume as a real start does; it may meet faults like anything else.
        self.spawn_request(instance, incarnation, async move {
            match server.resume().await {
                Ok(n) => world.trace(format!("inst {instance}: resumed {n}")),
                Err(e) => world.trace(format!("inst {instance}: resume failed: {e}")),
            }
        });
    }

    fn server_for(
        self: &Arc<Self>,
        app: &Application,
        instance: usize,
        incarnation: u64,
        hooks: bool,
    ) -> CallbackServer {
        let world = self.clone();
        let mut server = app.server().with(move |callback, next| {
            let world = world.clone();
            async move {
                let message = callback.message.clone();
                let url = callback.url.clone();
                if world.handler_fails(&url) {
                    return Err("the ISV's handler failed".into());
                }
                let result = next.run(callback).await;
                if result.is_ok() {
                    if !world.alive(instance, incarnation) {
                        return std::future::pending().await;
                    }
                    lock(&world.state).ledger.handled.push((instance, incarnation, message));
                }
                result
            }
        });
        if hooks {
            let (w1, w2) = (self.clone(), self.clone());
            server = server
                .on_authorized(move |corp| {
                    let world = w1.clone();
                    async move {
                        if !world.alive(instance, incarnation) {
                            return std::future::pending().await;
                        }
                        if world.hook_fails() {
                            return Err("on_authorized failed".into());
                        }
                        let a = corp.authorization;
                        let line = format!(
                            "inst {instance}: on_authorized {} code {}",
                            a.corp_id,
                            a.permanent_code.expose()
                        );
                        world.trace(line);
                        let now = world.now_ms();
                        lock(&world.state).ledger.authorized.push((
                            a.corp_id.to_string(),
                            a.permanent_code.expose().to_owned(),
                            now,
                        ));
                        Ok(())
                    }
                })
                .on_cancelled(move |corp| {
                    let world = w2.clone();
                    async move {
                        if !world.alive(instance, incarnation) {
                            return std::future::pending().await;
                        }
                        if world.hook_fails() {
                            return Err("on_cancelled failed".into());
                        }
                        world.trace(format!("inst {instance}: on_cancelled {}", corp.corp_id));
                        let now = world.now_ms();
                        lock(&world.state).ledger.cancelled.push((corp.corp_id.to_string(), now));
                        Ok(())
                    }
                });
        }
        server
    }

    fn handler_fails(&self, url: &CallbackUrl) -> bool {
        let p = lock(&self.state).faults.handler_error;
        let fails = matches!(url, CallbackUrl::Data(_)) && self.rng(|r| r.chance(p));
        if fails {
            lock(&self.state).injected.add("handler error");
        }
        fails
    }

    fn hook_fails(&self) -> bool {
        let p = lock(&self.state).faults.handler_error;
        let fails = self.rng(|r| r.chance(p));
        if fails {
            lock(&self.state).injected.add("hook error");
        }
        fails
    }

    /// Runs `work` as a request of a live incarnation: it dies with it.
    fn spawn_request(
        &self,
        instance: usize,
        incarnation: u64,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let mut state = lock(&self.state);
        let live =
            state.instances.get_mut(instance)?.live.as_mut().filter(|l| l.incarnation == incarnation)?;
        let handle = tokio::spawn(work);
        live.requests.retain(|r| !r.is_finished());
        live.requests.push(handle.abort_handle());
        Some(handle)
    }

    /// Kills an incarnation where it stands: nothing it does completes
    /// from now on; its tasks are stopped.
    pub fn kill(self: &Arc<Self>, instance: usize, incarnation: u64, why: &str) {
        let live = {
            let mut state = lock(&self.state);
            let Some(slot) = state.instances.get_mut(instance) else { return };
            if slot.live.as_ref().is_none_or(|l| l.incarnation != incarnation) {
                return;
            }
            slot.live.take()
        };
        let Some(live) = live else { return };
        self.trace(format!("inst {instance}: CRASH ({why})"));
        for request in &live.requests {
            request.abort();
        }
        tokio::spawn(async move {
            live.server.shutdown(Duration::ZERO).await;
            drop(live);
        });
        // Restarted after a while, unless the plan restarts it.
        let world = self.clone();
        let after = self.rng(|r| r.between(1_000, 40_000));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after)).await;
            world.start_instance(instance).await;
        });
    }

    pub fn crash(self: &Arc<Self>, instance: usize) {
        let incarnation =
            lock(&self.state).instances.get(instance).and_then(|s| s.live.as_ref()).map(|l| l.incarnation);
        if let Some(incarnation) = incarnation {
            lock(&self.state).injected.add("crash at a moment");
            self.kill(instance, incarnation, "at a moment");
        }
    }

    pub fn live_instances(&self) -> Vec<(usize, u64)> {
        lock(&self.state)
            .instances
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.live.as_ref().map(|l| (i, l.incarnation)))
            .collect()
    }

    pub fn app_of(&self, instance: usize) -> Option<(Application, CallbackServer, u64)> {
        let state = lock(&self.state);
        let live = state.instances.get(instance)?.live.as_ref()?;
        Some((live.app.clone(), live.server.clone(), live.incarnation))
    }

    /// Stops every instance and forgets them (ends the reference cycles).
    pub async fn teardown(&self) {
        let lives: Vec<Live> = lock(&self.state).instances.iter_mut().filter_map(|s| s.live.take()).collect();
        for live in lives {
            for request in &live.requests {
                request.abort();
            }
            live.server.shutdown(Duration::ZERO).await;
        }
        lock(&self.state).instances.clear();
    }

    // -------------------------------------------------------------- pushes

    /// Seals `message` for `url` as WeCom does, at the current time.
    fn seal(&self, url: &CallbackUrl, message: &str) -> (String, Vec<u8>) {
        let receive_id = match url {
            CallbackUrl::Data(_) => {
                // The corp the data is about is the receive id.
                let corp = message.split("<ToUserName><![CDATA[").nth(1).and_then(|s| s.split(']').next());
                corp.unwrap_or(SUITE).to_owned()
            }
            _ => SUITE.to_owned(),
        };
        let timestamp = (self.wall_ms() / 1000).to_string();
        let nonce = self.rng(|r| r.next_u64()).to_string();
        let crypt = MsgCrypt::new(CALLBACK_TOKEN, AES_KEY, &receive_id).expect("the sim's key is valid");
        let random: [u8; 16] = self.rng(|r| {
            let (a, b) = (r.next_u64(), r.next_u64());
            let mut out = [0u8; 16];
            out[..8].copy_from_slice(&a.to_le_bytes());
            out[8..].copy_from_slice(&b.to_le_bytes());
            out
        });
        let sealed = crypt.encrypt_with_random(message, &random, &timestamp, &nonce).expect("seals");
        let query = format!("msg_signature={}&timestamp={timestamp}&nonce={nonce}", sealed.msg_signature);
        let body = format!(
            "<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>",
            sealed.encrypt
        );
        (query, body.into_bytes())
    }

    /// Whether the store holds an authorization of `corp` now (read past
    /// the fault layer).
    async fn stored(&self, corp: &str) -> bool {
        let key = keys::authorization(&SuiteId::new(SUITE), &wecom_openwork::CorpId::new(corp));
        match self.store.get_record(&key).await {
            Ok(Some(record)) => !record.value.contains("cancelled_at"),
            _ => false,
        }
    }
}
