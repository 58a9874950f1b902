//! S8 `register-threads`: `T` threads share one poll instance, each
//! registering and deregistering its own socket, over and over, as the
//! workers of a multi-threaded runtime do. Cases for 1, 2 and 4 threads;
//! the unit is one register+deregister pair, the time is the wall time of
//! all threads, so a loop whose registry calls on different fds never wait
//! for each other gets cheaper per pair as threads are added (up to the
//! number of CPUs), and one that serialises them does not.
//!
//! Runs on whatever backend evq is built with (the kqueue backend too, with
//! `--cfg evq_force_kqueue`). The raw C floor is plain `epoll_ctl` calls.

use super::Case;
use crate::cli::Options;
use crate::event_loop::LoopKind;
use crate::fds::{Channel, ChannelKind};
use crate::sample::{Meter, Sample};
use crate::syscalls::Scope;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Barrier;
use std::time::Instant;

/// One thread count.
#[derive(Debug)]
pub struct RegisterThreads {
    threads: usize,
    sockets: Vec<Channel>,
}

/// The cases: 1, 2 and 4 threads.
pub fn cases(_options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    Ok([1, 2, 4]
        .into_iter()
        .map(|threads| {
            Box::new(RegisterThreads {
                threads,
                sockets: Vec::new(),
            }) as Box<dyn Case>
        })
        .collect())
}

/// A poll instance whose registry calls may come from any thread.
trait SharedRegistry: Sync + Sized {
    fn new() -> io::Result<Self>;
    fn register(&self, fd: RawFd, token: usize) -> io::Result<()>;
    fn deregister(&self, fd: RawFd) -> io::Result<()>;
}

/// The thread's descriptor, borrowed for one call.
fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: every thread only passes its own socket, open until the case
    // is dropped, and deregisters it before the next call; no loop keeps
    // the borrow.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

impl SharedRegistry for evq::Poll {
    fn new() -> io::Result<Self> {
        Ok(evq::Poll::new()?)
    }
    fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        Ok(self
            .registry()
            .register(&borrow(fd), evq::Token(token), evq::Interest::READABLE)?)
    }
    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        Ok(self.registry().deregister(&borrow(fd))?)
    }
}

impl SharedRegistry for mio::Registry {
    fn new() -> io::Result<Self> {
        mio::Poll::new()?.registry().try_clone()
    }
    fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        let source = &mut mio::unix::SourceFd(&fd);
        mio::Registry::register(self, source, mio::Token(token), mio::Interest::READABLE)
    }
    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        mio::Registry::deregister(self, &mut mio::unix::SourceFd(&fd))
    }
}

impl SharedRegistry for polling::Poller {
    fn new() -> io::Result<Self> {
        polling::Poller::new()
    }
    fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        let event = polling::Event::readable(token);
        // SAFETY: the socket is deleted before it is closed (right after,
        // and the case outlives every thread).
        unsafe { self.add_with_mode(fd, event, polling::PollMode::Edge) }
    }
    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.delete(borrow(fd))
    }
}

/// The raw floor: an epoll fd and `epoll_ctl`.
struct RawEpoll(OwnedFd);

impl RawEpoll {
    fn ctl(&self, op: libc::c_int, fd: RawFd, token: usize) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: token as u64,
        };
        // SAFETY: `event` is a valid epoll_event for the duration of the call.
        let ret = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut event) };
        if ret == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl SharedRegistry for RawEpoll {
    fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor nothing else owns.
        Ok(RawEpoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
    fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token)
    }
    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0)
    }
}

impl RegisterThreads {
    fn run<R: SharedRegistry>(&mut self, ops: u64, count: bool) -> io::Result<Sample> {
        while self.sockets.len() < self.threads {
            self.sockets.push(Channel::new(ChannelKind::SocketPair)?);
        }
        let registry = R::new()?;
        let per_thread = ops.div_ceil(self.threads as u64);
        let start = Barrier::new(self.threads + 1);
        let mut meter = Meter::new(count, Scope::ThreadAndNewThreads)?;
        let (elapsed, syscalls) = std::thread::scope(|scope| {
            let workers: Vec<_> = self
                .sockets
                .iter()
                .take(self.threads)
                .enumerate()
                .map(|(token, socket)| {
                    let (registry, start) = (&registry, &start);
                    let fd = socket.rx.as_raw_fd();
                    scope.spawn(move || -> io::Result<()> {
                        start.wait();
                        for _ in 0..per_thread {
                            registry.register(fd, token)?;
                            registry.deregister(fd)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            meter.start()?;
            let began = Instant::now();
            start.wait();
            for worker in workers {
                worker.join().expect("a registering thread panicked")?;
            }
            let elapsed = began.elapsed();
            let (_, syscalls) = meter.stop()?;
            Ok::<_, io::Error>((elapsed, syscalls))
        })?;
        let pairs = per_thread * self.threads as u64;
        let mut sample = Sample::new(elapsed, pairs, vec![("pairs", pairs)]);
        sample.syscalls = syscalls;
        Ok(sample)
    }
}

impl Case for RegisterThreads {
    fn scenario(&self) -> &'static str {
        "register-threads"
    }

    fn label(&self) -> String {
        format!("T={}", self.threads)
    }

    fn unit(&self) -> &'static str {
        "pair"
    }

    fn throughput(&self) -> bool {
        true
    }

    fn initial_ops(&self) -> u64 {
        10_000
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        match kind {
            LoopKind::Evq => self.run::<evq::Poll>(ops, count),
            LoopKind::Mio => self.run::<mio::Registry>(ops, count),
            LoopKind::Polling => self.run::<polling::Poller>(ops, count),
            LoopKind::RawC => self.run::<RawEpoll>(ops, count),
        }
    }
}
