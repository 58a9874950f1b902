//! One measured run of a case on one loop, and the meter that takes it.

use crate::syscalls::{Counts, Scope, SyscallCounter};
use std::io;
use std::time::{Duration, Instant};

/// Named counters that every loop must report identically for the same
/// case and operation count: the proof that the loops did the same work.
pub type Work = Vec<(&'static str, u64)>;

/// What one run of a case on one loop measured.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Time spent in the measured region.
    pub elapsed: Duration,
    /// Operations done in it (the unit of the case's metric).
    pub ops: u64,
    /// Counters compared across loops.
    pub work: Work,
    /// System calls made in the measured region, when counted.
    pub syscalls: Option<Counts>,
    /// Operations the syscall count is divided by, if not `ops`.
    pub syscall_ops: Option<u64>,
    /// Further per-loop figures, reported but not compared (e.g. events
    /// delivered per wake).
    pub extra: Vec<(&'static str, f64)>,
}

impl Sample {
    /// A sample without syscall counts or extras.
    pub fn new(elapsed: Duration, ops: u64, work: Work) -> Sample {
        Sample {
            elapsed,
            ops,
            work,
            syscalls: None,
            syscall_ops: None,
            extra: Vec::new(),
        }
    }

    /// Nanoseconds per operation.
    pub fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.ops.max(1) as f64
    }
}

/// Times a region and, when asked, counts its system calls.
#[derive(Debug)]
pub struct Meter {
    counter: Option<SyscallCounter>,
    started: Option<Instant>,
}

impl Meter {
    /// A meter; with `count`, its counters are opened now (so that, with
    /// [`Scope::ThreadAndNewThreads`], threads started after this are
    /// counted too).
    pub fn new(count: bool, scope: Scope) -> io::Result<Meter> {
        let counter = if count {
            Some(SyscallCounter::open(scope)?)
        } else {
            None
        };
        Ok(Meter {
            counter,
            started: None,
        })
    }

    /// Starts the measured region.
    pub fn start(&mut self) -> io::Result<()> {
        if let Some(counter) = &self.counter {
            counter.start()?;
        }
        self.started = Some(Instant::now());
        Ok(())
    }

    /// Ends the measured region: its duration and, if counted, its calls.
    pub fn stop(&mut self) -> io::Result<(Duration, Option<Counts>)> {
        let elapsed = self
            .started
            .take()
            .map(|start| start.elapsed())
            .unwrap_or_default();
        let counts = self
            .counter
            .as_ref()
            .map(SyscallCounter::stop)
            .transpose()?;
        Ok((elapsed, counts))
    }
}

/// An error for a scenario that saw something that must not happen.
pub fn broken(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}
