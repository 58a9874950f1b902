//! The completion port: where AFD poll completions and wakes are queued,
//! and where `select` waits for them.

use super::os_error::last_error;
use crate::backend::millis::ceil_millis;
use crate::{sys, Result};
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::ptr;
use std::time::Duration;

/// The completion key of AFD poll completions (the key the AFD handle is
/// associated with); their `lpOverlapped` is the registration's state.
pub(super) const AFD_KEY: usize = 0;
/// The completion key of a `Waker`'s packets; their `lpOverlapped` is the
/// waker's token, never dereferenced.
pub(super) const WAKE_KEY: usize = 1;

/// A blank record for `wait` to fill.
pub(super) const EMPTY_ENTRY: sys::OVERLAPPED_ENTRY = sys::OVERLAPPED_ENTRY {
    lpCompletionKey: 0,
    lpOverlapped: ptr::null_mut(),
    Internal: 0,
    dwNumberOfBytesTransferred: 0,
};

/// An I/O completion port, closed on drop.
#[derive(Debug)]
pub(super) struct CompletionPort {
    handle: OwnedHandle,
}

impl CompletionPort {
    /// `CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1)`: a new
    /// port that wakes one thread at a time (one `Poll` polls at a time).
    pub(super) fn new() -> Result<CompletionPort> {
        // SAFETY: with INVALID_HANDLE_VALUE and no existing port, the call
        // only creates a port; it takes no pointers.
        let handle = unsafe {
            sys::CreateIoCompletionPort(
                sys::INVALID_HANDLE_VALUE as sys::HANDLE,
                ptr::null_mut(),
                0,
                1,
            )
        };
        if handle.is_null() {
            return Err(last_error("CreateIoCompletionPort", None));
        }
        // SAFETY: the call succeeded, so `handle` is a new handle that
        // nothing else owns; OwnedHandle closes it once.
        let handle = unsafe { OwnedHandle::from_raw_handle(handle) };
        Ok(CompletionPort { handle })
    }

    /// `CreateIoCompletionPort(file, port, key, 0)`: queue the completions
    /// of requests on `file` to this port, with `key`.
    pub(super) fn associate(&self, file: BorrowedHandle<'_>, key: usize) -> Result<()> {
        // SAFETY: both handles are open for the duration of the call (the
        // borrows); it takes no pointers.
        let port = unsafe {
            sys::CreateIoCompletionPort(file.as_raw_handle(), self.raw(), key as sys::ULONG_PTR, 0)
        };
        if port.is_null() {
            return Err(last_error("CreateIoCompletionPort", None));
        }
        Ok(())
    }

    /// `PostQueuedCompletionStatus(port, 0, key, overlapped)`. The
    /// `overlapped` value is only carried, never dereferenced by the kernel
    /// or by `select` for the keys it is used with.
    pub(super) fn post(&self, key: usize, overlapped: usize) -> Result<()> {
        // SAFETY: a posted packet is not I/O: the kernel stores the values
        // and returns them to the dequeuing thread; nothing is read through
        // the pointer.
        let ok = unsafe {
            sys::PostQueuedCompletionStatus(
                self.raw(),
                0,
                key as sys::ULONG_PTR,
                overlapped as *mut sys::OVERLAPPED,
            )
        };
        if ok == 0 {
            return Err(last_error("PostQueuedCompletionStatus", None));
        }
        Ok(())
    }

    /// One `GetQueuedCompletionStatusEx` into `entries`, returning the
    /// filled part: empty when `timeout` passed first. The timeout is
    /// rounded up to whole milliseconds and clamped below `INFINITE`
    /// (about 49.7 days); `None` waits forever.
    pub(super) fn wait<'a>(
        &self,
        entries: &'a mut [sys::OVERLAPPED_ENTRY],
        timeout: Option<Duration>,
    ) -> Result<&'a [sys::OVERLAPPED_ENTRY]> {
        let mut removed: sys::ULONG = 0;
        // SAFETY: `entries` is writable for `entries.len()` records, and
        // the kernel writes at most that many (`ulCount`), reporting the
        // number in `removed`, a writable ULONG. Not alertable: no APC runs
        // inside.
        let ok = unsafe {
            sys::GetQueuedCompletionStatusEx(
                self.raw(),
                entries.as_mut_ptr(),
                entries.len() as sys::ULONG,
                &mut removed,
                timeout_ms(timeout),
                0,
            )
        };
        if ok == 0 {
            let error = last_error("GetQueuedCompletionStatusEx", None);
            if error.raw_os_error() == Some(sys::WAIT_TIMEOUT as i32) {
                return Ok(&[]);
            }
            return Err(error);
        }
        Ok(&entries[..removed as usize])
    }

    fn raw(&self) -> sys::HANDLE {
        self.handle.as_raw_handle()
    }
}

impl AsHandle for CompletionPort {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.handle.as_handle()
    }
}

/// The `GetQueuedCompletionStatusEx` timeout: `INFINITE` for none,
/// otherwise whole milliseconds rounded up, so a wait never ends before
/// `timeout`, and clamped to `INFINITE - 1`.
fn timeout_ms(timeout: Option<Duration>) -> sys::DWORD {
    match timeout {
        None => sys::INFINITE,
        Some(timeout) => ceil_millis(timeout).min(u64::from(sys::INFINITE - 1)) as sys::DWORD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_and_never_mean_infinite() {
        assert_eq!(timeout_ms(None), sys::INFINITE);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::MAX)), sys::INFINITE - 1);
    }

    #[test]
    fn a_posted_packet_comes_back_with_its_key_and_value() {
        let port = CompletionPort::new().unwrap();
        port.post(WAKE_KEY, 42).unwrap();
        let mut entries = [EMPTY_ENTRY; 4];
        let got = port.wait(&mut entries, Some(Duration::ZERO)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].lpCompletionKey as usize, WAKE_KEY);
        assert_eq!(got[0].lpOverlapped as usize, 42);
        let got = port
            .wait(&mut entries, Some(Duration::from_millis(1)))
            .unwrap();
        assert!(got.is_empty(), "one post, one packet");
    }
}
