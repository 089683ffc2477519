//! The server's memory of handled pushes ([`ReplayWindow`]), so WeCom's
//! retries of a push (the same plaintext, sealed again) and replayed
//! captures are acknowledged without running the handler a second time.
//!
//! A push is known by its [`PushId`]: a 128-bit digest of the URL it came
//! to, the receive id and the decrypted message. The window keeps ids, never
//! messages, in a few hash sets ("generations"), each covering one span of
//! time (a third of the window): a push costs the same whether the window
//! holds a thousand pushes or a million, and forgetting old pushes drops a
//! whole generation at once.
//!
//! The memory is per instance: a retry that reaches another instance is
//! handled there again (handlers bear a second run; the built-in ones write
//! versioned records). And two messages that are the same byte for byte are
//! one push: WeCom stamps them to the second, so only the same action twice
//! in one second (a second cancel right after a reinstall) would be taken
//! for a retry.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::mem::size_of;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use tokio::sync::Notify;

use super::message::CallbackUrl;

/// How many pushes a [`ReplayWindow`] remembers at most by default.
///
/// A push takes 20 to 40 bytes: 17 a hash-table bucket (its 16-byte id and
/// a control byte), in tables between 7/16 and 7/8 full (about 27 bytes at
/// a steady rate). Once the bound is reached, generations fill their tables:
/// about 18 MB for the million pushes (22 MB at most). It covers a sustained
/// 3,300 pushes a second over the default 5-minute window
/// ([`DEFAULT_REPLAY_WINDOW`](super::DEFAULT_REPLAY_WINDOW)), or a burst of
/// a million; past it, the oldest pushes are forgotten early (with a
/// warning).
pub const DEFAULT_MAX_REPLAY_ENTRIES: usize = 1_000_000;

/// How many spans a window is cut into: an entry lives in a generation of
/// one span, kept while its span is one of the last `SPANS_PER_WINDOW + 1`.
const SPANS_PER_WINDOW: u32 = 3;

/// A generation holds at most `max_entries / GENERATION_SHARE` pushes
/// (rounded down to what a hash table of a power-of-two size holds), so the
/// bound is kept by dropping a quarter at a time at most.
const GENERATION_SHARE: usize = 4;

/// The most pushes a `std` hash table holds without growing, at most `n`:
/// buckets are a power of two, at most 7/8 full (fewer than 8: all but one).
fn full_table_capacity(n: usize) -> usize {
    let mut buckets: usize = 8;
    while buckets.checked_mul(2).is_some_and(|more| more / 8 * 7 <= n) {
        buckets *= 2;
    }
    if buckets / 8 * 7 <= n {
        buckets / 8 * 7
    } else {
        n
    }
}

/// The identity of a push: a 128-bit digest (SHA-1, truncated) of the URL
/// kind and its suite id, the receive id and the decrypted message. Two
/// messages that differ in any byte are two pushes; the same message to
/// another URL or for another receive id is another push. The message itself
/// is not kept. Its `Debug` shows the id in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PushId(u128);

impl PushId {
    /// The identity of `message` (the decrypted plaintext) received at `url`
    /// for `receive_id`.
    pub fn of(url: &CallbackUrl, receive_id: &str, message: &str) -> PushId {
        let mut digest = Sha1::new();
        digest.update(b"wecom-openwork push id v1\0");
        let field = |digest: &mut Sha1, bytes: &[u8]| {
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(bytes);
        };
        match url {
            CallbackUrl::System => digest.update([0]),
            CallbackUrl::Command(suite) => {
                digest.update([1]);
                field(&mut digest, suite.as_str().as_bytes());
            }
            CallbackUrl::Data(suite) => {
                digest.update([2]);
                field(&mut digest, suite.as_str().as_bytes());
            }
        }
        field(&mut digest, receive_id.as_bytes());
        field(&mut digest, message.as_bytes());
        let digest = digest.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        PushId(u128::from_be_bytes(first))
    }
}

impl fmt::Debug for PushId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushId({:032x})", self.0)
    }
}

