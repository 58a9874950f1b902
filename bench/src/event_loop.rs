//! The one small interface every compared event loop implements.
//!
//! Scenarios are generic over [`EventLoop`], so the four loops run the very
//! same scenario code, monomorphised: only the calls below differ.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// What a registration waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Readable.
    Read,
    /// Readable or writable.
    ReadWrite,
}

impl Interest {
    /// Whether readability is asked for.
    pub fn read(self) -> bool {
        matches!(self, Interest::Read | Interest::ReadWrite)
    }

    /// Whether writability is asked for.
    pub fn write(self) -> bool {
        matches!(self, Interest::ReadWrite)
    }
}

/// How a registration reports readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Edge-triggered (`EPOLLET`): once per change to ready.
    Edge,
    /// Level-triggered and disarmed after one event (`EPOLLONESHOT`), until
    /// [`EventLoop::reregister`] re-arms it. A loop without oneshot (mio)
    /// registers edge-triggered instead and still re-arms with one
    /// `reregister` (`EPOLL_CTL_MOD`), which reports a still-ready source
    /// again: the same system calls.
    Oneshot,
}

/// One event as the scenarios see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ready {
    /// The token of the registration (or of the waker).
    pub token: usize,
    /// Readable (or hung up / failed, where the loop folds those in).
    pub readable: bool,
    /// Writable.
    pub writable: bool,
}

/// An event loop under test: evq, mio, polling, or the raw C floor.
pub trait EventLoop: Sized {
    /// The loop's name in tables and on the command line.
    const NAME: &'static str;

    /// The loop's cross-thread waker.
    type Waker: Send + Sync + 'static;

    /// A new loop whose polls report at most `capacity` events.
    fn new(capacity: usize) -> io::Result<Self>;

    /// Starts watching `fd`.
    fn register(
        &mut self,
        fd: RawFd,
        token: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()>;

    /// Changes a registration; re-arms a [`Mode::Oneshot`] one.
    fn reregister(
        &mut self,
        fd: RawFd,
        token: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()>;

    /// Stops watching `fd`.
    fn deregister(&mut self, fd: RawFd) -> io::Result<()>;

    /// Waits up to `timeout` (`None`: for ever) and calls `on_event` for each
    /// event; returns how many there were.
    fn poll<F: FnMut(Ready)>(
        &mut self,
        timeout: Option<Duration>,
        on_event: F,
    ) -> io::Result<usize>;

    /// A waker whose wakes this loop reports as a readable event with
    /// `token`. A loop has at most one.
    fn waker(&mut self, token: usize) -> io::Result<Self::Waker>;

    /// Wakes the loop `waker` belongs to, from any thread.
    fn wake(waker: &Self::Waker) -> io::Result<()>;
}

/// The loops the harness knows, in the order it runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoopKind {
    /// evq, this repository, on epoll.
    Evq,
    /// evq on io_uring.
    EvqIoUring,
    /// mio 1.x.
    Mio,
    /// polling 3.x.
    Polling,
    /// The raw C epoll loop.
    RawC,
}

impl LoopKind {
    /// All loops, in run order.
    pub const ALL: [LoopKind; 5] = [
        LoopKind::Evq,
        LoopKind::EvqIoUring,
        LoopKind::Mio,
        LoopKind::Polling,
        LoopKind::RawC,
    ];

    /// The loop's name.
    pub fn name(self) -> &'static str {
        match self {
            LoopKind::Evq => <crate::loops::Evq>::NAME,
            LoopKind::EvqIoUring => crate::loops::EvqIoUring::NAME,
            LoopKind::Mio => crate::loops::Mio::NAME,
            LoopKind::Polling => crate::loops::Polling::NAME,
            LoopKind::RawC => crate::loops::RawC::NAME,
        }
    }
}

/// Runs `$body` with the type alias `$L` bound to the loop type of `$kind`:
/// the one place a [`LoopKind`] turns into a static type.
#[macro_export]
macro_rules! with_loop {
    ($kind:expr, $L:ident => $body:expr) => {
        match $kind {
            $crate::event_loop::LoopKind::Evq => {
                type $L = $crate::loops::Evq;
                $body
            }
            $crate::event_loop::LoopKind::EvqIoUring => {
                type $L = $crate::loops::EvqIoUring;
                $body
            }
            $crate::event_loop::LoopKind::Mio => {
                type $L = $crate::loops::Mio;
                $body
            }
            $crate::event_loop::LoopKind::Polling => {
                type $L = $crate::loops::Polling;
                $body
            }
            $crate::event_loop::LoopKind::RawC => {
                type $L = $crate::loops::RawC;
                $body
            }
        }
    };
}
