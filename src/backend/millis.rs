//! Timeouts for kernels that count whole milliseconds (`epoll_wait`,
//! `GetQueuedCompletionStatusEx`): rounded up, so a wait never ends early.

use std::time::Duration;

/// `timeout` in whole milliseconds, rounded up and saturating at
/// `u64::MAX`; each caller clamps to its kernel's range, and `Poll::poll`
/// waits again for whatever a clamped wait left over.
#[inline]
pub(crate) fn ceil_millis(timeout: Duration) -> u64 {
    // Whole seconds are whole milliseconds, so rounding up the sub-second
    // part rounds up the total, without the 128-bit arithmetic of
    // `as_nanos` on every poll. (`div_ceil` by hand: it is newer than
    // evq's MSRV; nanos < 10^9, so no overflow.)
    timeout
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from((timeout.subsec_nanos() + 999_999) / 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_whole_milliseconds() {
        assert_eq!(ceil_millis(Duration::ZERO), 0);
        assert_eq!(ceil_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ceil_millis(Duration::from_micros(1500)), 2);
        assert_eq!(ceil_millis(Duration::from_millis(7)), 7);
        assert_eq!(ceil_millis(Duration::new(2, 999_999_999)), 3000);
        assert_eq!(ceil_millis(Duration::MAX), u64::MAX);
    }
}
