//! Memory of a streamed download: a 20 MB file, uploaded to the embedded
//! emulator, then fetched with `corp.media().get(..)` and written to a sink.
//! A global allocator tracks the live heap bytes of the client's threads
//! (the emulator runs on threads of its own, which are not counted) and their
//! peak; the budget is 1 MB of peak above the level before the download. Run
//! with `cargo bench --bench download`; it fails if the budget is exceeded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

use wecom_openwork::api::media::types::{GetMediaQuery, UploadMediaQuery};
use wecom_openwork::config::{StoreConfig, SuiteConfig};
use wecom_openwork::emulator::Emulator;
use wecom_openwork::{Application, Config, UploadFile};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted (the emulator's are not).
    static COUNTED: Cell<bool> = const { Cell::new(true) };
}

fn grew(by: isize) {
    if COUNTED.with(Cell::get) {
        let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTED.with(Cell::get) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FILE_BYTES: usize = 20 * 1024 * 1024;
const BUDGET: isize = 1024 * 1024;
const SUITE: &str = "wwsuite0001";
const CORP: &str = "wwcorp0001";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; there is one, run by hand.
    }
    // The emulator serves from a runtime of its own, on uncounted threads.
    let (started, base_uri) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        COUNTED.with(|c| c.set(false));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .on_thread_start(|| COUNTED.with(|c| c.set(false)))
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let emulator = Emulator::start().await.expect("emulator");
            started.send(emulator.base_uri()).expect("bench waits");
            let _ = stopped.await;
        });
    });
    let base_uri = base_uri.recv().expect("emulator started");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut config = Config {
            corp_id: "wwprovider0001".into(),
            provider_secret: "secret".into(),
            token: "Token".into(),
            aes_key: AES_KEY.into(),
            suites: vec![SuiteConfig {
                suite_id: SUITE.into(),
                suite_secret: "secret".into(),
                token: "Token".into(),
                aes_key: AES_KEY.into(),
                ..Default::default()
            }],
            store: StoreConfig::memory(),
            ..Config::default()
        };
        config.http.base_uri = base_uri;
        let app = Application::new(config).expect("valid");
        app.suite(SUITE).ticket().set("ticket").await.expect("ticket");
        app.corp(SUITE, CORP).permanent_code().set("permanent-code").await.expect("code");
        let corp = app.corp(SUITE, CORP);

        let file: Vec<u8> = (0..FILE_BYTES).map(|i| (i * 31 % 251) as u8).collect();
        let file = UploadFile::new("big.bin", "application/octet-stream", file);
        let reply = corp.media().upload(&UploadMediaQuery::new("file"), file).await.expect("uploaded");
        let query = GetMediaQuery::new(reply.media_id.expect("media id"));
        // A first download warms the connection pool and the token.
        let warm = corp.media().get_with(query.clone()).await.expect("download");
        warm.write_to(&mut tokio::io::sink()).await.expect("read");

        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let download = corp.media().get_with(query).await.expect("download");
        let size = download.write_to(&mut tokio::io::sink()).await.expect("read");
        let elapsed = started.elapsed();
        let extra = PEAK.load(Ordering::Relaxed) - before;
        assert_eq!(size, FILE_BYTES as u64);
        println!(
            "download: {:.1} MB streamed in {elapsed:?}; peak heap {:.3} MB above the level before it \
             (the client's threads; budget {:.1} MB)",
            FILE_BYTES as f64 / 1e6,
            extra as f64 / 1e6,
            BUDGET as f64 / 1e6,
        );
        assert!(extra < BUDGET, "a streamed download held {extra} bytes at its peak");
    });
    let _ = stop.send(());
    server.join().expect("emulator thread");
}
