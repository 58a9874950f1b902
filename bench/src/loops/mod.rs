//! The five event loops behind [`EventLoop`](crate::event_loop::EventLoop).

mod evq;
mod mio;
mod polling;
mod raw_c;

pub use self::evq::{Evq, EvqIoUring};
pub use self::mio::Mio;
pub use self::polling::Polling;
pub use self::raw_c::RawC;

/// Rounds a timeout up to whole milliseconds for `epoll_wait`, as evq and
/// mio do; `None` is `-1` (for ever).
pub(crate) fn timeout_ms(timeout: Option<std::time::Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(t) => t
            .as_nanos()
            .div_ceil(1_000_000)
            .min(libc::c_int::MAX as u128) as libc::c_int,
    }
}
