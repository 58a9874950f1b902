//! mio 1.x (`os-poll`, `os-ext`), always edge-triggered on Linux.

use crate::event_loop::{EventLoop, Interest, Mode, Ready};
use mio::unix::SourceFd;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// A `mio::Poll` and its `Events`.
#[derive(Debug)]
pub struct Mio {
    poll: mio::Poll,
    events: mio::Events,
}

fn interest(interest: Interest) -> mio::Interest {
    match interest {
        Interest::Read => mio::Interest::READABLE,
        Interest::ReadWrite => mio::Interest::READABLE | mio::Interest::WRITABLE,
    }
}

impl EventLoop for Mio {
    const NAME: &'static str = "mio";
    type Waker = mio::Waker;

    fn new(capacity: usize) -> io::Result<Self> {
        Ok(Mio {
            poll: mio::Poll::new()?,
            events: mio::Events::with_capacity(capacity),
        })
    }

    /// mio has no oneshot: [`Mode::Oneshot`] registers edge-triggered, and
    /// the scenario's re-arm is a `reregister` (`EPOLL_CTL_MOD`), as the
    /// mode's documentation says.
    fn register(&mut self, fd: RawFd, token: usize, i: Interest, _mode: Mode) -> io::Result<()> {
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), mio::Token(token), interest(i))
    }

    fn reregister(&mut self, fd: RawFd, token: usize, i: Interest, _mode: Mode) -> io::Result<()> {
        self.poll
            .registry()
            .reregister(&mut SourceFd(&fd), mio::Token(token), interest(i))
    }

    fn deregister(&mut self, fd: RawFd) -> io::Result<()> {
        self.poll.registry().deregister(&mut SourceFd(&fd))
    }

    #[inline]
    fn poll<F: FnMut(Ready)>(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: F,
    ) -> io::Result<usize> {
        match self.poll.poll(&mut self.events, timeout) {
            // mio hands EINTR to its caller, and tokio polls again, as this
            // loop's callers do after a poll with no events. (An io_uring
            // ring dropped by an earlier sample on this thread interrupts
            // one wait: see `evq::Poll` on io_uring.)
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(0),
            result => result?,
        }
        let mut n = 0;
        for event in &self.events {
            n += 1;
            on_event(Ready {
                token: event.token().0,
                readable: event.is_readable(),
                writable: event.is_writable(),
            });
        }
        Ok(n)
    }

    fn waker(&mut self, token: usize) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.registry(), mio::Token(token))
    }

    #[inline]
    fn wake(waker: &mio::Waker) -> io::Result<()> {
        waker.wake()
    }
}
