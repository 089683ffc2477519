//! The callback server's replay window at scale: what admitting one new push
//! costs (`begin`, then `done` on a fresh id) while the window holds 1k to
//! 1M pushes, a steady stream whose rate keeps that many in the 5-minute
//! window; the same at the bound (twice as many pushes in the window as it
//! may hold); and the digest of a 1 KiB push (`PushId::of`), measured apart.
//! The goal is a flat cost from 1k to 1M. The heap the window holds is
//! counted by a global allocator that tracks live bytes (as in
//! `benches/memory.rs`) and printed next to `approximate_bytes()`.
//! Run with `cargo bench --bench replay`.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;
use wecom_openwork::server::{Admission, CallbackUrl, PushId, ReplayWindow, DEFAULT_MAX_REPLAY_ENTRIES};

#[global_allocator]
static ALLOCATOR: counting_alloc::Counting = counting_alloc::Counting;

/// The server's default replay window.
const WINDOW: Duration = Duration::from_secs(300);

/// Distinct pushes to one data URL, `held` of them a window apart.
struct Stream {
    url: CallbackUrl,
    start: SystemTime,
    step_nanos: u64,
    next: u64,
}

impl Stream {
    fn new(held: usize) -> Self {
        Stream {
            url: CallbackUrl::Data("wwsuite0001".into()),
            start: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            step_nanos: (WINDOW.as_nanos() / held as u128) as u64,
            next: 0,
        }
    }

    fn next(&mut self) -> (PushId, SystemTime) {
        let n = self.next;
        self.next += 1;
        let message = format!("<xml><MsgType>text</MsgType><MsgId>{n}</MsgId></xml>");
        (
            PushId::of(&self.url, "wwcorp000000000001", &message),
            self.start + Duration::from_nanos(self.step_nanos * n),
        )
    }
}

async fn admit(window: &ReplayWindow, id: PushId, now: SystemTime) {
    match window.begin(id, now).await {
        Admission::Run(claim) => claim.done(now),
        Admission::Handled => panic!("a fresh push was taken for one handled"),
    }
}

/// A window holding the stream's first `held` pushes (a window's worth at
/// the stream's rate), and the heap it holds.
fn filled(runtime: &Runtime, stream: &mut Stream, held: usize, max_entries: usize) -> (ReplayWindow, isize) {
    let baseline = counting_alloc::live();
    let window = ReplayWindow::new(WINDOW, max_entries);
    runtime.block_on(async {
        for _ in 0..held {
            let (id, now) = stream.next();
            admit(&window, id, now).await;
        }
    });
    let used = counting_alloc::live() - baseline;
    (window, used)
}

fn report(what: &str, window: &ReplayWindow, used: isize) {
    println!(
        "memory: {what}: {} pushes held, {:.2} MB measured ({} bytes a push), approximate_bytes {:.2} MB",
        window.len(),
        used as f64 / 1e6,
        used / window.len().max(1) as isize,
        window.approximate_bytes() as f64 / 1e6
    );
}

fn replay(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut group = c.benchmark_group("replay window");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));

    let url = CallbackUrl::Data("wwsuite0001".into());
    let message = format!("<xml><Content><![CDATA[{}]]></Content></xml>", "x".repeat(1024 - 42));
    assert_eq!(message.len(), 1024);
    group.bench_function("PushId::of 1 KiB", |b| {
        b.iter(|| PushId::of(black_box(&url), black_box("wwcorp000000000001"), black_box(&message)))
    });

    for held in [1_000, 10_000, 100_000, 1_000_000] {
        let mut stream = Stream::new(held);
        // Twice the pushes it holds may go in: only time forgets them.
        let (window, used) = filled(&runtime, &mut stream, held, 2 * held);
        if held == 1_000 || held == 1_000_000 {
            report(&format!("a window of {held}"), &window, used);
        }
        group.bench_with_input(BenchmarkId::new("admit a new push, window holding", held), &held, |b, _| {
            b.to_async(&runtime).iter_batched(
                || stream.next(),
                |(id, now)| admit(&window, id, now),
                BatchSize::SmallInput,
            )
        });
    }

    // Twice as many pushes in the window as it may hold: the oldest
    // generation is forgotten early, again and again.
    let held = 2 * DEFAULT_MAX_REPLAY_ENTRIES;
    let mut stream = Stream::new(held);
    let (window, used) = filled(&runtime, &mut stream, held, DEFAULT_MAX_REPLAY_ENTRIES);
    report("at the default bound, twice as many pushes in the window", &window, used);
    group.bench_function(
        BenchmarkId::new("admit a new push, at the bound", DEFAULT_MAX_REPLAY_ENTRIES),
        |b| {
            b.to_async(&runtime).iter_batched(
                || stream.next(),
                |(id, now)| admit(&window, id, now),
                BatchSize::SmallInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
