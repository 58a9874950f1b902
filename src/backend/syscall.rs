//! The one way evq calls the OS: a C-style `-1` return becomes an
//! [`Error::Os`] naming the call and the fd, so every call site is one line
//! and every message reads the same.

use crate::{Error, Result};
use std::os::fd::RawFd;

/// Return types of C calls that signal failure with `-1` and `errno`.
pub(crate) trait MinusOneIsError: Copy + PartialEq + From<i8> {}

impl MinusOneIsError for i32 {}
impl MinusOneIsError for i64 {}
impl MinusOneIsError for isize {}

/// Passes `ret` through, or turns `-1` into the `errno` of the call named
/// `operation` made on `fd`. Call it right after the call, before anything
/// else can overwrite `errno`.
pub(crate) fn check<T: MinusOneIsError>(
    ret: T,
    operation: &'static str,
    fd: Option<RawFd>,
) -> Result<T> {
    if ret == T::from(-1) {
        Err(Error::last_os_error(operation, fd))
    } else {
        Ok(ret)
    }
}
