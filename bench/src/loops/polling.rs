//! polling 3.x: `Poller` with its default oneshot mode, or edge-triggered.

use crate::event_loop::{EventLoop, Interest, Mode, Ready};
use polling::{Event, Events, PollMode, Poller};
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// A `polling::Poller` (shared with its waker) and its `Events`.
#[derive(Debug)]
pub struct Polling {
    poller: Arc<Poller>,
    events: Events,
    waker: Option<usize>,
}

fn event(token: usize, interest: Interest) -> Event {
    match interest {
        Interest::Read => Event::readable(token),
        Interest::ReadWrite => Event::all(token),
    }
}

fn mode(mode: Mode) -> PollMode {
    match mode {
        Mode::Edge => PollMode::Edge,
        Mode::Oneshot => PollMode::Oneshot,
    }
}

/// The scenario's descriptor, borrowed for one poller call.
fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the scenarios only pass descriptors they own and keep open for
    // the duration of the call; polling does not keep the borrow.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

impl EventLoop for Polling {
    const NAME: &'static str = "polling";
    /// polling's notification is per poller: the waker is the poller.
    type Waker = Arc<Poller>;

    fn new(capacity: usize) -> io::Result<Self> {
        let capacity = NonZeroUsize::new(capacity).ok_or(io::ErrorKind::InvalidInput)?;
        Ok(Polling {
            poller: Arc::new(Poller::new()?),
            events: Events::with_capacity(capacity),
            waker: None,
        })
    }

    fn register(&mut self, fd: RawFd, token: usize, i: Interest, m: Mode) -> io::Result<()> {
        // SAFETY: polling requires the source to be deleted before it is
        // closed; every scenario deregisters (or drops the whole poller)
        // before closing its descriptors.
        unsafe { self.poller.add_with_mode(fd, event(token, i), mode(m)) }
    }

    fn reregister(&mut self, fd: RawFd, token: usize, i: Interest, m: Mode) -> io::Result<()> {
        self.poller
            .modify_with_mode(borrow(fd), event(token, i), mode(m))
    }

    fn deregister(&mut self, fd: RawFd) -> io::Result<()> {
        self.poller.delete(borrow(fd))
    }

    /// polling reports a notification by returning from `wait`, with no
    /// event of its own, and may fold it into a return that has I/O events:
    /// so with a waker, every return also reports the waker's token (a
    /// possibly spurious wake, which the scenarios tolerate as they must
    /// with any loop).
    #[inline]
    fn poll<F: FnMut(Ready)>(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: F,
    ) -> io::Result<usize> {
        self.events.clear();
        self.poller.wait(&mut self.events, timeout)?;
        let mut n = 0;
        for event in self.events.iter() {
            n += 1;
            on_event(Ready {
                token: event.key,
                readable: event.readable,
                writable: event.writable,
            });
        }
        if let Some(token) = self.waker {
            n += 1;
            on_event(Ready {
                token,
                readable: true,
                writable: false,
            });
        }
        Ok(n)
    }

    fn waker(&mut self, token: usize) -> io::Result<Arc<Poller>> {
        self.waker = Some(token);
        Ok(Arc::clone(&self.poller))
    }

    #[inline]
    fn wake(waker: &Arc<Poller>) -> io::Result<()> {
        waker.notify()
    }
}
