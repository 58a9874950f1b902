//! The Windows event record: evq's own, filled from a completion (the AFD
//! events a poll reported) or a wake, and what its bits mean.
//!
//! The meaning of each `AFD_POLL_*` bit for `Event` follows mio's, which
//! follows wepoll's translation to epoll's bits: a reset (`ABORT`) or a
//! failed connect (`CONNECT_FAIL`) makes both directions ready and closed,
//! as `EPOLLHUP | EPOLLERR` does on Linux. Unlike mio, a reset is also an
//! error, as `EPOLLERR` says on Linux: the next read or write fails with
//! it.

use crate::{sys, Token};

/// One event: the registration's token and the `AFD_POLL_*` bits it
/// reported (a waker's event: `AFD_POLL_RECEIVE`, readable).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawEvent {
    token: usize,
    events: u32,
}

impl RawEvent {
    pub(super) fn new(token: Token, events: u32) -> RawEvent {
        RawEvent {
            token: token.0,
            events,
        }
    }
}

/// The most events one poll stores: bounded by the memory of `Events`
/// only (each wait collects up to `selector::ENTRIES_PER_WAIT`
/// completions).
pub(crate) const MAX_EVENTS: usize = i32::MAX as usize / std::mem::size_of::<RawEvent>();

/// What `is_readable` reads.
pub(super) const READABLE: u32 = sys::AFD_POLL_RECEIVE
    | sys::AFD_POLL_ACCEPT
    | sys::AFD_POLL_DISCONNECT
    | sys::AFD_POLL_ABORT
    | sys::AFD_POLL_CONNECT_FAIL;
/// What `is_writable` reads.
pub(super) const WRITABLE: u32 =
    sys::AFD_POLL_SEND | sys::AFD_POLL_ABORT | sys::AFD_POLL_CONNECT_FAIL;
const READ_CLOSED: u32 =
    sys::AFD_POLL_DISCONNECT | sys::AFD_POLL_ABORT | sys::AFD_POLL_CONNECT_FAIL;
const WRITE_CLOSED: u32 = sys::AFD_POLL_ABORT | sys::AFD_POLL_CONNECT_FAIL;
const ERROR: u32 = sys::AFD_POLL_ABORT | sys::AFD_POLL_CONNECT_FAIL;

#[inline]
pub(crate) fn token(event: &RawEvent) -> Token {
    Token(event.token)
}

#[inline]
pub(crate) fn is_readable(event: &RawEvent) -> bool {
    event.events & READABLE != 0
}

#[inline]
pub(crate) fn is_writable(event: &RawEvent) -> bool {
    event.events & WRITABLE != 0
}

#[inline]
pub(crate) fn is_error(event: &RawEvent) -> bool {
    event.events & ERROR != 0
}

#[inline]
pub(crate) fn is_read_closed(event: &RawEvent) -> bool {
    event.events & READ_CLOSED != 0
}

#[inline]
pub(crate) fn is_write_closed(event: &RawEvent) -> bool {
    event.events & WRITE_CLOSED != 0
}

#[inline]
pub(crate) fn is_priority(event: &RawEvent) -> bool {
    event.events & sys::AFD_POLL_RECEIVE_EXPEDITED != 0
}

/// The names of the `AFD_POLL_*` bits in `event`, for `Debug`.
pub(crate) fn flag_names(event: &RawEvent) -> impl Iterator<Item = &'static str> {
    const NAMES: [(u32, &str); 8] = [
        (sys::AFD_POLL_RECEIVE, "AFD_POLL_RECEIVE"),
        (
            sys::AFD_POLL_RECEIVE_EXPEDITED,
            "AFD_POLL_RECEIVE_EXPEDITED",
        ),
        (sys::AFD_POLL_SEND, "AFD_POLL_SEND"),
        (sys::AFD_POLL_DISCONNECT, "AFD_POLL_DISCONNECT"),
        (sys::AFD_POLL_ABORT, "AFD_POLL_ABORT"),
        (sys::AFD_POLL_LOCAL_CLOSE, "AFD_POLL_LOCAL_CLOSE"),
        (sys::AFD_POLL_ACCEPT, "AFD_POLL_ACCEPT"),
        (sys::AFD_POLL_CONNECT_FAIL, "AFD_POLL_CONNECT_FAIL"),
    ];
    let events = event.events;
    NAMES
        .into_iter()
        .filter(move |(bit, _)| events & bit != 0)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(events: u32) -> RawEvent {
        RawEvent::new(Token(9), events)
    }

    #[test]
    fn each_afd_condition_maps_as_documented_on_event() {
        // (bit, readable, writable, error, read closed, write closed, priority)
        let table = [
            (
                sys::AFD_POLL_RECEIVE,
                true,
                false,
                false,
                false,
                false,
                false,
            ),
            (
                sys::AFD_POLL_ACCEPT,
                true,
                false,
                false,
                false,
                false,
                false,
            ),
            (sys::AFD_POLL_SEND, false, true, false, false, false, false),
            (
                sys::AFD_POLL_DISCONNECT,
                true,
                false,
                false,
                true,
                false,
                false,
            ),
            (sys::AFD_POLL_ABORT, true, true, true, true, true, false),
            (
                sys::AFD_POLL_CONNECT_FAIL,
                true,
                true,
                true,
                true,
                true,
                false,
            ),
            (
                sys::AFD_POLL_RECEIVE_EXPEDITED,
                false,
                false,
                false,
                false,
                false,
                true,
            ),
        ];
        for (bit, readable, writable, error, read_closed, write_closed, priority) in table {
            let e = event(bit);
            assert_eq!(
                (
                    is_readable(&e),
                    is_writable(&e),
                    is_error(&e),
                    is_read_closed(&e),
                    is_write_closed(&e),
                    is_priority(&e)
                ),
                (
                    readable,
                    writable,
                    error,
                    read_closed,
                    write_closed,
                    priority
                ),
                "{:?}",
                flag_names(&e).collect::<Vec<_>>()
            );
            assert_eq!(token(&e), Token(9));
        }
    }

    #[test]
    fn flag_names_lists_the_bits_set() {
        let e = event(sys::AFD_POLL_RECEIVE | sys::AFD_POLL_DISCONNECT);
        assert_eq!(
            flag_names(&e).collect::<Vec<_>>(),
            ["AFD_POLL_RECEIVE", "AFD_POLL_DISCONNECT"]
        );
    }
}
