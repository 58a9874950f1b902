//! The Linux and Android backend: one epoll instance per `Poll`.
//!
//! epoll already keeps exactly the state `Registry` promises to check, so
//! this backend keeps none of its own: the kernel answers `EEXIST` for a
//! second `EPOLL_CTL_ADD` of an fd and `ENOENT` for `EPOLL_CTL_MOD`/`DEL` of
//! one it does not watch, and those become `AlreadyRegistered` and
//! `NotRegistered`. Every registry call is a single `epoll_ctl`, every poll a
//! single `epoll_pwait2` (nanosecond timeouts, Linux 5.11 and later) or
//! `epoll_wait` (whole milliseconds: no timeout, a zero one, and every
//! timeout on older kernels).
//!
//! # References
//! - [`epoll(7)`](https://man7.org/linux/man-pages/man7/epoll.7.html)
//! - [`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html)
//! - [`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)
//! - [`epoll_wait(2)`, `epoll_pwait2(2)`](https://man7.org/linux/man-pages/man2/epoll_wait.2.html)

use super::millis::ceil_millis;
use super::syscall::check;
use crate::{sys, Error, Event, Interest, Result, Token, Trigger};
use std::ffi::{c_int, c_long};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The kernel's event record: `struct epoll_event`, packed on x86_64.
pub(crate) type RawEvent = sys::epoll_event;

/// The most events one `epoll_wait` accepts (the kernel's `EP_MAX_EVENTS`).
pub(crate) const MAX_EVENTS: usize = c_int::MAX as usize / std::mem::size_of::<RawEvent>();

/// A handle to one epoll instance; every clone shares the descriptor.
#[derive(Debug)]
pub(crate) struct Selector {
    epoll: Arc<OwnedFd>,
}

impl Selector {
    /// `epoll_create1(EPOLL_CLOEXEC)`: close-on-exec from the first instant,
    /// so a concurrent `fork` + `exec` elsewhere never inherits it.
    pub(crate) fn new() -> Result<Selector> {
        // SAFETY: epoll_create1 takes no pointers; any flag value is safe to
        // pass (invalid ones fail with EINVAL).
        let fd = unsafe { sys::epoll_create1(sys::EPOLL_CLOEXEC as c_int) };
        let fd = check(fd, "epoll_create1", None)?;
        // SAFETY: epoll_create1 succeeded, so `fd` is a new descriptor that
        // nothing else owns; the OwnedFd closes it exactly once.
        let epoll = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        Ok(Selector { epoll })
    }

