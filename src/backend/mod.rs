//! The kernel mechanisms behind [`Poll`](crate::Poll): one file per
//! mechanism, chosen here and nowhere else (build.rs sets `evq_epoll` or
//! `evq_kqueue` from the target OS).
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
//!     interest is never empty (the portable layer checks).
//!   - `select(&self, events, max, timeout)`: one wait of at most `timeout`
//!     (rounded *up* to the backend's resolution, clamped to its range),
//!     storing at most `max` events. It makes no retries: EINTR and early
//!     returns from clamping come back to `Poll::poll`, which owns the
//!     deadline.
//! - `RawEvent`: the kernel's event struct, which `Event` wraps
//!   `#[repr(transparent)]`, and free functions decoding it: `token`,
//!   `is_readable`, `is_writable`, `is_error`, `is_read_closed`,
//!   `is_write_closed`, `is_priority`, `flag_names`.
//! - `MAX_EVENTS`: the most events one wait can return.
//! - `WakerFd`: `new(&Selector, Token)` registers a wake-up source that
//!   `wake(&self)` fires with one async-signal-safe syscall (three in
//!   the eventfd's once-in-2^64 overflow); the portable `Waker` skips it
//!   while an earlier wake is pending (`wake_gate.rs`).
//! - `TimerFd`: `new()`, `set(first, every)` (a zero `first` disarms),
//!   `read() -> Result<u64>` (expirations, 0 if none, never blocks), and
//!   `AsFd`: readable while expirations are unread.
//! - `SignalFd`: `new(&[i32])`, `add`, `remove` (blocking in the calling
//!   thread what they add), `next_pending() -> Result<Option<i32>>`, `AsFd`.
//! - `ChildFd`: `new(pid)` (refusing a reaped child), `try_wait()`
//!   (reaping), `AsFd`: readable once the child has exited.
//!
//! Shared by all backends (POSIX calls): `is_blocking_socket(fd)`, the
//! debug-build check `Registry::register` makes (`blocking_socket.rs`).
//!
//! Sources reach `Selector` only through `Registry`'s crate-private hooks
//! (`register_fd` and friends, `registry.rs`); a backend that can watch
//! something other than an fd (a kqueue timer, a Windows socket) adds a
//! method for it here and a hook there.

#[cfg(not(any(target_os = "netbsd", target_os = "openbsd")))]
mod signal_mask;
mod syscall;

#[cfg(all(debug_assertions, not(miri)))]
mod blocking_socket;
#[cfg(all(debug_assertions, not(miri)))]
pub(crate) use self::blocking_socket::is_blocking_socket;

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

#[cfg(evq_kqueue)]
mod kqueue;
#[cfg(evq_kqueue)]
mod kqueue_proc;
#[cfg(all(evq_kqueue, not(any(target_os = "netbsd", target_os = "openbsd"))))]
mod kqueue_signals;
#[cfg(evq_kqueue)]
mod kqueue_timer;
#[cfg(evq_kqueue)]
mod registrations;
#[cfg(evq_kqueue)]
mod source_queue;
#[cfg(evq_kqueue)]
mod user_event;
#[cfg(evq_kqueue)]
pub(crate) use self::{
    kqueue::*, kqueue_proc::ChildFd, kqueue_timer::TimerFd, user_event::WakerFd,
};
// NetBSD and OpenBSD define the sigset operations inline only, which
// bindgen cannot bind: no Signals there yet.
#[cfg(all(evq_kqueue, not(any(target_os = "netbsd", target_os = "openbsd"))))]
pub(crate) use self::kqueue_signals::SignalFd;
