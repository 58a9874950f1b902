//! The one error type of evq.

use crate::RawSource;
use std::fmt;
use std::io;

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
/// On Windows the source is a socket, named in hexadecimal as handles are
/// (`NtDeviceIoControlFile(IOCTL_AFD_POLL) on socket 0x1f4: ...`), and the
/// error number is the Win32 error (`GetLastError`, `WSAGetLastError`, or
/// `RtlNtStatusToDosError` of an `NTSTATUS`), as std's own `io::Error`
/// carries it there.
///
/// [`Error::kind`] and the `From<Error> for io::Error` conversion map each
/// variant onto the [`io::ErrorKind`] a user of `std::io` would expect, so
/// evq errors flow through `?` in functions that return `io::Result`; an
/// errno survives the conversion (as [`io::Error::raw_os_error`]), as it
/// does with mio, so code matching on errno after `?` keeps working.
///
/// # Examples
///
/// ```
/// use evq::{Error, Interest, Poll, Token};
/// # fn main() -> std::io::Result<()> {
/// let poll = Poll::new()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// listener.set_nonblocking(true)?;
/// poll.registry().register(&listener, Token(0), Interest::READABLE)?;
/// match poll.registry().register(&listener, Token(1), Interest::READABLE) {
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
    /// Converts to [`io::ErrorKind::AlreadyExists`]; to the kernel's errno
    /// (`EEXIST` from `epoll_ctl`) when it gave one.
    #[error("{} is already registered with this poll instance", Named(*fd))]
    #[non_exhaustive]
    AlreadyRegistered {
        /// The file descriptor passed in (on Windows, the socket); -1 for a
        /// source without one (a `Timer`, `Signals` or `ChildExit` on kqueue).
        fd: RawSource,
        /// The errno the kernel answered with (`EEXIST` on epoll), or `None`
        /// when evq found the registration in its own record (kqueue, which
        /// has no such errno). Also returned by [`Error::raw_os_error`].
        errno: Option<i32>,
    },

    /// `reregister` or `deregister` was called for a file descriptor this
    /// poll instance does not watch: never registered, or deregistered
    /// since. (An fd that has been closed is `Os` with `EBADF` instead.)
    ///
    /// Converts to [`io::ErrorKind::NotFound`]; to the kernel's errno
    /// (`ENOENT` from `epoll_ctl`) when it gave one.
    #[error("{} is not registered with this poll instance", Named(*fd))]
    #[non_exhaustive]
    NotRegistered {
        /// The file descriptor passed in (on Windows, the socket); -1 for a
        /// source without one (a `Timer`, `Signals` or `ChildExit` on kqueue).
        fd: RawSource,
        /// The errno the kernel answered with (`ENOENT` on epoll), or `None`
        /// when evq found no registration in its own record (kqueue). Also
        /// returned by [`Error::raw_os_error`].
        errno: Option<i32>,
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
    /// Converts to the [`io::Error`] the OS gave (`source`): same kind, same
    /// [`raw_os_error`](io::Error::raw_os_error). The operation and fd are
    /// in this error's message only.
    #[error("{operation}{}: {source}", OnFd(*fd))]
    Os {
        /// The call that failed, as in its man page, e.g. `epoll_ctl(ADD)`.
        operation: &'static str,
        /// The file descriptor it was made on, if there was one (on
        /// Windows, the socket).
        fd: Option<RawSource>,
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

    /// The OS error number: always for [`Error::Os`], for
    /// [`Error::AlreadyRegistered`] and [`Error::NotRegistered`] when the
    /// kernel reported them with one (`EEXIST`, `ENOENT` on epoll), and
    /// `None` for the errors evq detects itself.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            Error::AlreadyRegistered { errno, .. } | Error::NotRegistered { errno, .. } => *errno,
            Error::InvalidInput { .. } => None,
        }
    }

    /// The `Os` error for the calling thread's current `errno`.
    pub(crate) fn last_os_error(operation: &'static str, fd: Option<RawSource>) -> Error {
        Error::Os {
            operation,
            fd,
            source: io::Error::last_os_error(),
        }
    }
}

impl From<Error> for io::Error {
    /// The same [`kind`](Error::kind) and, where there is one, the same
    /// errno ([`Error::raw_os_error`]):
    ///
    /// - [`Error::Os`] becomes the `io::Error` the OS gave: its message is
    ///   the OS's, without the operation and fd.
    /// - [`Error::AlreadyRegistered`] and [`Error::NotRegistered`] with an
    ///   errno become `io::Error::from_raw_os_error(errno)`.
    /// - The others wrap the evq error, keeping its message; get it back with
    ///   [`io::Error::get_ref`] and `downcast_ref::<evq::Error>()`.
    fn from(error: Error) -> io::Error {
        match error {
            Error::Os { source, .. } => source,
            Error::AlreadyRegistered {
                errno: Some(errno), ..
            }
            | Error::NotRegistered {
                errno: Some(errno), ..
            } => io::Error::from_raw_os_error(errno),
            error => io::Error::new(error.kind(), error),
        }
    }
}