/// Hashes a [`PushId`]'s bits as they are: they are a digest already, so
/// their low 64 bits are as good a hash as any.
#[derive(Clone, Copy, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u128` keys (they call `write_u128`); mixes every byte
        // anyway, so that the hasher stays a hasher.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u128(&mut self, id: u128) {
        self.0 = id as u64; // the low 64 bits, on purpose
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Copy, Default)]
struct BuildIdHasher;

impl BuildHasher for BuildIdHasher {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher::default()
    }
}

/// The server's memory of handled pushes: a push handled within the window
/// is acknowledged again without handling; one being handled makes a
/// duplicate wait for the outcome.
///
/// Pushes are remembered in generations of one span each (a third of the
/// window): a push is remembered for at least the window and at most the
/// window and one span. Checking and remembering a push cost the same
/// however many the window holds (a lookup in at most a few hash sets), and
/// forgetting drops a whole generation.
///
/// Memory is bounded: at most `max_entries` pushes are held (each 20 to 40
/// bytes; see [`DEFAULT_MAX_REPLAY_ENTRIES`]). When a push would go past
/// it, the oldest generation (a quarter of the bound at most) is forgotten
/// early, with a warning at most once a span: a WeCom retry of those pushes
/// would be handled again.
///
/// The clock going back (skew, a manual clock) forgets nothing: pushes
/// handled "earlier" join the newest generation, and are kept longer.
///
/// Handling is in two phases, [`ReplayWindow::begin`] and [`Claim::done`],
/// because a push is remembered only once its handler succeeded: a retry of
/// a push whose handler failed is handled again.
pub struct ReplayWindow {
    window: Duration,
    /// The length of a generation, in nanoseconds (at least 1).
    span: u64,
    max_entries: usize,
    /// The most pushes one generation holds.
    per_generation: usize,
    state: Mutex<State>,
}

struct State {
    /// Oldest first; slots never decrease from front to back.
    generations: VecDeque<Generation>,
    /// Pushes held in all generations.
    len: usize,
    /// Pushes being handled, with the waiters of duplicates (once there is one).
    in_flight: HashMap<u128, Option<Arc<Notify>>, BuildIdHasher>,
    /// The slot of the last warning that pushes were forgotten early.
    warned_at: Option<u64>,
    /// Pushes forgotten early since that warning.
    forgotten_early: usize,
}

struct Generation {
    /// The span its pushes were handled in (the latest, if the clock went back).
    slot: u64,
    ids: HashSet<u128, BuildIdHasher>,
}

/// What [`ReplayWindow::begin`] decided about a push.
#[derive(Debug)]
#[must_use = "a push to run must be run, then its claim done (or dropped if handling failed)"]
pub enum Admission<'a> {
    /// Handled within the window: acknowledge it without handling it again.
    Handled,
    /// Not handled yet: handle it, then call [`Claim::done`] if it succeeded
    /// (drop the claim if it failed, so that a retry runs again).
    Run(Claim<'a>),
}

/// A push being handled. Duplicates of it wait in [`ReplayWindow::begin`]
/// until it is [done](Claim::done) (they are then acknowledged) or dropped
/// (one of them runs).
#[must_use = "a claim dropped without `done` lets the push run again"]
pub struct Claim<'a> {
    window: &'a ReplayWindow,
    id: PushId,
    handled_at: Option<SystemTime>,
}

impl fmt::Debug for Claim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Claim<'_> {
    /// The push claimed.
    pub fn id(&self) -> PushId {
        self.id
    }

    /// The push was handled at `now`: remember it, and acknowledge the
    /// duplicates waiting for it.
    pub fn done(mut self, now: SystemTime) {
        self.handled_at = Some(now);
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.window.settle(self.id.0, self.handled_at);
    }
}

