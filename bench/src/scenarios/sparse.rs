//! S3 `sparse`: one active eventfd among `N` idle ones. Each iteration
//! signals the active eventfd, polls (no timeout) for its one event, and
//! reads it back. Metric: ns per iteration, which must not grow with `N`.

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::fds;
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::Scope;
use crate::with_loop;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// Descriptors kept free for the loops and the harness.
const FD_RESERVE: u64 = 64;

/// One `N` of the sparse scenario (`N` counts the active eventfd).
#[derive(Debug)]
pub struct Sparse {
    asked: usize,
    total: usize,
    hard_limit: u64,
    fds: Vec<OwnedFd>,
}

/// The cases: one per `N`.
pub fn cases(options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    let limit = fds::raise_fd_limit()?;
    let max = limit.available(FD_RESERVE) as usize;
    Ok(options
        .sparse_n
        .iter()
        .map(|&asked| {
            Box::new(Sparse {
                asked,
                total: asked.clamp(1, max),
                hard_limit: limit.hard,
                fds: Vec::new(),
            }) as Box<dyn Case>
        })
        .collect())
}

impl Sparse {
    fn run<L: EventLoop>(&mut self, iterations: u64, count: bool) -> io::Result<Sample> {
        if self.fds.is_empty() {
            self.fds = (0..self.total).map(|_| fds::eventfd()).collect();
        }
        let mut event_loop = L::new(CAPACITY)?;
        for (token, fd) in self.fds.iter().enumerate() {
            event_loop.register(fd.as_raw_fd(), token, Interest::Read, Mode::Edge)?;
        }
        // The active one sits in the middle of the registrations.
        let active_token = self.total / 2;
        let active = &self.fds[active_token];
        let (mut events, mut strangers) = (0u64, 0u64);
        let mut meter = Meter::new(count, Scope::Thread)?;
        meter.start()?;
        for _ in 0..iterations {
            fds::eventfd_add(active, 1);
            let before = events;
            while events == before {
                event_loop.poll(None, |event| {
                    if event.token == active_token {
                        events += 1;
                    } else {
                        strangers += 1;
                    }
                })?;
            }
            fds::eventfd_take(active);
        }
        let (elapsed, syscalls) = meter.stop()?;
        if events != iterations || strangers != 0 {
            return Err(broken(format!(
                "sparse: {events} events for {iterations} iterations, {strangers} from idle eventfds"
            )));
        }
        let mut sample = Sample::new(elapsed, iterations, vec![("events", events)]);
        sample.syscalls = syscalls;
        Ok(sample)
    }
}

impl Case for Sparse {
    fn scenario(&self) -> &'static str {
        "sparse"
    }

    fn label(&self) -> String {
        format!("N={}", self.total)
    }

    fn unit(&self) -> &'static str {
        "iteration"
    }

    fn note(&self) -> Option<String> {
        fds::cap_note("N", self.asked, self.total, self.hard_limit, "")
    }

    fn initial_ops(&self) -> u64 {
        5_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
