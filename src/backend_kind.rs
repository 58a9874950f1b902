//! Which kernel mechanism a `Poll` uses.

/// The kernel mechanism behind a [`Poll`](crate::Poll).
///
/// [`Poll::new`](crate::Poll::new) picks one for the platform: kqueue on
/// macOS, iOS and the BSDs; IOCP on Windows; on Linux and Android epoll, or, with evq's
/// `io-uring` cargo feature, io_uring when the kernel allows it (it falls
/// back to epoll when io_uring is missing, older than Linux 5.19, or
/// forbidden by the `kernel.io_uring_disabled` sysctl or a seccomp filter).
/// [`Poll::with_backend`](crate::Poll::with_backend) asks for one
/// explicitly, and [`Poll::backend`](crate::Poll::backend) says which one a
/// poll uses. Every backend has the same API and the same documented
/// semantics; the few places where a kernel cannot match them say so.
///
/// # Examples
///
/// ```
/// use evq::{Backend, Poll};
/// # fn main() -> evq::Result<()> {
/// let poll = Poll::new()?;
/// match poll.backend() {
///     Backend::Epoll | Backend::IoUring => println!("a Linux kernel queue"),
///     Backend::Kqueue => println!("kqueue"),
///     Backend::Iocp => println!("a completion port"),
///     other => println!("{other:?}"),
/// }
/// // Only a backend this build has can be asked for.
/// # #[cfg(not(feature = "io-uring"))]
/// assert!(Poll::with_backend(Backend::IoUring).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// epoll, on Linux and Android
    /// ([`epoll(7)`](https://man7.org/linux/man-pages/man7/epoll.7.html)).
    Epoll,
    /// io_uring poll requests, on Linux 5.19 or later with the `io-uring`
    /// feature ([`io_uring(7)`](https://man7.org/linux/man-pages/man7/io_uring.7.html)).
    IoUring,
    /// kqueue, on macOS, iOS and the BSDs
    /// ([`kqueue(2)`](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2)).
    Kqueue,
    /// An I/O completion port with `\Device\Afd` poll requests
    /// (`IOCTL_AFD_POLL`, the technique of wepoll, mio and polling), on
    /// Windows
    /// ([I/O completion ports](https://learn.microsoft.com/en-us/windows/win32/fileio/i-o-completion-ports)).
    Iocp,
}
