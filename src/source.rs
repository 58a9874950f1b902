//! What can be registered with a [`Registry`]: the [`Source`] trait, and
//! the platform's raw source (a file descriptor on Unix, a socket on
//! Windows).

use crate::{Interest, Registry, Result, Token, Trigger};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsSocket, BorrowedSocket, RawSocket};

/// The number the OS knows a registered source by, as errors report it: a
/// file descriptor ([`RawFd`]) on Unix, a socket handle (`RawSocket`) on
/// Windows.
#[cfg(unix)]
pub type RawSource = RawFd;
/// The number the OS knows a registered source by, as errors report it: a
/// file descriptor (`RawFd`) on Unix, a socket handle ([`RawSocket`]) on
/// Windows.
#[cfg(windows)]
pub type RawSource = RawSocket;

/// A borrowed raw source: what `Registry`'s crate-private hooks take.
#[cfg(unix)]
pub(crate) type BorrowedSource<'a> = BorrowedFd<'a>;
#[cfg(windows)]
pub(crate) type BorrowedSource<'a> = BorrowedSocket<'a>;

/// The number behind a borrowed raw source.
#[inline]
pub(crate) fn raw_source(source: BorrowedSource<'_>) -> RawSource {
    #[cfg(unix)]
    return std::os::fd::AsRawFd::as_raw_fd(&source);
    #[cfg(windows)]
    return std::os::windows::io::AsRawSocket::as_raw_socket(&source);
}