    /// Another handle to the same epoll instance, sharing its descriptor:
    /// no system call, and no descriptor that could run into the limit.
    pub(crate) fn try_clone(&self) -> Result<Selector> {
        Ok(Selector {
            epoll: Arc::clone(&self.epoll),
        })
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`.
    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut event = new_event(token, interest, trigger);
        self.ctl(sys::EPOLL_CTL_ADD, "epoll_ctl(ADD)", fd, &mut event)
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`; also re-arms a disarmed oneshot.
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut event = new_event(token, interest, trigger);
        self.ctl(sys::EPOLL_CTL_MOD, "epoll_ctl(MOD)", fd, &mut event)
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`.
    pub(crate) fn deregister(&self, fd: RawFd) -> Result<()> {
        // Linux before 2.6.9 required a non-null event even for DEL.
        let mut unused = new_event(Token(0), Interest::READABLE, Trigger::Level);
        self.ctl(sys::EPOLL_CTL_DEL, "epoll_ctl(DEL)", fd, &mut unused)
    }

    fn ctl(&self, op: u32, operation: &'static str, fd: RawFd, event: &mut RawEvent) -> Result<()> {
        // SAFETY: `event` is a valid, exclusively borrowed epoll_event for
        // the duration of the call; the kernel only reads it. Bad fds are
        // reported as EBADF, not undefined behaviour.
        let ret = unsafe { sys::epoll_ctl(self.epoll.as_raw_fd(), op as c_int, fd, event) };
        check(ret, operation, Some(fd))
            .map(drop)
            .map_err(|error| match error.kind() {
                // epoll_ctl(2): EEXIST only for ADD of a watched fd, ENOENT
                // only for MOD/DEL of an unwatched one.
                io::ErrorKind::AlreadyExists => Error::AlreadyRegistered {
                    fd,
                    errno: error.raw_os_error(),
                },
                io::ErrorKind::NotFound => Error::NotRegistered {
                    fd,
                    errno: error.raw_os_error(),
                },
                _ => error,
            })
    }

    /// One wait into `events`' spare capacity, storing at most `max`:
    /// `epoll_pwait2` for a timeout that is neither zero nor absent (unless
    /// the kernel lacks it), `epoll_wait` otherwise. Inlined: a zero-timeout
    /// poll then folds the timeout handling away (BENCHMARKS.md).
    #[inline]
    pub(crate) fn select(
        &self,
        events: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<()> {
        events.clear();
        let max = max.min(events.capacity()).min(MAX_EVENTS) as c_int;
        // `Event` is `#[repr(transparent)]` over `RawEvent`, so the spare
        // capacity is room for `events.capacity() >= max` RawEvents.
        let buffer = events.as_mut_ptr().cast::<RawEvent>();
        let n = match timeout {
            Some(timeout) if !timeout.is_zero() && pwait2_may_exist() => {
                match self.pwait2(buffer, max, timeout) {
                    Err(error) if is_missing_syscall(&error) => {
                        PWAIT2_MISSING.store(true, Ordering::Relaxed);
                        self.wait(buffer, max, timeout_ms(Some(timeout)))
                    }
                    outcome => outcome,
                }
            }
            _ => self.wait(buffer, max, timeout_ms(timeout)),
        }?;
        // SAFETY: the kernel initialised the first `n <= max <= capacity`
        // entries, and every bit pattern is a valid RawEvent.
        unsafe { events.set_len(n as usize) };
        Ok(())
    }

    /// `epoll_wait` with a timeout in milliseconds (`-1`: none).
    fn wait(&self, buffer: *mut RawEvent, max: c_int, timeout_ms: c_int) -> Result<c_int> {
        let epoll = self.epoll.as_raw_fd();
        // SAFETY: `buffer` has room for `max` RawEvents (`select`), which
        // the kernel may overwrite; it writes no more than `max`.
        let n = unsafe { sys::epoll_wait(epoll, buffer, max, timeout_ms) };
        check(n, "epoll_wait", Some(epoll))
    }

    /// `epoll_pwait2` with a `timespec` timeout and no signal mask, by
    /// syscall number: its libc wrapper is newer (glibc 2.35) than the
    /// kernels and libcs evq supports, and `__kernel_timespec` has a 64-bit
    /// `tv_sec` on every architecture, 32-bit ones included.
    fn pwait2(&self, buffer: *mut RawEvent, max: c_int, timeout: Duration) -> Result<c_int> {
        let epoll = self.epoll.as_raw_fd();
        let timespec = kernel_timespec(timeout);
        // SAFETY: `buffer` has room for `max` RawEvents (`select`), which
        // the kernel may overwrite, no more than `max`; `timespec` lives
        // until the call returns and is only read. A null sigmask means
        // "leave the mask alone", and its size is then not looked at. Every
        // argument is passed as a `long` or a pointer, the width the kernel
        // reads for each register.
        let n = unsafe {
            sys::syscall(
                sys::SYS_epoll_pwait2 as c_long,
                c_long::from(epoll),
                buffer,
                c_long::from(max),
                &timespec as *const sys::__kernel_timespec,
                ptr::null::<u8>(),
                0 as c_long,
            )
        };
        check(n, "epoll_pwait2", Some(epoll)).map(|n| n as c_int)
    }
}

/// Set once a call found that the kernel has no `epoll_pwait2` (before
/// Linux 5.11, or a seccomp filter that refuses it); from then on every wait
/// uses `epoll_wait`. Each thread may find out once for itself, which costs
/// one failed call; after that, no call probes again.
static PWAIT2_MISSING: AtomicBool = AtomicBool::new(false);

