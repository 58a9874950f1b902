//! S5 `rearm`: one pipe, one byte per cycle: write it, poll for the event,
//! read it back. The `oneshot` cycle then re-arms the disarmed registration
//! (one `EPOLL_CTL_MOD`); the `edge` cycle needs nothing, and must make no
//! `epoll_ctl` at all. Metric: ns per cycle.
//!
//! mio has no oneshot: its oneshot cycle registers edge-triggered and
//! re-arms with `reregister`, the same `EPOLL_CTL_MOD` (see
//! [`Mode::Oneshot`]).

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::fds::{self, Channel, ChannelKind};
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::Scope;
use crate::with_loop;
use std::io;
use std::os::fd::AsRawFd;

const TOKEN: usize = 7;

/// One kind of cycle.
#[derive(Debug)]
pub struct Rearm {
    mode: Mode,
    pipe: Option<Channel>,
}

/// The cases: the oneshot re-arm cycle and the edge cycle.
pub fn cases(_options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    Ok([Mode::Oneshot, Mode::Edge]
        .into_iter()
        .map(|mode| Box::new(Rearm { mode, pipe: None }) as Box<dyn Case>)
        .collect())
}

impl Rearm {
    fn run<L: EventLoop>(&mut self, cycles: u64, count: bool) -> io::Result<Sample> {
        if self.pipe.is_none() {
            self.pipe = Some(Channel::new(ChannelKind::Pipe));
        }
        let Some(pipe) = &self.pipe else {
            unreachable!()
        };
        let fd = pipe.rx.as_raw_fd();
        let mut event_loop = L::new(CAPACITY)?;
        event_loop.register(fd, TOKEN, Interest::Read, self.mode)?;
        let (mut events, mut strangers) = (0u64, 0u64);
        let mut byte = [0u8; 1];
        let mut meter = Meter::new(count, Scope::Thread)?;
        meter.start()?;
        for _ in 0..cycles {
            fds::write(&pipe.tx, b"r")?;
            let before = events;
            while events == before {
                event_loop.poll(None, |event| {
                    if event.token == TOKEN {
                        events += 1;
                    } else {
                        strangers += 1;
                    }
                })?;
            }
            if fds::read(&pipe.rx, &mut byte)? != 1 {
                return Err(broken("rearm: the byte did not come back"));
            }
            if self.mode == Mode::Oneshot {
                event_loop.reregister(fd, TOKEN, Interest::Read, Mode::Oneshot)?;
            }
        }
        let (elapsed, syscalls) = meter.stop()?;
        if events != cycles || strangers != 0 {
            return Err(broken(format!(
                "rearm: {events} events for {cycles} cycles, {strangers} strangers"
            )));
        }
        let mut sample = Sample::new(elapsed, cycles, vec![("events", events)]);
        sample.syscalls = syscalls;
        Ok(sample)
    }
}

impl Case for Rearm {
    fn scenario(&self) -> &'static str {
        "rearm"
    }

    fn label(&self) -> String {
        match self.mode {
            Mode::Oneshot => "oneshot re-arm".to_owned(),
            Mode::Edge => "edge".to_owned(),
        }
    }

    fn unit(&self) -> &'static str {
        "cycle"
    }

    fn note(&self) -> Option<String> {
        (self.mode == Mode::Oneshot)
            .then(|| "mio: edge-triggered + reregister (mio has no oneshot)".to_owned())
    }

    fn initial_ops(&self) -> u64 {
        5_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