impl fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("window", &self.window)
            .field("max_entries", &self.max_entries)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl ReplayWindow {
    /// Remembers handled pushes for `window` (at least; up to a third more),
    /// holding at most `max_entries` (at least 1). A zero `window` remembers
    /// nothing, but still makes duplicates wait for a push being handled.
    pub fn new(window: Duration, max_entries: usize) -> ReplayWindow {
        let span = window.as_nanos().div_ceil(u128::from(SPANS_PER_WINDOW));
        let span = u64::try_from(span).unwrap_or(u64::MAX).max(1);
        let max_entries = max_entries.max(1);
        ReplayWindow {
            window,
            span,
            max_entries,
            per_generation: full_table_capacity(max_entries.div_ceil(GENERATION_SHARE)).max(1),
            state: Mutex::new(State {
                generations: VecDeque::new(),
                len: 0,
                in_flight: HashMap::default(),
                warned_at: None,
                forgotten_early: 0,
            }),
        }
    }

    /// Decides about a push received at `now`: [`Admission::Handled`] if it
    /// was handled within the window, else [`Admission::Run`] with a claim
    /// on it. While another claim on the same push is alive, waits until it
    /// is done (then `Handled`) or dropped (then decides again): as long as
    /// that push's handler runs.
    ///
    /// The claim borrows the window. Cancel safe: dropping the future while
    /// it waits leaves nothing behind.
    pub async fn begin(&self, id: PushId, now: SystemTime) -> Admission<'_> {
        let slot = self.slot(now);
        loop {
            let released = {
                let mut state = self.lock();
                state.expire(slot);
                if state.contains(id.0) {
                    return Admission::Handled;
                }
                match state.in_flight.entry(id.0) {
                    Entry::Vacant(vacant) => {
                        vacant.insert(None);
                        return Admission::Run(Claim { window: self, id, handled_at: None });
                    }
                    // Registered before the lock is released: the claim's
                    // release, which takes the lock, cannot be missed.
                    Entry::Occupied(mut handling) => handling
                        .get_mut()
                        .get_or_insert_with(|| Arc::new(Notify::new()))
                        .clone()
                        .notified_owned(),
                }
            };
            released.await;
        }
    }

    /// How many pushes are remembered (including some whose window passed,
    /// until the next push forgets them).
    pub fn len(&self) -> usize {
        self.lock().len
    }

    /// Whether no push is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An estimate of the heap bytes held, from the hash tables' capacities
    /// (`std`'s tables: one control byte per bucket, buckets at most 7/8
    /// full); the wakers of waiting duplicates are not counted.
    pub fn approximate_bytes(&self) -> usize {
        fn table(capacity: usize, entry: usize) -> usize {
            if capacity == 0 {
                return 0;
            }
            let buckets = capacity.saturating_mul(8).div_ceil(7).next_power_of_two();
            buckets.saturating_mul(entry + 1).saturating_add(16)
        }
        let state = self.lock();
        let generations: usize =
            state.generations.iter().map(|g| table(g.ids.capacity(), size_of::<u128>())).sum();
        let in_flight = table(state.in_flight.capacity(), size_of::<(u128, Option<Arc<Notify>>)>());
        generations
            .saturating_add(in_flight)
            .saturating_add(state.generations.capacity() * size_of::<Generation>())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The span `now` falls in (0 before 1970).
    fn slot(&self, now: SystemTime) -> u64 {
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        match u64::try_from(since) {
            // Until 2554; a 64-bit division is several times cheaper.
            Ok(since) => since / self.span,
            Err(_) => u64::try_from(since / u128::from(self.span)).unwrap_or(u64::MAX),
        }
    }

    /// Ends a claim: remembers the push if it was handled, and wakes its
    /// duplicates.
    fn settle(&self, id: u128, handled_at: Option<SystemTime>) {
        let (waiters, forgotten_early) = {
            let mut state = self.lock();
            let mut forgotten_early = None;
            if let (Some(now), false) = (handled_at, self.window.is_zero()) {
                let slot = self.slot(now);
                state.expire(slot);
                forgotten_early = self.remember(&mut state, id, slot);
            }
            (state.in_flight.remove(&id).flatten(), forgotten_early)
        };
        if let Some(waiters) = waiters {
            waiters.notify_waiters();
        }
        if let Some(forgotten) = forgotten_early {
            tracing::warn!(
                forgotten,
                max_entries = self.max_entries,
                window = ?self.window,
                "replay window full: pushes handled within the window were forgotten early; \
                 a WeCom retry of one of them would be handled again"
            );
        }
    }

    /// Remembers `id`, handled in `slot`. Returns how many pushes were
    /// forgotten early since the last warning, when it is time to warn
    /// again (at most once a span).
    fn remember(&self, state: &mut State, id: u128, slot: u64) -> Option<usize> {
        let back = state.generations.back().map(|g| (g.slot, g.ids.len()));
        let slot = match back {
            Some((newest, len)) if newest >= slot && len < self.per_generation => newest,
            _ => {
                // A new span, or the newest generation is full. The clock
                // going back keeps the newest slot: pushes are kept longer,
                // never forgotten early.
                let newest = back.map_or(slot, |(newest, _)| newest.max(slot));
                let expected = back.map_or(0, |(_, len)| len).min(self.per_generation);
                state.generations.push_back(Generation {
                    slot: newest,
                    ids: HashSet::with_capacity_and_hasher(expected, BuildIdHasher),
                });
                newest
            }
        };
        // The newest generation holds fewer than `per_generation` (at most
        // `max_entries`), so dropping older ones always makes room.
        let mut forgotten = 0;
        while state.len >= self.max_entries && state.generations.len() > 1 {
            if let Some(oldest) = state.generations.pop_front() {
                state.len -= oldest.ids.len();
                forgotten += oldest.ids.len();
            }
        }
        let mut warning = None;
        if forgotten > 0 {
            state.forgotten_early += forgotten;
            if state.warned_at != Some(slot) {
                warning = Some(state.forgotten_early);
                state.warned_at = Some(slot);
                state.forgotten_early = 0;
            }
        }
        if let Some(newest) = state.generations.back_mut() {
            if newest.ids.insert(id) {
                state.len += 1;
            }
        }
        warning
    }
}

