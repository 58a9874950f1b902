//! S4 `churn`: registration changes while `B` other eventfds stay
//! registered. Two cases: `register+deregister` of one socket (ns per
//! pair), and `reregister`, switching that socket between readable and
//! readable|writable interest (ns per call).

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::fds::{self, Channel, ChannelKind};
use crate::sample::{Meter, Sample};
use crate::syscalls::Scope;
use crate::with_loop;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// Which registration change a case repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    RegisterDeregister,
    Reregister,
}

/// One kind of churn.
#[derive(Debug)]
pub struct Churn {
    change: Change,
    background: usize,
    idle: Vec<OwnedFd>,
    socket: Option<Channel>,
}

/// The cases: both kinds of change.
pub fn cases(options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    Ok([Change::RegisterDeregister, Change::Reregister]
        .into_iter()
        .map(|change| {
            Box::new(Churn {
                change,
                background: options.churn_background,
                idle: Vec::new(),
                socket: None,
            }) as Box<dyn Case>
        })
        .collect())
}

impl Churn {
    fn run<L: EventLoop>(&mut self, ops: u64, count: bool) -> io::Result<Sample> {
        if self.socket.is_none() {
            self.idle = (0..self.background).map(|_| fds::eventfd()).collect();
            self.socket = Some(Channel::new(ChannelKind::SocketPair));
        }
        let mut event_loop = L::new(CAPACITY)?;
        for (token, fd) in self.idle.iter().enumerate() {
            event_loop.register(fd.as_raw_fd(), token, Interest::Read, Mode::Edge)?;
        }
        let fd = self.socket.as_ref().map(|s| s.rx.as_raw_fd()).unwrap_or(-1);
        let token = self.background;
        let mut meter = Meter::new(count, Scope::Thread)?;
        match self.change {
            Change::RegisterDeregister => {
                meter.start()?;
                for _ in 0..ops {
                    event_loop.register(fd, token, Interest::Read, Mode::Edge)?;
                    event_loop.deregister(fd)?;
                }
            }
            Change::Reregister => {
                event_loop.register(fd, token, Interest::Read, Mode::Edge)?;
                meter.start()?;
                for i in 0..ops {
                    let interest = if i % 2 == 0 {
                        Interest::ReadWrite
                    } else {
                        Interest::Read
                    };
                    event_loop.reregister(fd, token, interest, Mode::Edge)?;
                }
            }
        }
        let (elapsed, syscalls) = meter.stop()?;
        let mut sample = Sample::new(elapsed, ops, vec![("changes", ops)]);
        sample.syscalls = syscalls;
        Ok(sample)
    }
}

impl Case for Churn {
    fn scenario(&self) -> &'static str {
        "churn"
    }

    fn label(&self) -> String {
        match self.change {
            Change::RegisterDeregister => format!("register+deregister B={}", self.background),
            Change::Reregister => format!("reregister B={}", self.background),
        }
    }

    fn unit(&self) -> &'static str {
        match self.change {
            Change::RegisterDeregister => "pair",
            Change::Reregister => "call",
        }
    }

    fn initial_ops(&self) -> u64 {
        10_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
