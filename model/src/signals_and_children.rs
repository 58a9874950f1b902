//! The real side of the two sources that are not files: an `evq::Signals`
//! watching one signal, which "the peer" sends with `raise`, and an
//! `evq::ChildExit` for a child (`cat`) that "the peer" ends by closing its
//! input.
//!
//! Signals go to the calling thread only (`raise` is `tgkill` to oneself),
//! which blocked them when it made the `Signals`: the harness and its poll
//! run on one thread, and no other thread of the process (libtest's, the
//! fuzzer's) ever sees them. Each slot watches a signal of its own, so that
//! slots never take each other's. A `Signals` is drained before it is
//! dropped, so that no signal stays pending in the thread for a later slot
//! (a fuzzer runs every input on the same thread).

use super::op::{Kind, Op, SLOTS};
use evq::{sys, ChildExit, Signals};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// The signal slot `i` watches: standard signals, which do not queue (sent
/// twice before being taken, one is reported).
pub fn signal_of(slot: usize) -> i32 {
    const SIGNALS: [u32; SLOTS] = [sys::SIGUSR1, sys::SIGUSR2, sys::SIGWINCH, sys::SIGURG];
    SIGNALS[slot] as i32
}

/// A `Signals` for slot `slot`'s signal (blocking it in this thread).
pub fn open_signals(slot: usize) -> Signals {
    Signals::new(&[signal_of(slot)]).expect("harness: Signals::new")
}

/// Sends `signal` to this thread.
pub fn raise(signal: i32) {
    // SAFETY: raise takes no pointers; the signal is blocked in this
    // thread (the slot's `Signals` blocked it), so it stays pending.
    let ret = unsafe { sys::raise(signal) };
    assert_eq!(ret, 0, "harness: raise({signal})");
}

/// Takes every pending signal; how many there were.
pub fn drain_signals(signals: &Signals) -> usize {
    signals.pending().count()
}

/// A child that runs until its input is closed, and its `ChildExit`.
///
/// `spawn` returns once the child has started to exec, but a child closes
/// its close-on-exec descriptors later in the exec, and until then it
/// holds every descriptor of ours, keeping a registered one alive after we
/// close it. So `open_child` sends `cat` a byte and reads it back: `cat`
/// runs, its exec is over.
pub fn open_child() -> (ChildExit, Child) {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("harness: spawn cat");
    let mut echo = [0u8; 1];
    child
        .stdin
        .as_mut()
        .expect("harness: the child's input")
        .write_all(b"!")
        .expect("harness: write to the child");
    child
        .stdout
        .take()
        .expect("harness: the child's output")
        .read_exact(&mut echo)
        .expect("harness: read the child's echo");
    let exit = ChildExit::new(&child).expect("harness: ChildExit::new");
    (exit, child)
}

/// Ends the child (closes its input, and kills it: `cat` exits) and waits
/// until its `ChildExit` shows it, without reaping it.
pub fn end_child(exit: &ChildExit, child: &mut Child, patience: Duration) {
    drop(child.stdin.take());
    // On io_uring a lingering request may have taken the number of the
    // pipe to `cat` and hold it open, so closing it may not end `cat`.
    let _ = child.kill();
    let readable = super::bits::Bits::IN.0;
    let exited = super::os::wait_until(exit.as_raw_fd(), readable, patience, || true);
    assert!(exited, "harness: the child never exited");
}

/// Reaps the child if it has exited (`ChildExit::try_wait`); 1 if it had.
pub fn reap(exit: &ChildExit) -> usize {
    usize::from(
        exit.try_wait()
            .expect("harness: ChildExit::try_wait")
            .is_some(),
    )
}

/// Ends and reaps a child the harness is done with: killed if still
/// running (then its pid is still its own: nothing reaped it), then reaped
/// through its `ChildExit`, which stays the only reaper.
pub fn dispose_child(exit: &ChildExit, child: &mut Child) {
    if matches!(exit.try_wait(), Ok(None)) {
        let _ = child.kill();
        let readable = super::bits::Bits::IN.0;
        super::os::wait_until(exit.as_raw_fd(), readable, super::real::PATIENCE, || true);
        let _ = exit.try_wait();
    }
}

/// Forking copies every descriptor of the process into the child, where it
/// stays until the child execs: a registered fd that another thread closes
/// meanwhile stays open, and so does its registration, which a later poll
/// then reports. A run that makes children (a `Child` slot) therefore runs
/// alone in the process (`cargo test` runs tests side by side); other runs
/// share it. Within one run, ops on one thread never overlap a fork.
///
/// A run on io_uring runs alone too: a request whose fd was closed before
/// it was submitted takes whatever file has the number then and holds it
/// open, and in a shared process that file may be another run's, whose
/// close then neither closes it nor (on epoll) ends its registration. (One
/// lock for both reasons: two would let a forking run and an io_uring run
/// each wait for the other.)
static FORKS: RwLock<()> = RwLock::new(());

/// Held for a whole run: see `FORKS`.
pub enum RunGuard {
    /// The run forks or is on io_uring: no other run meanwhile.
    Alone(RwLockWriteGuard<'static, ()>),
    /// The run makes no child, on epoll.
    Shared(RwLockReadGuard<'static, ()>),
}

/// The guard for a run that must run alone (it makes children, or it is
/// on io_uring) if `alone`.
pub fn run_guard(alone: bool) -> RunGuard {
    // A run that panicked left nothing to repair.
    if alone {
        RunGuard::Alone(FORKS.write().unwrap_or_else(PoisonError::into_inner))
    } else {
        RunGuard::Shared(FORKS.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Whether `ops` make a child.
pub fn forks<'a>(ops: impl IntoIterator<Item = &'a Op>) -> bool {
    ops.into_iter().any(|op| {
        matches!(
            op,
            Op::Create {
                kind: Kind::Child,
                ..
            }
        )
    })
}