impl State {
    /// Forgets the generations whose span is no longer one of the last
    /// `SPANS_PER_WINDOW + 1` at `slot`.
    fn expire(&mut self, slot: u64) {
        while let Some(oldest) = self.generations.front() {
            if oldest.slot.saturating_add(u64::from(SPANS_PER_WINDOW)) >= slot {
                break;
            }
            self.len -= oldest.ids.len();
            self.generations.pop_front();
        }
    }

    fn contains(&self, id: u128) -> bool {
        self.generations.iter().rev().any(|g| g.ids.contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SuiteId;
    use std::future::Future;

    const WINDOW: Duration = Duration::from_secs(30);
    const SPAN: Duration = Duration::from_secs(10);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn id(n: usize) -> PushId {
        PushId::of(&CallbackUrl::System, "wwprovider", &format!("<xml><N>{n}</N></xml>"))
    }

    async fn handle(window: &ReplayWindow, id: PushId, now: SystemTime) -> bool {
        match window.begin(id, now).await {
            Admission::Handled => false,
            Admission::Run(claim) => {
                claim.done(now);
                true
            }
        }
    }

    #[test]
    fn a_push_is_its_url_receive_id_and_every_byte_of_its_message() {
        let suite = || SuiteId::new("wwsuite");
        let message = "<xml><InfoType>suite_ticket</InfoType><SuiteTicket>t1</SuiteTicket></xml>";
        let a = PushId::of(&CallbackUrl::Command(suite()), "wwsuite", message);
        let same = String::from(message);
        assert_eq!(a, PushId::of(&CallbackUrl::Command(suite()), "wwsuite", &same));
        let b = PushId::of(&CallbackUrl::Command(suite()), "wwsuite", &message.replace("t1", "t2"));
        assert_ne!(a, b, "one byte apart");
        assert_ne!(a, PushId::of(&CallbackUrl::Command(suite()), "wwsuite", &format!("{message} ")));
        assert_ne!(a, PushId::of(&CallbackUrl::Data(suite()), "wwsuite", message), "another URL");
        assert_ne!(a, PushId::of(&CallbackUrl::Command("wwsuite2".into()), "wwsuite", message));
        assert_ne!(a, PushId::of(&CallbackUrl::System, "wwsuite", message));
        assert_ne!(a, PushId::of(&CallbackUrl::Command(suite()), "wwcorp", message), "another receive id");
        // The fields are length-prefixed: moving bytes between them is another push.
        assert_ne!(PushId::of(&CallbackUrl::System, "ab", "c"), PushId::of(&CallbackUrl::System, "a", "bc"));
        let shown = format!("{a:?}");
        assert_eq!(shown.len(), "PushId()".len() + 32, "{shown}");
        assert!(!shown.contains("suite_ticket"));
        let distinct: HashSet<PushId> = (0..10_000).map(id).collect();
        assert_eq!(distinct.len(), 10_000);
    }

    #[tokio::test]
    async fn a_handled_push_is_remembered_for_the_window_and_forgotten_one_span_after() {
        let window = ReplayWindow::new(WINDOW, 100);
        assert!(window.is_empty());
        assert!(handle(&window, id(1), at(0)).await, "first time: run");
        assert_eq!(window.len(), 1);
        assert!(!handle(&window, id(1), at(0)).await);
        assert!(!handle(&window, id(1), at(0) + WINDOW - Duration::from_nanos(1)).await);
        assert!(handle(&window, id(2), at(0)).await, "another push runs");
        // Gone once the window and one span have passed.
        assert!(handle(&window, id(1), at(0) + WINDOW + SPAN).await);
        assert_eq!(window.len(), 1, "the old generation was dropped: only the push just handled");

        // Handled mid-span: still remembered a full window later.
        let window = ReplayWindow::new(WINDOW, 100);
        assert!(handle(&window, id(3), at(9)).await);
        assert!(!handle(&window, id(3), at(9) + WINDOW - Duration::from_nanos(1)).await);
        assert!(handle(&window, id(3), at(9) + WINDOW + SPAN).await);
    }

    #[tokio::test]
    async fn a_failed_handling_lets_the_retry_run() {
        let window = ReplayWindow::new(WINDOW, 100);
        let Admission::Run(claim) = window.begin(id(1), at(0)).await else { panic!("a new push runs") };
        assert_eq!(claim.id(), id(1));
        drop(claim); // the handler failed
        assert!(window.is_empty());
        assert!(window.lock().in_flight.is_empty(), "released");
        assert!(handle(&window, id(1), at(1)).await, "the retry runs");
        assert!(!handle(&window, id(1), at(2)).await);
    }

    async fn concurrent_duplicate(first_succeeds: bool) -> bool {
        let window = ReplayWindow::new(WINDOW, 100);
        let (claimed_tx, claimed_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let first = async {
            let Admission::Run(claim) = window.begin(id(1), at(0)).await else { panic!("first runs") };
            claimed_tx.send(()).expect("waiting");
            finish_rx.await.expect("told");
            if first_succeeds {
                claim.done(at(1));
            }
        };
        let duplicate = async {
            claimed_rx.await.expect("claimed");
            let mut begin = std::pin::pin!(window.begin(id(1), at(0)));
            // It waits while the first is being handled...
            let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(begin.as_mut().poll(cx))).await;
            assert!(polled.is_pending());
            finish_tx.send(()).expect("first waits");
            // ...and decides once it is over.
            match begin.await {
                Admission::Handled => false,
                Admission::Run(claim) => {
                    claim.done(at(2));
                    true
                }
            }
        };
        let ((), ran) = tokio::join!(first, duplicate);
        assert_eq!(window.len(), 1);
        ran
    }

    #[tokio::test]
    async fn a_concurrent_duplicate_waits_and_is_handled_when_the_first_succeeded() {
        assert!(!concurrent_duplicate(true).await);
    }

    #[tokio::test]
    async fn a_concurrent_duplicate_waits_and_runs_when_the_first_failed() {
        assert!(concurrent_duplicate(false).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_duplicates_run_the_handler_once() {
        let window = Arc::new(ReplayWindow::new(WINDOW, 100));
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (window, runs) = (window.clone(), runs.clone());
                tokio::spawn(async move {
                    if let Admission::Run(claim) = window.begin(id(7), at(0)).await {
                        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        claim.done(at(0));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_bound_is_kept() {
        for max in [1, 10, 1000] {
            let window = ReplayWindow::new(WINDOW, max);
            for n in 0..10 * max {
                assert!(handle(&window, id(n), at(0)).await);
                assert!(window.len() <= max, "{} > {max}", window.len());
            }
            assert!(window.len() > max - max.div_ceil(GENERATION_SHARE), "a quarter at most is forgotten");
            assert!(!handle(&window, id(10 * max - 1), at(0)).await, "the newest are kept");
            assert!(window.approximate_bytes() >= window.len() * size_of::<u128>());
        }
        // Spread over time, too.
        let window = ReplayWindow::new(WINDOW, 100);
        for n in 0..1000 {
            handle(&window, id(n), at(n as u64 / 10)).await;
            assert!(window.len() <= 100);
        }
    }

    #[test]
    fn forgetting_early_warns_once_a_span() {
        let window = ReplayWindow::new(WINDOW, 8);
        let mut warnings = Vec::new();
        let mut state = window.lock();
        for n in 0..100u128 {
            let slot = 170_000_000 + (n / 40) as u64; // 40 pushes a span: 5 times the bound
            if let Some(forgotten) = window.remember(&mut state, n, slot) {
                warnings.push((slot, forgotten));
            }
        }
        assert_eq!(state.len, 8);
        // The first drop is told at once; the rest of a span's at its next drop.
        assert_eq!(warnings, [(170_000_000, 2), (170_000_001, 30 + 2), (170_000_002, 38 + 2)]);
    }

    #[test]
    fn a_full_generation_fills_its_table_without_growing() {
        for n in [1, 6, 7, 13, 14, 250_000] {
            let capacity = full_table_capacity(n);
            assert!(capacity <= n && capacity > n / 2, "{n}: {capacity}");
            let table: HashSet<u128, BuildIdHasher> =
                HashSet::with_capacity_and_hasher(capacity, BuildIdHasher);
            if n >= 7 {
                assert_eq!(table.capacity(), capacity, "{n}");
            } else {
                assert!(table.capacity() >= capacity, "{n}"); // the smallest tables hold a few more
            }
        }
        assert_eq!(full_table_capacity(DEFAULT_MAX_REPLAY_ENTRIES / GENERATION_SHARE), 229_376);
    }

    #[tokio::test]
    async fn the_clock_going_back_loses_nothing() {
        let window = ReplayWindow::new(WINDOW, 100);
        assert!(handle(&window, id(1), at(100)).await);
        assert!(handle(&window, id(2), at(50)).await, "handled at an earlier time");
        assert!(!handle(&window, id(1), at(0)).await);
        assert!(!handle(&window, id(2), at(100)).await);
        assert!(!handle(&window, id(1), UNIX_EPOCH - Duration::from_secs(5)).await, "before 1970");
        assert!(handle(&window, id(3), UNIX_EPOCH - Duration::from_secs(5)).await);
        assert!(!handle(&window, id(3), at(100) + WINDOW).await, "kept with the newest");
        assert!(handle(&window, id(1), at(100) + WINDOW + SPAN).await, "then forgotten");
        // The far future does not overflow.
        assert!(handle(&window, id(4), UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)).await);
        assert!(!handle(&window, id(4), UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)).await);
        let tiny = ReplayWindow::new(Duration::from_nanos(1), 1);
        assert!(handle(&tiny, id(1), UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)).await);
        let off = ReplayWindow::new(Duration::ZERO, 100);
        assert!(handle(&off, id(1), at(0)).await);
        assert!(handle(&off, id(1), at(0)).await, "a zero window remembers nothing");
    }
}