/// Formats ` on fd N` (` on socket 0xN` on Windows) when there is a
/// source, nothing otherwise.
struct OnFd(Option<RawSource>);

impl fmt::Display for OnFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(fd) => write!(f, " on {}", Named(fd)),
            None => Ok(()),
        }
    }
}

/// A source as messages name it: `fd 7`, or `socket 0x1f4` on Windows.
struct Named(RawSource);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(unix)]
        return write!(f, "fd {}", self.0);
        #[cfg(windows)]
        return write!(f, "socket {:#x}", self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How messages name source 7 on this platform.
    #[cfg(unix)]
    const SEVEN: &str = "fd 7";
    #[cfg(windows)]
    const SEVEN: &str = "socket 0x7";

    #[test]
    fn os_error_message_names_operation_and_fd() {
        let errno = errno_of(io::ErrorKind::PermissionDenied);
        let error = Error::Os {
            operation: "epoll_ctl(ADD)",
            fd: Some(7),
            source: io::Error::from_raw_os_error(errno),
        };
        assert_eq!(
            error.to_string(),
            format!(
                "epoll_ctl(ADD) on {SEVEN}: {}",
                io::Error::from_raw_os_error(errno)
            )
        );
        assert!(error.to_string().ends_with(&format!("(os error {errno})")));
        assert_eq!(error.raw_os_error(), Some(errno));
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    }

    #[cfg(windows)]
    #[test]
    fn sockets_are_named_in_hexadecimal_like_handles() {
        let error = Error::NotRegistered {
            fd: 0x1f4,
            errno: None,
        };
        assert_eq!(
            error.to_string(),
            "socket 0x1f4 is not registered with this poll instance"
        );
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

    /// An errno and what std says its kind is.
    fn errno_of(kind: io::ErrorKind) -> i32 {
        // Real errnos, found by kind rather than written down: the values
        // differ between platforms.
        (1..200)
            .find(|&errno| io::Error::from_raw_os_error(errno).kind() == kind)
            .expect("the OS has an errno of this kind")
    }

    #[test]
    fn os_errors_convert_to_the_os_io_error_and_keep_the_errno() {
        for kind in [io::ErrorKind::PermissionDenied, io::ErrorKind::InvalidInput] {
            let errno = errno_of(kind);
            let error = Error::Os {
                operation: "epoll_ctl(ADD)",
                fd: Some(7),
                source: io::Error::from_raw_os_error(errno),
            };
            assert_eq!((error.kind(), error.raw_os_error()), (kind, Some(errno)));
            assert!(error
                .to_string()
                .starts_with(&format!("epoll_ctl(ADD) on {SEVEN}: ")));
            let io_error = io::Error::from(error);
            assert_eq!(io_error.kind(), kind);
            assert_eq!(io_error.raw_os_error(), Some(errno));
            assert_eq!(
                io_error.to_string(),
                io::Error::from_raw_os_error(errno).to_string()
            );
        }
    }

    #[test]
    fn registration_errors_from_the_kernel_convert_with_their_errno() {
        let exists = errno_of(io::ErrorKind::AlreadyExists);
        let not_found = errno_of(io::ErrorKind::NotFound);
        let cases = [
            (
                Error::AlreadyRegistered {
                    fd: 7,
                    errno: Some(exists),
                },
                io::ErrorKind::AlreadyExists,
                exists,
            ),
            (
                Error::NotRegistered {
                    fd: 7,
                    errno: Some(not_found),
                },
                io::ErrorKind::NotFound,
                not_found,
            ),
        ];
        for (error, kind, errno) in cases {
            assert_eq!((error.kind(), error.raw_os_error()), (kind, Some(errno)));
            assert!(
                error.to_string().starts_with(&format!("{SEVEN} is ")),
                "{error}"
            );
            let io_error = io::Error::from(error);
            assert_eq!(io_error.kind(), kind);
            assert_eq!(io_error.raw_os_error(), Some(errno));
        }
    }

    #[test]
    fn errors_without_errno_convert_keeping_kind_message_and_the_evq_error() {
        let cases = [
            (
                Error::AlreadyRegistered { fd: 3, errno: None },
                io::ErrorKind::AlreadyExists,
            ),
            (
                Error::NotRegistered { fd: 3, errno: None },
                io::ErrorKind::NotFound,
            ),
            (
                Error::InvalidInput { reason: "empty" },
                io::ErrorKind::InvalidInput,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!((error.kind(), error.raw_os_error()), (kind, None));
            let message = error.to_string();
            let io_error = io::Error::from(error);
            assert_eq!(io_error.kind(), kind);
            assert_eq!(io_error.raw_os_error(), None);
            assert_eq!(io_error.to_string(), message);
            let inner = io_error
                .get_ref()
                .and_then(|e| e.downcast_ref::<Error>())
                .expect("the evq error is kept inside");
            assert_eq!(inner.kind(), kind);
        }
    }
}
