//! A watchdog for the `inputs` target's long waits: if a poll that must
//! return at once (a level-triggered source is ready) has not returned
//! after [`PATIENCE`], it wakes the poll, so that a hang fails the run
//! with a message instead of stalling it.

use super::real::PATIENCE;
use evq::{Registry, Token, Waker};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// The token of the watchdog's waker.
pub const WATCHDOG: Token = Token(0xDDDD_0000);

/// The watchdog: a thread with a waker.
pub struct Watchdog {
    arm: Option<mpsc::Sender<bool>>,
    fired: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// A watchdog whose waker is registered through `registry`.
    pub fn new(registry: &Registry) -> Watchdog {
        let waker = Waker::new(registry, WATCHDOG).expect("Waker::new");
        let (arm, armed) = mpsc::channel::<bool>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let thread = std::thread::spawn(move || {
            while let Ok(on) = armed.recv() {
                if !on {
                    continue;
                }
                match armed.recv_timeout(PATIENCE) {
                    Ok(_) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        flag.store(true, Ordering::SeqCst);
                        waker.wake().expect("the watchdog's wake");
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        Watchdog {
            arm: Some(arm),
            fired,
            thread: Some(thread),
        }
    }

    /// Arms it (`true`) before a long wait, or disarms it.
    pub fn set(&self, on: bool) {
        if let Some(arm) = &self.arm {
            arm.send(on).expect("the watchdog thread is running");
        }
    }

    /// Disarms it; whether it had fired.
    pub fn disarm(&self) -> bool {
        self.set(false);
        self.fired.swap(false, Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.arm = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
