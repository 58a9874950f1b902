//! The buffer `Poll::poll` fills.

use crate::backend::MAX_EVENTS;
use crate::Event;
use std::fmt;

/// A reusable buffer of [`Event`]s, filled by [`Poll::poll`].
///
/// Each poll clears it first and then stores at most
/// [`capacity`](Events::capacity) events; readiness that did not fit stays
/// in the kernel and is returned by the next poll. The memory is allocated
/// once, here, and handed straight to the kernel (`epoll_wait`, `kevent`),
/// or filled from the completion ring on io_uring: polling allocates
/// nothing.
///
/// [`Poll::poll`]: crate::Poll::poll
///
/// # Examples
///
/// ```
/// use evq::{Events, Poll};
/// use std::time::Duration;
/// # fn main() -> evq::Result<()> {
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(128);
/// poll.poll(&mut events, Some(Duration::ZERO))?;
/// for event in &events {
///     println!("{:?} is ready", event.token());
/// }
/// # Ok(())
/// # }
/// ```
pub struct Events {
    events: Vec<Event>,
    capacity: usize,
}

impl Events {
    /// A buffer for up to `capacity` events per poll.
    ///
    /// `capacity` is clamped to the most events one kernel call can return
    /// (`INT_MAX / size_of::<Event>()`, about 2 GiB of buffer). If the
    /// memory cannot be had, the buffer gets capacity 0 instead of aborting
    /// the process. A capacity of zero is accepted here, but
    /// [`Poll::poll`](crate::Poll::poll) rejects it with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput).
    pub fn with_capacity(capacity: usize) -> Events {
        let mut events = Vec::new();
        let capacity = match events.try_reserve_exact(capacity.min(MAX_EVENTS)) {
            Ok(()) => capacity.min(MAX_EVENTS),
            Err(_) => 0,
        };
        Events { events, capacity }
    }

    /// The most events one poll stores.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many events the last poll stored.
    #[inline]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the last poll stored no events (it timed out).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events of the last poll, in the kernel's order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.events.iter(),
        }
    }

    /// Forgets the stored events, keeping the memory. `poll` does this itself.
    #[inline]
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// The buffer and the most events to store in it, for the backend.
    pub(crate) fn buffer(&mut self) -> (&mut Vec<Event>, usize) {
        (&mut self.events, self.capacity)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over the [`Event`]s in [`Events`], from [`Events::iter`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, Event>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Event;

    #[inline]
    fn next(&mut self) -> Option<&'a Event> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl std::iter::FusedIterator for Iter<'_> {}
