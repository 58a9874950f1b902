//! The one way this backend turns a failed Windows call into an
//! [`Error::Os`]: a Win32 call's `GetLastError`, a Winsock call's
//! `WSAGetLastError`, or an NT call's `NTSTATUS` mapped to the Win32 error
//! std's `io::Error` expects (`RtlNtStatusToDosError`), with the name of the
//! call and the socket it was made on.

use crate::{sys, Error, RawSource};
use std::io;

/// The `Os` error for the calling thread's last Win32 error.
pub(super) fn last_error(operation: &'static str, socket: Option<RawSource>) -> Error {
    Error::last_os_error(operation, socket)
}

/// The `Os` error for the calling thread's last Winsock error.
pub(super) fn last_wsa_error(operation: &'static str, socket: Option<RawSource>) -> Error {
    // SAFETY: WSAGetLastError takes no arguments and reads thread-local
    // state only.
    let code = unsafe { sys::WSAGetLastError() };
    Error::Os {
        operation,
        fd: socket,
        source: io::Error::from_raw_os_error(code),
    }
}

/// The `Os` error for an `NTSTATUS` an NT call returned.
pub(super) fn nt_error(
    status: sys::NTSTATUS,
    operation: &'static str,
    socket: Option<RawSource>,
) -> Error {
    // SAFETY: RtlNtStatusToDosError takes a value and returns one; any
    // status is accepted (unknown ones map to ERROR_MR_MID_NOT_FOUND).
    let code = unsafe { sys::RtlNtStatusToDosError(status) };
    Error::Os {
        operation,
        fd: socket,
        source: io::Error::from_raw_os_error(code as i32),
    }
}

/// `NT_ERROR(status)`: the severity bits say error (`0xC...`). A request
/// that fails with such a status synchronously queues no completion.
pub(super) fn is_nt_error(status: sys::NTSTATUS) -> bool {
    (status as u32) >> 30 == 3
}