/// Something a [`Registry`] can watch: one file descriptor (a socket on
/// Windows), or several registered as a unit.
///
/// [`Registry::register`], [`register_with`](Registry::register_with),
/// [`reregister`](Registry::reregister),
/// [`reregister_with`](Registry::reregister_with) and
/// [`deregister`](Registry::deregister) check their arguments (an empty
/// interest is [`Error::InvalidInput`](crate::Error::InvalidInput)) and then
/// call the source's method of the same name, which registers what the
/// source is made of. Call those `Registry` methods, not these: they are
/// what the registry calls.
///
/// On Unix, every type with a file descriptor (`AsFd`: sockets, pipes,
/// `File`, `OwnedFd`, `BorrowedFd`, a [`Poll`](crate::Poll)) is a `Source`
/// as it is, through a blanket implementation that makes the system call
/// documented on each `Registry` method (and, in debug builds, refuses a
/// socket in blocking mode: see [`Registry::register_with`]). On Windows
/// the blanket implementation is for sockets (`AsSocket`: std's and
/// [`evq::net`](crate::net)'s sockets, `OwnedSocket`, `BorrowedSocket`),
/// which evq watches with `\Device\Afd` polls (see [`Registry`]).
///
/// # Implementing `Source`
///
/// A type made of several sources (a pipe pair, a socket and a timer)
/// implements `Source` by passing each call on to its parts with the
/// `Registry` methods: `registry.register_with(&self.part, ..)` in
/// `register`, `reregister_with` in `reregister`, `deregister` in
/// `deregister`. Rules for doing it correctly:
///
/// - **Tokens.** Register every part with the `token` given, and the
///   events of all parts arrive with that one token (the caller cannot tell
///   which part is ready, so its handler tries them all); or derive a token
///   per part (for example `Token(token.0 + i)`, documenting the range the
///   type uses) when the caller needs to tell them apart.
/// - **Interest and trigger.** Pass them on, or the part of them each part
///   serves (a pipe's reader takes `READABLE`, its writer `WRITABLE`); a
///   part that serves none of the interest may stay unregistered, but then
///   `reregister` and `deregister` must know that too.
/// - **All or nothing.** If a part fails to register, deregister the parts
///   already registered and return the error, so that a failed `register`
///   leaves nothing behind (as it does for a single fd) and the caller can
///   try again. `reregister` should restore what it can in the same way.
/// - **Deregister every part**, even after one of them fails (report the
///   first error): a part left registered keeps reporting events.
/// - **Same parts every time.** `reregister` and `deregister` must reach
///   the very parts `register` registered.
///
/// A type that implements `AsFd` (`AsSocket` on Windows) already is a
/// `Source` through it and cannot implement `Source` a second time; wrap it
/// in a new type to change how it registers.
///
/// # Examples
///
/// A pipe (a reader and a writer) registered as one unit under one token;
/// this one always watches both ends, whatever the interest. (Unix only:
/// Windows pipes are not sockets, the only sources evq watches there, so
/// this example is not run on Windows.)
///
#[cfg_attr(unix, doc = "```")]
#[cfg_attr(not(unix), doc = "```ignore")]
/// use evq::{Events, Interest, Poll, Registry, Source, Token, Trigger};
/// use std::io::{PipeReader, PipeWriter};
/// use std::time::Duration;
///
/// struct Pipe {
///     reader: PipeReader,
///     writer: PipeWriter,
/// }
///
/// impl Source for Pipe {
///     fn register(&self, registry: &Registry, token: Token, _: Interest, trigger: Trigger) -> evq::Result<()> {
///         registry.register_with(&self.reader, token, Interest::READABLE, trigger)?;
///         if let Err(error) = registry.register_with(&self.writer, token, Interest::WRITABLE, trigger) {
///             // All or nothing: undo the reader's registration.
///             let _ = registry.deregister(&self.reader);
///             return Err(error);
///         }
///         Ok(())
///     }
///
///     fn reregister(&self, registry: &Registry, token: Token, _: Interest, trigger: Trigger) -> evq::Result<()> {
///         registry.reregister_with(&self.reader, token, Interest::READABLE, trigger)?;
///         registry.reregister_with(&self.writer, token, Interest::WRITABLE, trigger)
///     }
///
///     fn deregister(&self, registry: &Registry) -> evq::Result<()> {
///         let reader = registry.deregister(&self.reader);
///         let writer = registry.deregister(&self.writer);
///         reader.and(writer)
///     }
/// }
///
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let (reader, writer) = std::io::pipe()?;
/// let pipe = Pipe { reader, writer };
/// poll.registry().register(&pipe, Token(3), Interest::READABLE | Interest::WRITABLE)?;
///
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// // The empty pipe's writer is ready, and reports the pipe's one token.
/// assert!(events.iter().any(|e| e.token() == Token(3) && e.is_writable()));
/// poll.registry().deregister(&pipe)?;
/// # Ok(())
/// # }
/// ```
pub trait Source {
    /// Registers the source's parts with `registry`. Called by
    /// [`Registry::register`] and [`Registry::register_with`], after they
    /// checked `interest`.
    fn register(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()>;

    /// Changes the registration of the source's parts. Called by
    /// [`Registry::reregister`] and [`Registry::reregister_with`], after
    /// they checked `interest`.
    fn reregister(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()>;

    /// Deregisters every part of the source. Called by
    /// [`Registry::deregister`].
    fn deregister(&self, registry: &Registry) -> Result<()>;
}

/// A file descriptor is registered as itself: `epoll_ctl` on epoll, a
/// `kevent` change per direction on kqueue (see each `Registry` method).
#[cfg(unix)]
impl<T: AsFd + ?Sized> Source for T {
    #[inline]
    fn register(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        registry.register_raw(self.as_fd(), token, interest, trigger)
    }

    #[inline]
    fn reregister(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        registry.reregister_raw(self.as_fd(), token, interest, trigger)
    }

    #[inline]
    fn deregister(&self, registry: &Registry) -> Result<()> {
        registry.deregister_raw(self.as_fd())
    }
}

/// A socket is registered as itself: an `IOCTL_AFD_POLL` on its base
/// socket (see each `Registry` method).
#[cfg(windows)]
impl<T: AsSocket + ?Sized> Source for T {
    #[inline]
    fn register(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        registry.register_raw(self.as_socket(), token, interest, trigger)
    }

    #[inline]
    fn reregister(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        registry.reregister_raw(self.as_socket(), token, interest, trigger)
    }

    #[inline]
    fn deregister(&self, registry: &Registry) -> Result<()> {
        registry.deregister_raw(self.as_socket())
    }
}

/// `Source` for a type whose `inner` the kqueue backend watches without a
/// descriptor (`Timer`, `Signals`, `ChildExit`), through `Registry`'s
/// `*_watched` hooks.
#[cfg(evq_kqueue)]
macro_rules! watched_source {
    ($type:ty) => {
        impl $crate::Source for $type {
            fn register(
                &self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interest: $crate::Interest,
                trigger: $crate::Trigger,
            ) -> $crate::Result<()> {
                registry.register_watched(&self.inner, token, interest, trigger)
            }

            fn reregister(
                &self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interest: $crate::Interest,
                trigger: $crate::Trigger,
            ) -> $crate::Result<()> {
                registry.reregister_watched(&self.inner, token, interest, trigger)
            }

            fn deregister(&self, registry: &$crate::Registry) -> $crate::Result<()> {
                registry.deregister_watched(&self.inner)
            }
        }
    };
}
#[cfg(evq_kqueue)]
pub(crate) use watched_source;
