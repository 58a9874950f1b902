//! With the `io-uring` feature: the selector is either backend, chosen when
//! the `Poll` is made, and every call goes to the one chosen. Events need
//! no dispatch: the io_uring backend writes the same `epoll_event` records
//! the epoll backend gets from the kernel (poll masks *are* the `EPOLL*`
//! bits).

use super::{epoll, uring};
use crate::{Backend, Error, Event, Interest, Result, Token, Trigger};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub(crate) enum Selector {
    Epoll(epoll::Selector),
    IoUring(uring::Selector),
}

/// What this process has learnt about io_uring: not yet tried, usable, or
/// refused (then `Poll::new` goes straight to epoll).
static IO_URING: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const USABLE: u8 = 1;
const REFUSED: u8 = 2;

macro_rules! each {
    ($self:ident, $selector:ident => $call:expr) => {
        match $self {
            Selector::Epoll($selector) => $call,
            Selector::IoUring($selector) => $call,
        }
    };
}

impl Selector {
    /// io_uring if the kernel allows it, else epoll. The first refusal is
    /// remembered, so later polls make no attempt.
    pub(crate) fn new() -> Result<Selector> {
        if IO_URING.load(Ordering::Relaxed) != REFUSED {
            match uring::Selector::new() {
                Ok(selector) => {
                    IO_URING.store(USABLE, Ordering::Relaxed);
                    return Ok(Selector::IoUring(selector));
                }
                Err(error) if refuses_io_uring(&error) => {
                    IO_URING.store(REFUSED, Ordering::Relaxed);
                }
                // Out of descriptors or memory: epoll may still fit.
                Err(_) => {}
            }
        }
        epoll::Selector::new().map(Selector::Epoll)
    }

    pub(crate) fn with_backend(backend: Backend) -> Result<Selector> {
        match backend {
            Backend::Epoll => epoll::Selector::new().map(Selector::Epoll),
            Backend::IoUring => uring::Selector::new().map(Selector::IoUring),
            other => Err(super::not_compiled_in(other)),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Selector::Epoll(_) => Backend::Epoll,
            Selector::IoUring(_) => Backend::IoUring,
        }
    }

    pub(crate) fn try_clone(&self) -> Result<Selector> {
        Ok(match self {
            Selector::Epoll(selector) => Selector::Epoll(selector.try_clone()?),
            Selector::IoUring(selector) => Selector::IoUring(selector.try_clone()?),
        })
    }

    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        each!(self, selector => selector.register(fd, token, interest, trigger))
    }

    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        each!(self, selector => selector.reregister(fd, token, interest, trigger))
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> Result<()> {
        each!(self, selector => selector.deregister(fd))
    }

    #[inline]
    pub(crate) fn select(
        &self,
        events: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<()> {
        each!(self, selector => selector.select(events, max, timeout))
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        each!(self, selector => selector.as_fd())
    }
}

/// Errors by which the kernel says no to io_uring itself: not built in
/// (`ENOSYS`) or missing a feature (both `Unsupported`), forbidden by
/// `kernel.io_uring_disabled` or seccomp (`EPERM`, `EACCES`), or too old
/// for the setup flags (`EINVAL`).
fn refuses_io_uring(error: &Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput
    )
}
