//! A deterministic simulation of the callback side: WeCom, the network and
//! 2–4 instances of the ISV's server sharing a store, run on a simulated
//! clock in one thread, with seeded schedules of pushes (duplicates,
//! WeCom's retries, reordering, ties in one second), install redirects
//! racing their push, crashes at any moment or store operation, store and
//! WeCom faults, and clock skew. After each run settles, the invariants are
//! checked ([`oracle`]). The real code runs: `CallbackServer::serve`, the
//! lifecycle, the token runtime, the store (through a fault layer).
//!
//! ```sh
//! cargo test --test simulation                                  # the suite's seeds (about a minute)
//! WECOM_SIM_SEEDS=100000 cargo test --release --test simulation seeds -- --nocapture
//! WECOM_SIM_SEED=1234 cargo test --test simulation seeds -- --nocapture   # one seed, its whole trace
//! ```
//! `WECOM_SIM_FIRST_SEED` moves the range. A failing seed prints its
//! schedule, its trace and the command that replays it.

mod clock;
mod oracle;
mod plan;
mod rng;
mod scenarios;
mod store;
mod wecom;
mod world;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Instant;

use plan::Plan;
use world::World;

/// Seeds the test suite runs by default: about a minute on two cores.
const SUITE_SEEDS: u64 = 1200;

thread_local! {
    static PANICS: Cell<u64> = const { Cell::new(0) };
}

/// Counts panics on this thread (every task of a run is on it).
pub fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
}

/// What one run gave.
pub struct Outcome {
    pub plan_text: String,
    pub broken: Vec<String>,
    pub trace: Vec<String>,
    pub injected: BTreeMap<&'static str, u64>,
}

/// Runs `plan` in a fresh world on a paused clock.
pub fn run_plan(plan: &Plan) -> Outcome {
    count_panics();
    let before = PANICS.with(Cell::get);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let (mut broken, trace, injected) = runtime.block_on(async {
        let world = World::new(plan.seed, plan.instances, plan.faults.clone(), plan.skews.clone());
        let _logs = world::capture_logs(&world);
        plan::run(&world, plan).await;
        let broken = oracle::check(&world, !plan.faults.enabled).await;
        let trace = world.trace_lines();
        let injected = world.injected().counts;
        world.teardown().await;
        (broken, trace, injected)
    });
    drop(runtime);
    let panics = PANICS.with(Cell::get) - before;
    if panics > 0 {
        broken.push(format!("{panics} panic(s)"));
    }
    Outcome { plan_text: plan.to_string(), broken, trace, injected }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn report(seed: u64, outcome: &Outcome, whole: bool) -> String {
    let lines = &outcome.trace;
    let shown = if whole { &lines[..] } else { &lines[lines.len().saturating_sub(150)..] };
    format!(
        "seed {seed} broke {} invariant(s):\n  {}\n\nschedule:\n{}\ntrace ({} of {} lines):\n{}\n\nreplay: WECOM_SIM_SEED={seed} cargo test --test simulation seeds -- --nocapture\n",
        outcome.broken.len(),
        outcome.broken.join("\n  "),
        outcome.plan_text,
        shown.len(),
        lines.len(),
        shown.join("\n")
    )
}

#[test]
fn seeds() {
    if let Some(seed) = env_u64("WECOM_SIM_SEED") {
        let outcome = run_plan(&Plan::generate(seed));
        println!("{}", report(seed, &outcome, true));
        assert!(outcome.broken.is_empty(), "seed {seed} broke invariants (above)");
        return;
    }
    let first = env_u64("WECOM_SIM_FIRST_SEED").unwrap_or(0);
    let count = env_u64("WECOM_SIM_SEEDS").unwrap_or(SUITE_SEEDS);
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8) as u64;
    // Each worker keeps the counts of every run and the whole outcome of
    // the failing ones.
    type Kept = (BTreeMap<&'static str, u64>, Vec<(u64, Outcome)>);
    let kept: Vec<Kept> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let mut kept: Kept = (BTreeMap::new(), Vec::new());
                    for seed in (first + w..first + count).step_by(workers as usize) {
                        let outcome = run_plan(&Plan::generate(seed));
                        for (kind, n) in &outcome.injected {
                            *kept.0.entry(kind).or_default() += n;
                        }
                        if !outcome.broken.is_empty() {
                            kept.1.push((seed, outcome));
                        }
                    }
                    kept
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a worker")).collect()
    });
    let mut injected: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut failed: Vec<(u64, Outcome)> = Vec::new();
    for (counts, failures) in kept {
        for (kind, n) in counts {
            *injected.entry(kind).or_default() += n;
        }
        failed.extend(failures);
    }
    failed.sort_by_key(|(seed, _)| *seed);
    println!(
        "simulation: {count} seeds from {first} in {:.1}s, {} broke invariants; faults injected: {injected:?}",
        started.elapsed().as_secs_f64(),
        failed.len()
    );
    if let Some((seed, outcome)) = failed.first() {
        let seeds: Vec<u64> = failed.iter().map(|(s, _)| *s).collect();
        // Each kind of violation: in how many seeds, and the first.
        let mut kinds: BTreeMap<String, (usize, u64)> = BTreeMap::new();
        for (seed, o) in &failed {
            let seen: std::collections::BTreeSet<String> =
                o.broken.iter().map(|b| violation_kind(b)).collect();
            for kind in seen {
                kinds.entry(kind).or_insert((0, *seed)).0 += 1;
            }
        }
        for (kind, (seeds, first)) in &kinds {
            println!("  {seeds:>6} seeds (first: seed {first}): {kind}");
        }
        panic!("{}\nfailing seeds: {seeds:?}", report(*seed, outcome, false));
    }
}

/// A violation without its ids and numbers: what kind of thing broke.
fn violation_kind(violation: &str) -> String {
    let mut kind = String::new();
    let mut previous_digit = false;
    for c in violation.chars().take_while(|c| *c != '(') {
        let digit = c.is_ascii_digit();
        if !(digit && previous_digit) {
            kind.push(if digit { '#' } else { c });
        }
        previous_digit = digit;
    }
    let words: Vec<&str> = kind
        .split_whitespace()
        .filter(|w| !w.starts_with("authcode-") && !w.starts_with("permanent-"))
        .collect();
    words.join(" ")
}

/// A seed replays the same run: the same trace, line for line.
#[test]
fn a_seed_replays_the_same_run() {
    for seed in [3, 11] {
        let plan = Plan::generate(seed);
        let (first, second) = (run_plan(&plan), run_plan(&plan));
        assert!(first.trace.len() > 20, "seed {seed} did something: {} lines", first.trace.len());
        if let Some(i) = (0..first.trace.len().max(second.trace.len()))
            .find(|&i| first.trace.get(i) != second.trace.get(i))
        {
            panic!(
                "seed {seed} ran differently twice, from line {i}:\n  {:?}\n  {:?}",
                first.trace.get(i),
                second.trace.get(i)
            );
        }
    }
}

/// Runs a hand-written plan and answers what it broke.
pub fn broken_by(plan: &Plan) -> Vec<String> {
    let outcome = run_plan(plan);
    if !outcome.broken.is_empty() {
        eprintln!("{}", report(plan.seed, &outcome, true));
    }
    outcome.broken
}
