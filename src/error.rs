//! The one error type of evq.

use std::io;
use std::os::fd::RawFd;

/// `std::result::Result` with evq's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in evq.
///
/// The registration errors are typed, so callers can match on them instead
/// of decoding errno values, and every failed system call keeps its
/// [`io::Error`] (and so its errno) together with the name of the call and
/// the file descriptor it was made on:
///
/// ```text
/// epoll_ctl(ADD) on fd 7: Operation not permitted (os error 1)
/// ```
///
/// [`Error::kind`] and the `From<Error> for io::Error` conversion map each variant onto the [`io::ErrorKind`] a user of
/// `std::io` would expect, so evq errors flow through `?` in functions that
/// return `io::Result`.
///
/// # Examples
///
/// ```
/// use evq::{Error, Interest, Poll, Token};
/// # fn main() -> std::io::Result<()> {
/// let poll = Poll::new()?;
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// a.set_nonblocking(true)?;
/// poll.registry().register(&a, Token(0), Interest::READABLE)?;
/// match poll.registry().register(&a, Token(1), Interest::READABLE) {
///     Err(Error::AlreadyRegistered { .. }) => {}
///     other => panic!("expected AlreadyRegistered, got {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `register` was called for a file descriptor this poll instance
    /// already watches. Use `reregister` to change its interest or token.
    ///
    /// Converts to [`io::ErrorKind::AlreadyExists`].
    #[error("fd {fd} is already registered with this poll instance")]
    AlreadyRegistered {
        /// The file descriptor passed in.
        fd: RawFd,
    },

    /// `reregister` or `deregister` was called for a file descriptor this
    /// poll instance does not watch: never registered, or deregistered
    /// since. (An fd that has been closed is `Os` with `EBADF` instead.)
    ///
    /// Converts to [`io::ErrorKind::NotFound`].
    #[error("fd {fd} is not registered with this poll instance")]
    NotRegistered {
        /// The file descriptor passed in.
        fd: RawFd,
    },

    /// An argument no call could accept, such as an empty [`Interest`] or an
    /// [`Events`] with zero capacity; in debug builds also a socket in
    /// blocking mode passed to `register` (see
    /// [`Registry`](crate::Registry)). No registration was changed.
    ///
    /// Converts to [`io::ErrorKind::InvalidInput`].
    ///
    /// [`Interest`]: crate::Interest
    /// [`Events`]: crate::Events
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong with it.
        reason: &'static str,
    },

    /// A system call failed.
    ///
    /// Converts to an [`io::Error`] of the same kind, whose message keeps
    /// the operation and fd.
    #[error("{operation}{}: {source}", OnFd(*fd))]
    Os {
        /// The call that failed, as in its man page, e.g. `epoll_ctl(ADD)`.
        operation: &'static str,
        /// The file descriptor it was made on, if there was one.
        fd: Option<RawFd>,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The [`io::ErrorKind`] this error converts to.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::AlreadyRegistered { .. } => io::ErrorKind::AlreadyExists,
            Error::NotRegistered { .. } => io::ErrorKind::NotFound,
            Error::InvalidInput { .. } => io::ErrorKind::InvalidInput,
            Error::Os { source, .. } => source.kind(),
        }
    }

    /// The OS error number, for [`Error::Os`]; `None` for the errors evq
    /// detects itself.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The `Os` error for the calling thread's current `errno`.
    pub(crate) fn last_os_error(operation: &'static str, fd: Option<RawFd>) -> Error {
        Error::Os {
            operation,
            fd,
            source: io::Error::last_os_error(),
        }
    }
}

impl From<Error> for io::Error {
    /// Wraps the error in an `io::Error` of the same [`kind`](Error::kind),
    /// keeping its message; the original is available through
    /// [`io::Error::get_ref`] and `downcast_ref::<evq::Error>()`, and with it
    /// the errno ([`Error::raw_os_error`]).
    fn from(error: Error) -> io::Error {
        io::Error::new(error.kind(), error)
    }
}

/// Formats ` on fd N` when there is an fd, nothing otherwise.
struct OnFd(Option<RawFd>);

impl std::fmt::Display for OnFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(fd) => write!(f, " on fd {fd}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_message_names_operation_and_fd() {
        let error = Error::Os {
            operation: "epoll_ctl(ADD)",
            fd: Some(7),
            source: io::Error::from_raw_os_error(1),
        };
        assert_eq!(
            error.to_string(),
            format!(
                "epoll_ctl(ADD) on fd 7: {}",
                io::Error::from_raw_os_error(1)
            )
        );
        assert!(error.to_string().ends_with("(os error 1)"));
        assert_eq!(error.raw_os_error(), Some(1));
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn os_error_without_fd_names_only_the_operation() {
        let error = Error::Os {
            operation: "epoll_create1",
            fd: None,
            source: io::Error::from_raw_os_error(24),
        };
        assert!(error.to_string().starts_with("epoll_create1: "));
    }

    #[test]
    fn conversion_to_io_error_keeps_kind_message_and_errno() {
        let cases = [
            (
                Error::AlreadyRegistered { fd: 3 },
                io::ErrorKind::AlreadyExists,
            ),
            (Error::NotRegistered { fd: 3 }, io::ErrorKind::NotFound),
            (
                Error::InvalidInput { reason: "empty" },
                io::ErrorKind::InvalidInput,
            ),
            (
                Error::Os {
                    operation: "epoll_wait",
                    fd: Some(3),
                    source: io::Error::from_raw_os_error(9),
                },
                io::ErrorKind::Other,
            ),
        ];
        for (error, kind) in cases {
            let message = error.to_string();
            let errno = error.raw_os_error();
            let expected_kind = if kind == io::ErrorKind::Other {
                io::Error::from_raw_os_error(9).kind()
            } else {
                kind
            };
            let io_error = io::Error::from(error);
            assert_eq!(io_error.kind(), expected_kind);
            assert_eq!(io_error.to_string(), message);
            let inner = io_error
                .get_ref()
                .and_then(|e| e.downcast_ref::<Error>())
                .expect("the evq error is kept inside");
            assert_eq!(inner.raw_os_error(), errno);
        }
    }
}
