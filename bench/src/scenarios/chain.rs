//! S1 `chain`: libevent's classic benchmark. `n` channels (pipes, or Unix
//! socket pairs) registered edge-triggered, `a` of them primed with one
//! byte; each read event reads that byte and writes one into the next
//! channel, until `w` writes have been made. Metric: ns per event
//! dispatched (each a read, and while writes are left, a write).

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::fds::{self, Channel, ChannelKind};
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::Scope;
use crate::with_loop;
use std::io;
use std::os::fd::AsRawFd;

/// Descriptors kept free for the loops and the harness.
const FD_RESERVE: u64 = 64;

/// One `(kind, n, a)` of the chain.
#[derive(Debug)]
pub struct Chain {
    kind: ChannelKind,
    asked_n: usize,
    n: usize,
    active: usize,
    hard_limit: u64,
    channels: Vec<Channel>,
}

/// The chain's cases: every `n` × `a` (with `a <= n`) × channel kind.
pub fn cases(options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    let limit = fds::raise_fd_limit()?;
    let max_n = (limit.available(FD_RESERVE) / 2) as usize;
    let mut cases: Vec<Box<dyn Case>> = Vec::new();
    for &kind in &options.chain_kinds {
        for &asked_n in &options.chain_n {
            for &active in &options.chain_a {
                if active > asked_n {
                    continue;
                }
                let n = asked_n.min(max_n);
                cases.push(Box::new(Chain {
                    kind,
                    asked_n,
                    n,
                    active: active.min(n),
                    hard_limit: limit.hard,
                    channels: Vec::new(),
                }));
            }
        }
    }
    Ok(cases)
}

impl Chain {
    fn channels(&mut self) -> io::Result<&[Channel]> {
        if self.channels.is_empty() {
            self.channels = (0..self.n).map(|_| Channel::new(self.kind)).collect();
        }
        Ok(&self.channels)
    }

    fn run<L: EventLoop>(&mut self, writes: u64, count: bool) -> io::Result<Sample> {
        let (n, active) = (self.n, self.active);
        let channels = self.channels()?;
        let mut event_loop = L::new(CAPACITY)?;
        for (token, channel) in channels.iter().enumerate() {
            event_loop.register(channel.rx.as_raw_fd(), token, Interest::Read, Mode::Edge)?;
        }
        let space = n / active;
        for i in 0..active {
            fds::write(&channels[i * space].tx, b"e")?;
        }

        // Every byte primed or written is read once: `active + writes` events.
        let target = active as u64 + writes;
        let (mut fired, mut written, mut spurious) = (0u64, 0u64, 0u64);
        let mut failure = None;
        let mut meter = Meter::new(count, Scope::Thread)?;
        meter.start()?;
        while fired < target && failure.is_none() {
            event_loop.poll(None, |event| {
                let mut byte = [0u8; 1];
                match fds::read(&channels[event.token].rx, &mut byte) {
                    Ok(1) => {
                        fired += 1;
                        if written < writes {
                            written += 1;
                            let next = if event.token + 1 == n {
                                0
                            } else {
                                event.token + 1
                            };
                            if let Err(e) = fds::write(&channels[next].tx, &byte) {
                                failure = Some(e);
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => spurious += 1,
                    Ok(_) => failure = Some(broken("chain: unexpected end of file")),
                    Err(e) => failure = Some(e),
                }
            })?;
        }
        let (elapsed, syscalls) = meter.stop()?;
        if let Some(e) = failure {
            return Err(e);
        }
        drop(event_loop);
        let mut left = 0;
        for channel in channels {
            left += fds::drain(&channel.rx)?;
        }
        if left != 0 {
            return Err(broken(format!(
                "chain: {left} bytes left in the channels after all events"
            )));
        }
        let mut sample = Sample::new(elapsed, fired, vec![("events", fired), ("writes", written)]);
        sample.syscalls = syscalls;
        if spurious > 0 {
            sample.extra.push(("spurious events", spurious as f64));
        }
        Ok(sample)
    }
}

impl Case for Chain {
    fn scenario(&self) -> &'static str {
        "chain"
    }

    fn label(&self) -> String {
        format!("{} n={} a={}", self.kind.name(), self.n, self.active)
    }

    fn unit(&self) -> &'static str {
        "event"
    }

    fn note(&self) -> Option<String> {
        fds::cap_note(
            "n",
            self.asked_n,
            self.n,
            self.hard_limit,
            " (2 fds per channel)",
        )
    }

    fn initial_ops(&self) -> u64 {
        2_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
