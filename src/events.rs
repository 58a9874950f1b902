//! The buffer `Poll::poll` fills.

use crate::backend::MAX_EVENTS;
use crate::Event;
use std::collections::TryReserveError;
use std::fmt;

/// A reusable buffer of [`Event`]s, filled by [`Poll::poll`].
///
/// Each poll clears it first and then stores at most
/// [`capacity`](Events::capacity) events; readiness that did not fit stays
/// in the kernel and is returned by the next poll. The memory is allocated
/// once, here, and handed straight to the kernel (`epoll_wait`, `kevent`):
/// polling allocates nothing.
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
    /// (`INT_MAX / size_of::<Event>()`, about 2 GiB of buffer). A capacity
    /// of zero is accepted here, but [`Poll::poll`](crate::Poll::poll)
    /// rejects it with [`Error::InvalidInput`](crate::Error::InvalidInput).
    ///
    /// # Panics
    ///
    /// If the memory cannot be allocated, like `Vec::with_capacity` (but
    /// with a panic, which unwinds, where `Vec` would abort the process).
    /// [`try_with_capacity`](Events::try_with_capacity) returns the error
    /// instead.
    pub fn with_capacity(capacity: usize) -> Events {
        or_panic(Events::try_with_capacity(capacity), capacity)
    }

    /// A buffer for up to `capacity` events per poll, or the allocation's
    /// error if the memory cannot be had.
    ///
    /// Like [`with_capacity`](Events::with_capacity) otherwise, also in
    /// clamping `capacity`.
    ///
    /// # Examples
    ///
    /// ```
    /// let events = evq::Events::try_with_capacity(1024).expect("4 to 16 KiB");
    /// assert_eq!(events.capacity(), 1024);
    /// ```
    pub fn try_with_capacity(capacity: usize) -> Result<Events, TryReserveError> {
        reserve(capacity, Vec::try_reserve_exact)
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

/// An `Events` of `capacity` (clamped) with its memory from `try_reserve`.
fn reserve(
    capacity: usize,
    try_reserve: impl FnOnce(&mut Vec<Event>, usize) -> Result<(), TryReserveError>,
) -> Result<Events, TryReserveError> {
    let capacity = capacity.min(MAX_EVENTS);
    let mut events = Vec::new();
    try_reserve(&mut events, capacity)?;
    Ok(Events { events, capacity })
}

/// The buffer, or a panic naming the capacity that could not be had.
fn or_panic(events: Result<Events, TryReserveError>, capacity: usize) -> Events {
    match events {
        Ok(events) => events,
        Err(error) => panic!("evq: Events::with_capacity({capacity}): {error}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `TryReserveError`, as an allocation failure would give.
    fn failing_reserve(_: &mut Vec<Event>, _: usize) -> Result<(), TryReserveError> {
        Vec::<u8>::new().try_reserve(usize::MAX)
    }

    #[test]
    fn a_failed_allocation_is_an_error_of_try_with_capacity() {
        assert!(reserve(64, failing_reserve).is_err());
    }

    #[test]
    #[should_panic(expected = "evq: Events::with_capacity(64): ")]
    fn a_failed_allocation_panics_in_with_capacity() {
        or_panic(reserve(64, failing_reserve), 64);
    }

    #[test]
    fn the_buffer_holds_the_clamped_capacity() {
        let events = Events::try_with_capacity(100).unwrap();
        assert_eq!(events.capacity(), 100);
        assert!(events.events.capacity() >= 100);
        let huge = reserve(usize::MAX, |_, n| {
            assert_eq!(n, MAX_EVENTS, "clamped before allocating");
            Ok(())
        });
        assert_eq!(huge.unwrap().capacity(), MAX_EVENTS);
    }
}
