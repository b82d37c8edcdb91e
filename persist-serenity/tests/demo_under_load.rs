//! The main job under CPU load: the demo (this very example, debug build)
//! runs three times while two busy threads per core compete with it, and
//! stores what it stores on an idle machine each time.

#[path = "../examples/demo.rs"]
#[allow(dead_code)]
mod demo;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Busy threads until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(per_core: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores * per_core)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005) + 1);
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_finishes_under_load_with_the_counts_of_an_idle_run() {
    let dir = tempfile::tempdir().unwrap();
    // A stall fails the run with what the gateway did, long before any
    // harness timeout.
    let stall = Duration::from_secs(120);
    let idle = demo::run(&dir.path().join("idle.db"), 12_000, stall)
        .await
        .expect("the idle run");
    assert!(!idle.second_run);
    assert_eq!(idle.failed, 0);
    assert!(idle.counts.messages > 10_000, "{idle:?}");
    let load = Load::start(2);
    for run in 0..3 {
        let loaded = demo::run(&dir.path().join(format!("loaded-{run}.db")), 12_000, stall)
            .await
            .unwrap_or_else(|e| panic!("run {run} under load: {e}"));
        assert_eq!(loaded.counts, idle.counts, "run {run} under load");
        assert_eq!(
            (loaded.events, loaded.failed),
            (idle.events, idle.failed),
            "run {run} under load"
        );
        // A shard restarted under load replays its session: some
        // unparsable events are recovered twice, none fewer.
        assert!(loaded.recovered >= idle.recovered, "run {run} under load");
    }
    drop(load);
    // A second run on the same file reads the first back and reconciles.
    let again = demo::run(&dir.path().join("idle.db"), 1_000, stall)
        .await
        .expect("the second run");
    assert!(again.second_run);
    assert_eq!(again.counts.guilds, idle.counts.guilds - 1);
}
