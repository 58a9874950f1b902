//! The kernel mechanisms behind [`Poll`](crate::Poll): one file per
//! mechanism (one directory for IOCP), chosen here and nowhere else
//! (build.rs sets `evq_epoll`, `evq_kqueue` or `evq_iocp` from the target
//! OS). With the `io-uring` feature on Linux,
//! `Selector` is `dispatch.rs`'s enum over epoll and `uring/` (chosen per
//! `Poll`), which also provides `with_backend` and `backend`; otherwise
//! this file provides them for the one native backend.
//!
//! Every backend provides the same small contract, and the portable layer
//! (`poll.rs`, `registry.rs`, `event.rs`, `waker.rs`) uses nothing else:
//!
//! - `Selector`: one kernel event queue.
//!   - `new() -> Result<Selector>`: a close-on-exec queue.
//!   - `try_clone(&self) -> Result<Selector>`: another handle to the same
//!     queue, sharing its descriptor (no new fd, no system call).
//!   - `register(fd, token, interest, trigger)`, `reregister(..)`,
//!     `deregister(fd)`: report `Error::AlreadyRegistered` /
//!     `Error::NotRegistered` exactly as documented on `Registry`. The
//!     interest is never empty (the portable layer checks). `fd` is a
//!     `RawSource` (`source.rs`): a `RawFd` on Unix, a `RawSocket` on
//!     Windows.
//!   - `AsFd` on Unix, `AsHandle` on Windows: the queue's own handle.
//!   - `select(&self, events, max, timeout)`: one wait of at most `timeout`
//!     (rounded *up* to the backend's resolution, clamped to its range),
//!     storing at most `max` events. It makes no retries: EINTR and early
//!     returns from clamping come back to `Poll::poll`, which owns the
//!     deadline. A completion backend (IOCP) may return no events after
//!     collecting completions that report nothing (cancelled or filtered
//!     requests): an early return too; it may check its queue once more
//!     without waiting when those completions submitted new requests.
//! - `RawEvent`: the kernel's event struct, which `Event` wraps
//!   `#[repr(transparent)]` (on IOCP the backend's own `Copy` record, which
//!   it fills from its completions), and free functions decoding it:
//!   `token`, `is_readable`, `is_writable`, `is_error`, `is_read_closed`,
//!   `is_write_closed`, `is_priority`, `flag_names`.
//! - `MAX_EVENTS`: the most events one wait can return.
//! - `WakerFd`: `new(&Selector, Token)` registers a wake-up source that
//!   `wake(&self)` fires with one async-signal-safe syscall (three in
//!   the eventfd's once-in-2^64 overflow; on IOCP a posted packet, which
//!   `select` reports only while the `WakerFd` lives); the portable `Waker`
//!   skips it while an earlier wake is pending (`wake_gate.rs`).
//! - `io_would_block(socket, interest)` (IOCP only): called by
//!   `evq::net`'s sockets when a read-side (`READABLE`) or write-side
//!   (`WRITABLE`) call returned `WouldBlock`; re-arms those directions of
//!   every edge-triggered registration of `socket`, in every poll, so that
//!   `Trigger::Edge` reports the next readiness (see `iocp/edge.rs`).
//!
//! Unix only (Timer, Signals and ChildExit are `cfg(unix)`):
//!
//! - `TimerFd`: `new()`, `set(first, every)` (a zero `first` disarms),
//!   `read() -> Result<u64>` (expirations, 0 if none, never blocks), and
//!   a way to be watched: readable while expirations are unread.
//! - `SignalFd`: `new(&[i32])`, `add`, `remove` (blocking in the calling
//!   thread what they add), `next_pending() -> Result<Option<i32>>`, and a
//!   way to be watched.
//! - `ChildFd`: `new(pid)` (refusing a reaped child), `try_wait()`
//!   (reaping), and a way to be watched: readable once the child has exited.
//!
//! The way to be watched is `AsFd` on epoll (a timerfd, signalfd, pidfd),
//! and on kqueue the `Watched` trait (`watch`, `rewatch`, `unwatch` with
//! the `Selector`), which `Registry`'s `*_watched` hooks call: the kernel
//! filters go straight into the poll's kqueue (`kqueue_watch.rs`).
//!
//! Shared by the Unix backends (POSIX calls): `is_blocking_socket(fd)`, the
//! debug-build check `Registry::register` makes (`blocking_socket.rs`).
//!
//! Sources reach `Selector` only through `Registry`'s crate-private hooks
//! (`register_raw` and friends, `registry.rs`, taking the platform's
//! `BorrowedSource`: a `BorrowedFd`, or a `BorrowedSocket` on Windows); a
//! backend that can watch something else adds a method for it here and a
//! hook there (kqueue: `Watched`, `register_watched`).

