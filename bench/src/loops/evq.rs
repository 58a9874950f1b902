//! evq, the loop under test: on epoll ([`Evq`]) and on io_uring
//! ([`EvqIoUring`]), each chosen explicitly with `Poll::with_backend`.

use crate::event_loop::{EventLoop, Interest, Mode, Ready};
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

/// Which of evq's backends a loop runs on.
pub trait Kernel: std::fmt::Debug {
    /// The backend.
    const BACKEND: evq::Backend;
    /// The loop's name in reports.
    const NAME: &'static str;
}

/// evq on epoll.
#[derive(Debug)]
pub struct OnEpoll;

impl Kernel for OnEpoll {
    const BACKEND: evq::Backend = evq::Backend::Epoll;
    const NAME: &'static str = "evq";
}

/// evq on io_uring.
#[derive(Debug)]
pub struct OnIoUring;

impl Kernel for OnIoUring {
    const BACKEND: evq::Backend = evq::Backend::IoUring;
    const NAME: &'static str = "evq/io_uring";
}

/// An `evq::Poll` on backend `K`, and its `Events`.
#[derive(Debug)]
pub struct Evq<K: Kernel = OnEpoll> {
    poll: evq::Poll,
    events: evq::Events,
    kernel: std::marker::PhantomData<K>,
}

/// evq on its io_uring backend.
pub type EvqIoUring = Evq<OnIoUring>;

fn interest(interest: Interest) -> evq::Interest {
    match interest {
        Interest::Read => evq::Interest::READABLE,
        Interest::ReadWrite => evq::Interest::READABLE | evq::Interest::WRITABLE,
    }
}

fn trigger(mode: Mode) -> evq::Trigger {
    match mode {
        Mode::Edge => evq::Trigger::Edge,
        Mode::Oneshot => evq::Trigger::Oneshot,
    }
}

/// The scenario's descriptor, borrowed for one registry call.
fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the scenarios only pass descriptors they own and keep open for
    // the duration of the call; evq does not keep the borrow.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

impl<K: Kernel> EventLoop for Evq<K> {
    const NAME: &'static str = K::NAME;
    type Waker = evq::Waker;

    fn new(capacity: usize) -> io::Result<Self> {
        Ok(Evq {
            poll: evq::Poll::with_backend(K::BACKEND)?,
            events: evq::Events::with_capacity(capacity),
            kernel: std::marker::PhantomData,
        })
    }

    fn register(&mut self, fd: RawFd, token: usize, i: Interest, mode: Mode) -> io::Result<()> {
        let registry = self.poll.registry();
        Ok(registry.register_with(&borrow(fd), evq::Token(token), interest(i), trigger(mode))?)
    }

    fn reregister(&mut self, fd: RawFd, token: usize, i: Interest, mode: Mode) -> io::Result<()> {
        let registry = self.poll.registry();
        Ok(registry.reregister_with(&borrow(fd), evq::Token(token), interest(i), trigger(mode))?)
    }

    fn deregister(&mut self, fd: RawFd) -> io::Result<()> {
        Ok(self.poll.registry().deregister(&borrow(fd))?)
    }

    #[inline]
    fn poll<F: FnMut(Ready)>(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: F,
    ) -> io::Result<usize> {
        self.poll.poll(&mut self.events, timeout)?;
        for event in &self.events {
            on_event(Ready {
                token: event.token().0,
                readable: event.is_readable(),
                writable: event.is_writable(),
            });
        }
        Ok(self.events.len())
    }

    fn waker(&mut self, token: usize) -> io::Result<evq::Waker> {
        Ok(evq::Waker::new(self.poll.registry(), evq::Token(token))?)
    }

    #[inline]
    fn wake(waker: &evq::Waker) -> io::Result<()> {
        Ok(waker.wake()?)
    }
}
