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

    /// What happens to a store operation of `instance`.
    pub fn store_fate(&self, instance: usize, incarnation: u64, operation: &str, write: bool) -> StoreFate {
        if !self.alive(instance, incarnation) {
            return StoreFate::Frozen;
        }
        let now = self.now_ms();
        let mut rng = lock(&self.rng);
        let mut state = lock(&self.state);
        let state = &mut *state;
        if let Some(slot) = state.instances.get_mut(instance) {
            if let Some(left) = slot.crash_after_ops.as_mut() {
                if *left == 0 {
                    slot.crash_after_ops = None;
                    state.injected.add("crash at a store operation");
                    return if write && rng.chance(0.5) {
                        StoreFate::CrashAfter
                    } else {
                        StoreFate::CrashBefore
                    };
                }
                *left -= 1;
            }
        }
        let faults = &state.faults;
        if now < faults.outage_until_ms {
            state.injected.add("store outage");
            return StoreFate::FailBefore;
        }
        if !faults.enabled {
            return StoreFate::Proceed;
        }
        let (error, timeout, lost) = (faults.store_error, faults.store_timeout, faults.store_lost_ack);
        let _ = operation;
        if rng.chance(error) {
            state.injected.add("store error");
            StoreFate::FailBefore
        } else if rng.chance(timeout) {
            state.injected.add("store timeout");
            StoreFate::Timeout
        } else if write && rng.chance(lost) {
            state.injected.add("store write landed, reported failed");
            StoreFate::LandThenFail
        } else {
            StoreFate::Proceed
        }
    }

    /// What happens to a request of `instance` to WeCom.
    pub fn wecom_fate(&self, instance: usize, incarnation: u64, path: &str) -> WeComFate {
        if !self.alive(instance, incarnation) {
            return WeComFate::Frozen;
        }
        let exchange = path.ends_with("get_permanent_code");
        let (fate, kind) = {
            let mut rng = lock(&self.rng);
            let mut guard = lock(&self.state);
            let state = &mut *guard;
            let forced = state.forced.iter_mut().find(|f| {
                f.times > 0 && path.ends_with(f.path_suffix) && f.instance.is_none_or(|i| i == instance)
            });
            if let Some(forced) = forced {
                forced.times -= 1;
                let fate = forced.fate;
                drop(guard);
                drop(rng);
                self.trace(format!("inst {instance}: forced {fate:?} on {path}"));
                return fate;
            }
            let f = &state.faults;
            if !f.enabled {
                return WeComFate::Answer;
            }
            let hang = if exchange { f.wecom_act_then_hang * 3.0 } else { f.wecom_act_then_hang };
            let fate = if rng.chance(f.wecom_error) {
                WeComFate::Errcode(-1)
            } else if rng.chance(f.wecom_status) {
                WeComFate::Status(502)
            } else if rng.chance(f.wecom_rate_limit) {
                WeComFate::Errcode(45009)
            } else if rng.chance(hang) {
                WeComFate::ActThenHang
            } else if rng.chance(f.wecom_refused) {
                WeComFate::Refused
            } else {
                WeComFate::Answer
            };
            let kind = match fate {
                WeComFate::Errcode(-1) => "wecom -1",
                WeComFate::Errcode(_) => "wecom 45009",
                WeComFate::Status(_) => "wecom 5xx",
                WeComFate::ActThenHang => "wecom reply lost after acting",
                WeComFate::Refused => "wecom connection refused",
                _ => return fate,
            };
            state.injected.add(kind);
            (fate, kind)
        };
        self.trace(format!("inst {instance}: {kind} on {path}"));
        fate
    }

    pub fn wecom_answer(
        &self,
        path: &str,
        query: &BTreeMap<String, String>,
        body: &Value,
        caller: (usize, u64),
    ) -> Value {
        let now = self.now_ms();
        let answer = lock(&self.wecom).answer(path, query, body, now, caller);
        let code = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if code != 0 || path.ends_with("get_permanent_code") {
            self.trace(format!("inst {}: WeCom {path} → {code}", caller.0));
        }
        answer
    }

    /// The reply to an exchange was lost after WeCom acted on it.
    pub fn reply_lost(&self, body: &Value) {
        if let Some(code) = body.get("auth_code").and_then(Value::as_str) {
            if let Some(c) = lock(&self.wecom).codes.get_mut(code) {
                c.reply_lost = true;
            }
        }
    }

    // ------------------------------------------------------------ instances

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

    /// WeCom pushes `message` to `url`: to a random live instance, again
    /// after a failure (WeCom's retries, sealed anew), at most
    /// [`PUSH_ATTEMPTS`] times; sometimes twice (a duplicate). Returns
    /// whether it was acknowledged.
    pub async fn push(
        self: &Arc<Self>,
        url: CallbackUrl,
        kind: &str,
        message: String,
        corp: Option<String>,
    ) -> bool {
        self.push_to(None, url, kind, message, corp).await
    }

    /// [`World::push`], its first attempt to `target` when it is up.
    pub async fn push_to(
        self: &Arc<Self>,
        target: Option<usize>,
        url: CallbackUrl,
        kind: &str,
        message: String,
        corp: Option<String>,
    ) -> bool {
        let index = {
            let mut state = lock(&self.state);
            state.ledger.pushes.push(PushRecord {
                message: message.clone(),
                kind: kind.to_owned(),
                acked: false,
            });
            state.ledger.pushes.len() - 1
        };
        let mut acked = false;
        for attempt in 0..PUSH_ATTEMPTS {
            let delay = self.rng(|r| r.between(10, 1500));
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let mut live = self.live_instances();
            if attempt == 0 {
                if let Some(target) = target {
                    live.retain(|(i, _)| *i == target);
                }
            }
            let Some(&(instance, incarnation)) = self.rng(|r| r.pick(&live).copied()).as_ref() else {
                self.trace(format!("push #{index} {kind}: no instance up"));
                tokio::time::sleep(PUSH_TIMEOUT).await;
                continue;
            };
            let stored_before = match &corp {
                Some(c) if matches!(url, CallbackUrl::Data(_)) => self.stored(c).await,
                _ => false,
            };
            let outcome = self.deliver(instance, incarnation, &url, &message).await;
            let line = format!("push #{index} {kind} attempt {attempt} → inst {instance}: {outcome:?}");
            self.trace(line);
            match outcome {
                Some((200, body)) if body == "success" => {
                    acked = true;
                    // WeCom (or the network) sometimes sends it again.
                    let dup = lock(&self.state).faults.duplicate;
                    if self.rng(|r| r.chance(dup)) {
                        lock(&self.state).injected.add("duplicate push");
                        let live = self.live_instances();
                        if let Some(&(i, inc)) = self.rng(|r| r.pick(&live).copied()).as_ref() {
                            let again = self.deliver(i, inc, &url, &message).await;
                            self.trace(format!("push #{index} {kind} duplicate → inst {i}: {again:?}"));
                        }
                    }
                    break;
                }
                Some((400, body)) if body == "-40005" => {
                    if let Some(c) = &corp {
                        if stored_before && self.stored(c).await {
                            self.violation(format!(
                                "a data push of corp {c}, whose authorization is stored, was refused as a receive-id mismatch"
                            ));
                        }
                    }
                }
                Some((status, body)) if (400..500).contains(&status) => {
                    self.violation(format!(
                        "push #{index} {kind} refused with {status} {body}: WeCom does not retry a refusal"
                    ));
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(self.rng(|r| r.between(1000, 6000)))).await;
        }
        lock(&self.state).ledger.pushes[index].acked = acked;
        if !acked {
            self.trace(format!("push #{index} {kind}: WeCom gave up"));
        }
        acked
    }

    /// One delivery: the instance's `serve`, as its HTTP server runs it (a
    /// request whose caller left is dropped where it stands).
    async fn deliver(
        &self,
        instance: usize,
        incarnation: u64,
        url: &CallbackUrl,
        message: &str,
    ) -> Option<(u16, String)> {
        let (_, server, _) = self.app_of(instance).filter(|(_, _, inc)| *inc == incarnation)?;
        let (query, body) = self.seal(url, message);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let url = url.clone();
        let handle = self.spawn_request(instance, incarnation, async move {
            let response = server.serve(&url, "POST", &query, &body).await;
            let _ = tx.send((response.status, response.body));
        })?;
        match tokio::time::timeout(PUSH_TIMEOUT, rx).await {
            Ok(Ok(answer)) => Some(answer),
            Ok(Err(_)) => None,
            Err(_) => {
                handle.abort();
                None
            }
        }
    }

    /// The install page's redirect reaching a random live instance's
    /// `complete_install`, with a state its own link signed.
    pub async fn redirect(self: &Arc<Self>, auth_code: String) {
        let live = self.live_instances();
        if let Some(&(instance, _)) = self.rng(|r| r.pick(&live).copied()).as_ref() {
            self.redirect_to(instance, auth_code).await;
        }
    }

    /// The install redirect reaching `instance`.
    pub async fn redirect_to(self: &Arc<Self>, instance: usize, auth_code: String) {
        let Some(incarnation) = self.app_of(instance).map(|(_, _, inc)| inc) else { return };
        let Some((app, server, _)) = self.app_of(instance) else { return };
        let link = match app.suite(SUITE).install_url("PREAUTH", "https://isv.sim/installed", Some("sim")) {
            Ok(link) => link,
            Err(e) => return self.violation(format!("install_url failed: {e}")),
        };
        let state = reqwest::Url::parse(&link)
            .ok()
            .and_then(|u| u.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()))
            .unwrap_or_default();
        let query = format!("auth_code={auth_code}&expires_in=600&state={state}");
        let world = self.clone();
        self.spawn_request(instance, incarnation, async move {
            let Ok(redirect) = InstallRedirect::from_query(&query) else { return };
            let result = server.complete_install(SUITE, &redirect).await;
            // Journaled: the redirect brought the code to the ISV.
            if matches!(result, Ok(_) | Err(wecom_openwork::Error::InstallIncomplete { .. })) {
                lock(&world.state).ledger.redirected.push(redirect.auth_code.clone());
            }
            match result {
                Ok(a) => {
                    world.trace(format!("inst {instance}: redirect completed {}", a.authorization.corp_id))
                }
                Err(e @ wecom_openwork::Error::InvalidRequest(_)) => {
                    world.violation(format!("a redirect with a state its own link signed was refused: {e}"))
                }
                Err(e) => world.trace(format!("inst {instance}: redirect: {e}")),
            }
        });
    }

    /// An ISV's own work on one instance: tokens and JS tickets of the
    /// corps it holds (what makes the token runtime fetch).
    pub async fn workload(self: &Arc<Self>, instance: usize) {
        let Some((app, _, incarnation)) = self.app_of(instance) else { return };
        let world = self.clone();
        self.spawn_request(instance, incarnation, async move {
            let Ok(authorizations) = app.authorizations().await else { return };
            for a in authorizations {
                let corp = app.corp(a.suite_id.clone(), a.corp_id.clone());
                let current = |world: &World| {
                    let wecom = world.wecom.lock().expect("wecom");
                    wecom.corps.get(a.corp_id.as_str()).and_then(|c| c.current_code.clone())
                };
                // WeCom accepts the stored code before the call and after it.
                let valid_before = current(&world).as_deref() == Some(a.permanent_code.expose());
                let token = corp.access_token().get_token().await.map(|_| ());
                let ticket = corp.jsapi().ticket().await.map(|_| ());
                if let (Err(e), _) | (_, Err(e)) = (&token, &ticket) {
                    world.trace(format!("inst {instance}: workload {}: {e}", a.corp_id));
                    let valid_after = current(&world).as_deref() == Some(a.permanent_code.expose());
                    if matches!(e, wecom_openwork::Error::AuthorizationGone { .. })
                        && valid_before
                        && valid_after
                    {
                        world.violation(format!(
                            "inst {instance}: corp {} refused as gone although WeCom accepts its stored code",
                            a.corp_id
                        ));
                    }
                }
            }
        });
    }
}

/// Writes the SDK's own log lines (INFO and above) into `world`'s trace,
/// on this thread, until the guard is dropped.
pub fn capture_logs(world: &Arc<World>) -> tracing::subscriber::DefaultGuard {
    let world = Arc::downgrade(world);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .event_format(EventOnly)
        .with_writer(move || LogLine { world: world.clone(), line: Vec::new() })
        .finish();
    tracing::subscriber::set_default(subscriber)
}

/// A log line as its level, message and fields, without the spans around
/// it (which tests running in parallel would make differ from run to run).
struct EventOnly;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for EventOnly
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "{} ", event.metadata().level())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// One formatted log line on its way into the trace.
struct LogLine {
    world: std::sync::Weak<World>,
    line: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if let Some(world) = self.world.upgrade() {
            let text = String::from_utf8_lossy(&self.line);
            world.trace(format!("  sdk: {}", text.trim_end()));
        }
    }
}