#[cfg(any(evq_epoll, evq_iocp))]
mod millis;
#[cfg(all(unix, not(any(target_os = "netbsd", target_os = "openbsd"))))]
mod signal_mask;
#[cfg(unix)]
mod syscall;

#[cfg(all(unix, debug_assertions, not(miri)))]
mod blocking_socket;
#[cfg(all(unix, debug_assertions, not(miri)))]
pub(crate) use self::blocking_socket::is_blocking_socket;
use crate::{Backend, Error};

#[cfg(evq_epoll)]
mod epoll;
#[cfg(evq_epoll)]
mod eventfd;
#[cfg(evq_epoll)]
mod pidfd;
#[cfg(evq_epoll)]
mod signalfd;
#[cfg(evq_epoll)]
mod timerfd;
#[cfg(evq_epoll)]
pub(crate) use self::{
    epoll::*, eventfd::WakerFd, pidfd::ChildFd, signalfd::SignalFd, timerfd::TimerFd,
};

// With the `io-uring` feature the selector is an enum over epoll and
// io_uring (this import shadows the glob's epoll `Selector`); events stay
// epoll's records, which the io_uring backend fills in itself.
#[cfg(all(evq_epoll, feature = "io-uring"))]
mod dispatch;
#[cfg(all(evq_epoll, feature = "io-uring"))]
mod uring;
#[cfg(all(evq_epoll, feature = "io-uring"))]
pub(crate) use self::dispatch::Selector;

#[cfg(evq_kqueue)]
mod kqueue;
#[cfg(evq_kqueue)]
mod kqueue_proc;
#[cfg(all(evq_kqueue, not(any(target_os = "netbsd", target_os = "openbsd"))))]
mod kqueue_signals;
#[cfg(evq_kqueue)]
mod kqueue_timer;
#[cfg(evq_kqueue)]
mod kqueue_watch;
#[cfg(evq_kqueue)]
mod registrations;
#[cfg(evq_kqueue)]
mod source_queue;
#[cfg(evq_kqueue)]
mod user_event;
#[cfg(evq_kqueue)]
pub(crate) use self::{
    kqueue::*, kqueue_proc::ChildFd, kqueue_timer::TimerFd, kqueue_watch::Watched,
    user_event::WakerFd,
};
// NetBSD and OpenBSD define the sigset operations inline only, which
// bindgen cannot bind: no Signals there yet.
#[cfg(all(evq_kqueue, not(any(target_os = "netbsd", target_os = "openbsd"))))]
pub(crate) use self::kqueue_signals::SignalFd;

#[cfg(evq_iocp)]
mod iocp;
#[cfg(evq_iocp)]
pub(crate) use self::iocp::*;

/// The backend every build has; the only one without the `io-uring`
/// feature.
#[cfg(all(evq_epoll, not(feature = "io-uring")))]
const NATIVE: Backend = Backend::Epoll;
#[cfg(evq_kqueue)]
const NATIVE: Backend = Backend::Kqueue;
#[cfg(evq_iocp)]
const NATIVE: Backend = Backend::Iocp;

#[cfg(not(all(evq_epoll, feature = "io-uring")))]
impl Selector {
    /// `Selector::new` for the native backend; any other is not compiled in.
    pub(crate) fn with_backend(backend: Backend) -> crate::Result<Selector> {
        if backend == NATIVE {
            Selector::new()
        } else {
            Err(not_compiled_in(backend))
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        NATIVE
    }
}

/// The error for a backend this build of evq does not have.
fn not_compiled_in(backend: Backend) -> Error {
    Error::InvalidInput {
        reason: match backend {
            Backend::IoUring if cfg!(evq_epoll) => {
                "the io_uring backend is not compiled in: enable evq's `io-uring` feature"
            }
            Backend::IoUring => "io_uring exists on Linux only",
            Backend::Epoll => "epoll exists on Linux and Android only",
            Backend::Kqueue => "kqueue exists on macOS, iOS and the BSDs only",
            Backend::Iocp => "the IOCP backend exists on Windows only",
        },
    }
}
