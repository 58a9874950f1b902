//! Ends the process if the benchmark stops making progress: a lost wake or
//! event would otherwise block a scenario's poll for ever (they poll
//! without timeout, as the fastest loops do).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

static START: OnceLock<Instant> = OnceLock::new();
static LAST_PROGRESS_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Records progress (call after every sample).
pub fn progress() {
    LAST_PROGRESS_MS.store(now_ms(), Ordering::Relaxed);
}

/// Starts the watchdog: no progress for `limit` exits with status 3.
pub fn start(limit: Duration) {
    progress();
    thread::spawn(move || loop {
        thread::sleep(Duration::from_secs(1));
        let idle = now_ms().saturating_sub(LAST_PROGRESS_MS.load(Ordering::Relaxed));
        if idle > limit.as_millis() as u64 {
            eprintln!(
                "evq-bench: no progress for {} s: a scenario is stuck (lost event or wake?)",
                idle / 1000
            );
            std::process::exit(3);
        }
    });
}
