//! S2 `idle-poll`: `poll` with a zero timeout while `N` eventfds are
//! registered and idle. Metric: ns per call; each must be exactly one
//! system call.

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::fds;
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::Scope;
use crate::with_loop;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Descriptors kept free for the loops and the harness.
const FD_RESERVE: u64 = 64;

/// One `N` of the idle poll.
#[derive(Debug)]
pub struct IdlePoll {
    asked: usize,
    idle: usize,
    hard_limit: u64,
    fds: Vec<OwnedFd>,
}

/// The cases: one per `N`.
pub fn cases(options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    let limit = fds::raise_fd_limit()?;
    let max = limit.available(FD_RESERVE) as usize;
    Ok(options
        .idle_n
        .iter()
        .map(|&asked| {
            Box::new(IdlePoll {
                asked,
                idle: asked.min(max),
                hard_limit: limit.hard,
                fds: Vec::new(),
            }) as Box<dyn Case>
        })
        .collect())
}

impl IdlePoll {
    fn run<L: EventLoop>(&mut self, calls: u64, count: bool) -> io::Result<Sample> {
        if self.fds.is_empty() {
            self.fds = (0..self.idle).map(|_| fds::eventfd()).collect();
        }
        let mut event_loop = L::new(CAPACITY)?;
        for (token, fd) in self.fds.iter().enumerate() {
            event_loop.register(fd.as_raw_fd(), token, Interest::Read, Mode::Edge)?;
        }
        let mut events = 0u64;
        let mut meter = Meter::new(count, Scope::Thread)?;
        meter.start()?;
        for _ in 0..calls {
            event_loop.poll(Some(Duration::ZERO), |_| events += 1)?;
        }
        let (elapsed, syscalls) = meter.stop()?;
        if events != 0 {
            return Err(broken(format!(
                "idle-poll: {events} events from idle eventfds"
            )));
        }
        let mut sample = Sample::new(elapsed, calls, vec![("polls", calls), ("events", events)]);
        sample.syscalls = syscalls;
        Ok(sample)
    }
}

impl Case for IdlePoll {
    fn scenario(&self) -> &'static str {
        "idle-poll"
    }

    fn label(&self) -> String {
        format!("N={}", self.idle)
    }

    fn unit(&self) -> &'static str {
        "call"
    }

    fn note(&self) -> Option<String> {
        fds::cap_note("N", self.asked, self.idle, self.hard_limit, "")
    }

    fn initial_ops(&self) -> u64 {
        10_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