/// Whether to try `epoll_pwait2`. Not under Miri, which emulates
/// `epoll_wait` but no raw `syscall`.
fn pwait2_may_exist() -> bool {
    !cfg!(miri) && !PWAIT2_MISSING.load(Ordering::Relaxed)
}

/// `ENOSYS`, or the `EPERM` that older container seccomp profiles return
/// for system calls they do not know (epoll waits otherwise never fail
/// with `EPERM`).
fn is_missing_syscall(error: &Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
    )
}

/// The `epoll_pwait2` timeout: exact to the nanosecond, seconds clamped to
/// `i64::MAX` (the kernel's `time64_t`); `Poll::poll` waits again for
/// whatever a clamped wait left over.
fn kernel_timespec(timeout: Duration) -> sys::__kernel_timespec {
    sys::__kernel_timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

/// The `epoll_wait` timeout in milliseconds (for kernels without
/// `epoll_pwait2`): rounded up, so a wait never ends before `timeout`, and
/// clamped to `c_int::MAX` (about 24.8 days); `Poll::poll` waits again for
/// whatever a clamped wait left over.
fn timeout_ms(timeout: Option<Duration>) -> c_int {
    match timeout {
        None => -1,
        Some(timeout) => ceil_millis(timeout).min(c_int::MAX as u64) as c_int,
    }
}

fn new_event(token: Token, interest: Interest, trigger: Trigger) -> RawEvent {
    let mut events = 0;
    if interest.contains(Interest::READABLE) {
        events |= sys::EPOLLIN | sys::EPOLLRDHUP;
    }
    if interest.contains(Interest::WRITABLE) {
        events |= sys::EPOLLOUT;
    }
    if interest.contains(Interest::PRIORITY) {
        events |= sys::EPOLLPRI;
    }
    events |= match trigger {
        Trigger::Edge => sys::EPOLLET,
        Trigger::Level => 0,
        Trigger::Oneshot => sys::EPOLLONESHOT,
        Trigger::EdgeOneshot => sys::EPOLLET | sys::EPOLLONESHOT,
    };
    RawEvent {
        events,
        data: sys::epoll_data {
            u64_: token.0 as u64,
        },
    }
}

/// The kernel's readiness bits. A by-value read: `RawEvent` may be packed.
#[inline]
fn bits(event: &RawEvent) -> u32 {
    event.events
}

#[inline]
pub(crate) fn token(event: &RawEvent) -> Token {
    // Copy the union out of the (possibly packed) struct before reading it.
    let data = event.data;
    // SAFETY: every bit pattern is a valid u64, and evq only ever stores the
    // token there (`new_event`).
    Token(unsafe { data.u64_ } as usize)
}

#[inline]
pub(crate) fn is_readable(event: &RawEvent) -> bool {
    bits(event) & sys::EPOLLIN != 0
}

#[inline]
pub(crate) fn is_writable(event: &RawEvent) -> bool {
    bits(event) & sys::EPOLLOUT != 0
}

#[inline]
pub(crate) fn is_error(event: &RawEvent) -> bool {
    bits(event) & sys::EPOLLERR != 0
}

/// `EPOLLHUP` (both directions gone, or a pipe's writers all closed) or
/// `EPOLLRDHUP` (the peer shut down its writing side).
#[inline]
pub(crate) fn is_read_closed(event: &RawEvent) -> bool {
    bits(event) & (sys::EPOLLHUP | sys::EPOLLRDHUP) != 0
}

/// `EPOLLHUP`, or `EPOLLERR` (a pipe with no reader left, a reset or failed
/// connection): writing would fail.
#[inline]
pub(crate) fn is_write_closed(event: &RawEvent) -> bool {
    bits(event) & (sys::EPOLLHUP | sys::EPOLLERR) != 0
}

#[inline]
pub(crate) fn is_priority(event: &RawEvent) -> bool {
    bits(event) & sys::EPOLLPRI != 0
}

/// The names of the kernel's bits in `event`, for `Debug`.
pub(crate) fn flag_names(event: &RawEvent) -> impl Iterator<Item = &'static str> {
    const NAMES: [(u32, &str); 7] = [
        (sys::EPOLLIN, "EPOLLIN"),
        (sys::EPOLLOUT, "EPOLLOUT"),
        (sys::EPOLLPRI, "EPOLLPRI"),
        (sys::EPOLLERR, "EPOLLERR"),
        (sys::EPOLLHUP, "EPOLLHUP"),
        (sys::EPOLLRDHUP, "EPOLLRDHUP"),
        (sys::EPOLLMSG, "EPOLLMSG"),
    ];
    let bits = bits(event);
    NAMES
        .into_iter()
        .filter(move |(bit, _)| bits & bit != 0)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_whole_milliseconds() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::from_millis(7))), 7);
    }

    #[test]
    fn sub_millisecond_parts_round_up_across_whole_seconds() {
        assert_eq!(timeout_ms(Some(Duration::new(1, 0))), 1000);
        assert_eq!(timeout_ms(Some(Duration::new(1, 1))), 1001);
        assert_eq!(timeout_ms(Some(Duration::new(2, 999_999_999))), 3000);
    }

    #[test]
    fn huge_timeouts_clamp_instead_of_overflowing() {
        assert_eq!(timeout_ms(Some(Duration::MAX)), c_int::MAX);
        let just_over = Duration::from_millis(c_int::MAX as u64 + 1);
        assert_eq!(timeout_ms(Some(just_over)), c_int::MAX);
    }

    #[test]
    fn kernel_timespecs_keep_every_nanosecond() {
        let timespec = kernel_timespec(Duration::new(3, 999_999_999));
        assert_eq!((timespec.tv_sec, timespec.tv_nsec), (3, 999_999_999));
        let timespec = kernel_timespec(Duration::from_nanos(1));
        assert_eq!((timespec.tv_sec, timespec.tv_nsec), (0, 1));
        let timespec = kernel_timespec(Duration::MAX);
        assert_eq!((timespec.tv_sec, timespec.tv_nsec), (i64::MAX, 999_999_999));
    }

    #[test]
    fn without_epoll_pwait2_timeouts_round_up_to_whole_milliseconds() {
        // What a kernel before 5.11 gives: every wait through epoll_wait.
        // Other tests in this binary meanwhile also wait with epoll_wait,
        // which keeps their timeouts correct, only coarser.
        let selector = Selector::new().unwrap();
        let mut events = Vec::with_capacity(4);
        PWAIT2_MISSING.store(true, Ordering::Relaxed);
        let start = std::time::Instant::now();
        let outcome = selector.select(&mut events, 4, Some(Duration::from_nanos(1)));
        let elapsed = start.elapsed();
        PWAIT2_MISSING.store(false, Ordering::Relaxed);
        outcome.unwrap();
        assert!(events.is_empty());
        assert!(elapsed >= Duration::from_millis(1), "{elapsed:?}");
    }

    #[test]
    fn token_round_trips_through_the_kernel_record() {
        for value in [0, 1, usize::MAX / 2, usize::MAX] {
            let event = new_event(Token(value), Interest::READABLE, Trigger::Edge);
            assert_eq!(token(&event), Token(value));
        }
    }

    #[test]
    fn readable_interest_also_asks_for_peer_hang_up() {
        let event = new_event(Token(0), Interest::READABLE, Trigger::Level);
        assert_eq!(bits(&event), sys::EPOLLIN | sys::EPOLLRDHUP);
    }

    #[test]
    fn triggers_map_to_epoll_flags() {
        let flags = |trigger| bits(&new_event(Token(0), Interest::WRITABLE, trigger));
        assert_eq!(flags(Trigger::Level), sys::EPOLLOUT);
        assert_eq!(flags(Trigger::Edge), sys::EPOLLOUT | sys::EPOLLET);
        assert_eq!(flags(Trigger::Oneshot), sys::EPOLLOUT | sys::EPOLLONESHOT);
        assert_eq!(
            flags(Trigger::EdgeOneshot),
            sys::EPOLLOUT | sys::EPOLLET | sys::EPOLLONESHOT
        );
    }
}
