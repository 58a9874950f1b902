//! The macOS, iOS and BSD backend: one kqueue per `Poll`.
//!
//! A registration is one kernel filter per direction (`EVFILT_READ`,
//! `EVFILT_WRITE`) on the fd, with the token in `udata`. All of a call's
//! filter changes go to the kernel in a single `kevent` call with
//! `EV_RECEIPT`, so each change reports its own error and no pending event
//! is consumed by a registry call.
//!
//! kqueue itself never says "already registered" (`EV_ADD` of an existing
//! filter silently modifies it), so the backend keeps a record of the
//! registered fds (`registrations.rs`), shared by every handle to the
//! queue and never touched by `poll`. Each fd has its own slot and lock, so
//! registry calls on different fds from many threads never wait for each
//! other. The kernel forgets an fd's filters when the fd is closed; a
//! record can therefore be stale, and when a call disagrees with it the
//! backend asks the kernel (its receipts answer `ENOENT` for filters that
//! no longer exist) before answering.
//!
//! # References
//! - [`kqueue(2)`, `kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2)
//! - [`kqueue(2)` on macOS](https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html)
//! - [`kqueue(2)` on NetBSD](https://man.netbsd.org/kqueue.2),
//!   [on OpenBSD](https://man.openbsd.org/kqueue.2)

use super::kqueue_watch::Doorbells;
use super::registrations::{Registration, Registrations};
use super::syscall::check;
use crate::{sys, Error, Event, Interest, Result, Token, Trigger};
use std::ffi::c_int;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The kernel's event record: `struct kevent` (`packed(4)` on Apple targets).
pub(crate) type RawEvent = sys::kevent;

/// The most events one `kevent` call accepts.
pub(crate) const MAX_EVENTS: usize = c_int::MAX as usize / std::mem::size_of::<RawEvent>();

/// A handle to one kqueue; every clone shares the descriptor and the record.
pub(crate) struct Selector {
    shared: Arc<Kqueue>,
}

/// The kqueue descriptor, the record of the fds registered with it, and
/// the doorbells of the other sources (`kqueue_watch.rs`).
struct Kqueue {
    fd: OwnedFd,
    registrations: Registrations,
    doorbells: Doorbells,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector")
            .field("kqueue", &self.shared.fd.as_raw_fd())
            .finish_non_exhaustive()
    }
}

impl Selector {
    /// A close-on-exec kqueue: `kqueue1(O_CLOEXEC)` where the OS has it
    /// (NetBSD, OpenBSD), `kqueue()` then `fcntl(F_SETFD, FD_CLOEXEC)`
    /// elsewhere. (FreeBSD's `kqueuex` would do, but only exists from
    /// FreeBSD 14 on.)
    pub(crate) fn new() -> Result<Selector> {
        let kqueue = Kqueue {
            fd: new_kqueue()?,
            registrations: Registrations::default(),
            doorbells: Doorbells::default(),
        };
        Ok(Selector {
            shared: Arc::new(kqueue),
        })
    }

    /// Another handle to the same kqueue, sharing its descriptor and the
    /// record: no system call, no new descriptor. (A `dup` of a kqueue
    /// would work on the BSDs and macOS, but libkqueue accepts only the
    /// number `kqueue()` returned.)
    pub(crate) fn try_clone(&self) -> Result<Selector> {
        Ok(Selector {
            shared: Arc::clone(&self.shared),
        })
    }

    /// A handle that does not keep the kqueue open.
    pub(crate) fn downgrade(&self) -> WeakSelector {
        WeakSelector {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// The table of the doorbells sources without a descriptor listen to.
    pub(crate) fn doorbells(&self) -> &Doorbells {
        &self.shared.doorbells
    }

    /// One `kevent` adding a filter per direction of `interest`; one more,
    /// first, if the record says `fd` is registered already.
    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let new = Registration {
            token,
            interest: supported(interest)?,
            trigger,
        };
        let mut slot = self.slot(fd)?;
        if let Some(old) = *slot {
            // The record says registered. Either it is (an error), or the
            // fd was closed since, maybe with its number reused, and the
            // kernel forgot the filters: ask it.
            if self.any_filter_exists(fd, old)? {
                return Err(Error::AlreadyRegistered { fd, errno: None });
            }
            // Stale. The add below reports a closed fd (EBADF) itself.
            *slot = None;
        }
        let receipts = self.submit(&adds(fd, new))?;
        self.all_or_nothing(fd, new.interest, &receipts)?;
        *slot = Some(new);
        Ok(())
    }

    /// One `kevent` that deletes the old filters and adds the new ones; one
    /// more, to undo the adds, if none of the old filters existed.
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let new = Registration {
            token,
            interest: supported(interest)?,
            trigger,
        };
        let mut slot = self.slot(fd)?;
        let Some(old) = *slot else {
            return Err(Error::NotRegistered { fd, errno: None });
        };
        let mut changes = deletes(fd, old.interest);
        let deleted = changes.len();
        changes.extend(adds(fd, new));
        let receipts = self.submit(&changes)?;
        let (deleted, added) = receipts.split_at(deleted.min(receipts.len()));
        if let Some(mut gone) = registration_gone(fd, deleted) {
            *slot = None;
            // XNU finds filters by number without looking the fd up, so
            // for a closed fd only the adds say EBADF.
            if added.iter().any(|r| errno(r) == EBADF) {
                gone = closed(fd);
            }
            // The adds registered a file evq never registered (the fd
            // number was reused): take them back, so the call changes
            // nothing, as on epoll. (A poll running meanwhile may report
            // them once: a spurious event.)
            self.undo_adds(fd, new.interest, added);
            return Err(gone);
        }
        // Some old filter existed, so this is the registered file; any other
        // was dropped by the kernel itself (FreeBSD does for a pipe's
        // writer once the reader closed). The new filters now stand for it.
        let outcome = self.all_or_nothing(fd, new.interest, added);
        *slot = outcome.is_ok().then_some(new);
        outcome
    }

    /// One `kevent` deleting the registration's filters.
    pub(crate) fn deregister(&self, fd: RawFd) -> Result<()> {
        let mut slot = self.slot(fd)?;
        let Some(old) = *slot else {
            return Err(Error::NotRegistered { fd, errno: None });
        };
        let receipts = self.submit(&deletes(fd, old.interest))?;
        *slot = None;
        match registration_gone(fd, &receipts) {
            Some(gone) => Err(gone),
            None => Ok(()),
        }
    }

    /// One `kevent` wait into `events`' spare capacity, storing at most
    /// `max`; when a `Timer`, `Signals` or `ChildExit` is registered and
    /// its kernel filter is among the events, two more that turn it into
    /// the source's own event (`kqueue_watch.rs`).
    pub(crate) fn select(
        &self,
        events: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<()> {
        events.clear();
        let max = max.min(events.capacity()).min(MAX_EVENTS);
        let timespec = timeout.map(to_timespec);
        let timeout_ptr = timespec
            .as_ref()
            .map_or(ptr::null(), |t| t as *const sys::timespec);
        let kqueue = self.shared.fd.as_raw_fd();
        // SAFETY: `Event` is `#[repr(transparent)]` over `RawEvent`, so the
        // spare capacity is room for `events.capacity() >= max` RawEvents,
        // which the kernel may overwrite; it writes no more than `max`. The
        // timeout, if any, lives until the call returns.
        let n = unsafe {
            sys::kevent(
                kqueue,
                ptr::null(),
                0,
                events.as_mut_ptr().cast::<RawEvent>(),
                max as _,
                timeout_ptr,
            )
        };
        let n = check(n, "kevent", Some(kqueue))?;
        // SAFETY: kevent initialised the first `n <= max <= capacity`
        // entries, and every bit pattern is a valid RawEvent.
        unsafe { events.set_len(n as usize) };
        if self.shared.doorbells.any() {
            self.shared.doorbells.answer(kqueue, events, max)?;
        }
        Ok(())
    }

    /// Submits `changes` with `EV_RECEIPT` in one `kevent` call that drains
    /// no events, and returns each change's receipt.
    pub(crate) fn submit(&self, changes: &[RawEvent]) -> Result<Changes> {
        let mut receipts = Changes::default();
        receipts.fill(changes.len());
        let kqueue = self.shared.fd.as_raw_fd();
        let zero = sys::timespec::default();
        // SAFETY: `changes` is readable for `changes.len()` records and
        // `receipts` writable for as many; with EV_RECEIPT set on every
        // change (`change`), the kernel writes one receipt per change and
        // returns at once (zero timeout), draining no pending events.
        let n = unsafe {
            sys::kevent(
                kqueue,
                changes.as_ptr(),
                changes.len() as _,
                receipts.as_mut_ptr(),
                receipts.len() as _,
                &zero,
            )
        };
        let n = check(n, "kevent", Some(kqueue))?;
        receipts.truncate(n as usize);
        Ok(receipts)
    }

    /// `fd`'s slot in the record, locked: calls on the same fd wait for
    /// each other, calls on other fds go on. A negative number is no
    /// descriptor (`EBADF`).
    fn slot(&self, fd: RawFd) -> Result<std::sync::MutexGuard<'_, Option<Registration>>> {
        self.shared.registrations.lock(fd).ok_or_else(|| closed(fd))
    }

    /// Whether the kernel still has any of `registration`'s filters on
    /// `fd`. A change with no action flag neither adds, deletes, enables
    /// nor disables (so a fired oneshot stays disarmed) and carries the
    /// registered `udata` and filter flags; at most it re-reports current
    /// readiness, like any spurious event. For a filter the kernel does
    /// not have, it answers `ENOENT`.
    fn any_filter_exists(&self, fd: RawFd, registration: Registration) -> Result<bool> {
        let mut probes = Changes::default();
        for filter in filters(registration.interest) {
            probes.push(change(fd as usize, filter, PROBE, 0, registration.token));
        }
        let receipts = self.submit(&probes)?;
        Ok(receipts.iter().any(|r| errno(r) == 0))
    }

    /// Checks the receipts of the adds for `interest`'s filters; if one
    /// failed, deletes those that were added, so the call changes nothing
    /// (like `EPOLL_CTL_ADD`, which adds both directions or neither).
    fn all_or_nothing(&self, fd: RawFd, interest: Interest, receipts: &[RawEvent]) -> Result<()> {
        let Err(error) = first_error(receipts, "kevent(EV_ADD)", fd) else {
            return Ok(());
        };
        self.undo_adds(fd, interest, receipts);
        Err(error)
    }

    /// Deletes the filters of `interest` whose add succeeded, per
    /// `receipts`.
    fn undo_adds(&self, fd: RawFd, interest: Interest, receipts: &[RawEvent]) {
        let mut undo = Changes::default();
        for (receipt, filter) in receipts.iter().zip(filters(interest)) {
            if errno(receipt) == 0 {
                undo.push(change(fd as usize, filter, sys::EV_DELETE, 0, Token(0)));
            }
        }
        if !undo.is_empty() {
            // The error to report is the caller's; this cleanup cannot do
            // better than try.
            let _ = self.submit(&undo);
        }
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.fd.as_fd()
    }
}

/// A handle to a kqueue that does not keep it open: a registered `Timer`,
/// `Signals` or `ChildExit` holds one, so that dropping the `Poll` (and its
/// registries) closes the kqueue as it does with fds only.
#[derive(Debug)]
pub(crate) struct WeakSelector {
    shared: Weak<Kqueue>,
}

impl WeakSelector {
    /// The kqueue, if some `Selector` still has it open.
    pub(crate) fn upgrade(&self) -> Option<Selector> {
        self.shared.upgrade().map(|shared| Selector { shared })
    }

    /// Whether this is a handle to `selector`'s kqueue. (A `Weak` keeps its
    /// allocation, so no other kqueue can take its address.)
    pub(crate) fn is(&self, selector: &Selector) -> bool {
        ptr::eq(self.shared.as_ptr(), Arc::as_ptr(&selector.shared))
    }
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn new_kqueue() -> Result<OwnedFd> {
    // SAFETY: kqueue1 takes no pointers.
    let fd = check(
        unsafe { sys::kqueue1(sys::O_CLOEXEC as c_int) },
        "kqueue1",
        None,
    )?;
    // SAFETY: a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(any(target_os = "netbsd", target_os = "openbsd")))]
fn new_kqueue() -> Result<OwnedFd> {
    // SAFETY: kqueue takes no arguments.
    let fd = check(unsafe { sys::kqueue() }, "kqueue", None)?;
    // SAFETY: a new descriptor that nothing else owns; owning it at once
    // closes it if fcntl fails.
    let kqueue = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_SETFD takes one int argument.
    let ret = unsafe { sys::fcntl(fd, sys::F_SETFD as c_int, sys::FD_CLOEXEC as c_int) };
    check(ret, "fcntl(F_SETFD, FD_CLOEXEC)", Some(fd))?;
    Ok(kqueue)
}

/// The flags of the existence probe: none on a kernel. libkqueue's read
/// and write filters reject a change with no action flag unless it has
/// `EV_CLEAR` (for sockets and pipes; always, for regular files), without
/// setting `errno`, so the receipt would carry whatever error the thread
/// last saw (e.g. a futex's `EAGAIN`) and a registered fd would look gone.
/// With `EV_CLEAR` they accept it and change nothing but `udata`, as a
/// kernel does without it.
#[cfg(not(evq_force_kqueue))]
const PROBE: u32 = 0;
#[cfg(evq_force_kqueue)]
const PROBE: u32 = sys::EV_CLEAR;

/// Up to four kevent records on the stack: a registry call changes at most
/// two filters twice.
#[derive(Default)]
pub(crate) struct Changes {
    records: [RawEvent; 4],
    len: usize,
}

impl Changes {
    fn extend(&mut self, more: Changes) {
        for record in more.iter() {
            self.records[self.len] = *record;
            self.len += 1;
        }
    }

    fn push(&mut self, record: RawEvent) {
        self.records[self.len] = record;
        self.len += 1;
    }

    fn fill(&mut self, len: usize) {
        self.len = len;
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn as_mut_ptr(&mut self) -> *mut RawEvent {
        self.records.as_mut_ptr()
    }
}

impl std::ops::Deref for Changes {
    type Target = [RawEvent];
    fn deref(&self) -> &[RawEvent] {
        &self.records[..self.len]
    }
}

/// `EV_SET`, which bindgen cannot translate: a change record built from the
/// generated struct, whatever fields this OS adds. Every change asks for a
/// receipt.
pub(crate) fn change(ident: usize, filter: i64, flags: u32, fflags: u32, token: Token) -> RawEvent {
    RawEvent {
        ident: ident as _,
        filter: filter as _,
        flags: (flags | sys::EV_RECEIPT) as _,
        fflags: fflags as _,
        udata: token.0 as _,
        ..RawEvent::default()
    }
}

fn filters(interest: Interest) -> impl Iterator<Item = i64> {
    [
        (Interest::READABLE, sys::EVFILT_READ as i64),
        (Interest::WRITABLE, sys::EVFILT_WRITE as i64),
    ]
    .into_iter()
    .filter(move |(flag, _)| interest.contains(*flag))
    .map(|(_, filter)| filter)
}

fn adds(fd: RawFd, registration: Registration) -> Changes {
    let trigger = match registration.trigger {
        Trigger::Edge => sys::EV_CLEAR,
        Trigger::Level => 0,
        Trigger::Oneshot => sys::EV_DISPATCH,
        Trigger::EdgeOneshot => sys::EV_CLEAR | sys::EV_DISPATCH,
    };
    let mut changes = Changes::default();
    for filter in filters(registration.interest) {
        changes.push(change(
            fd as usize,
            filter,
            sys::EV_ADD | sys::EV_ENABLE | trigger,
            0,
            registration.token,
        ));
    }
    changes
}

fn deletes(fd: RawFd, interest: Interest) -> Changes {
    let mut changes = Changes::default();
    for filter in filters(interest) {
        changes.push(change(fd as usize, filter, sys::EV_DELETE, 0, Token(0)));
    }
    changes
}

/// The interest kqueue can watch, or `InvalidInput`. (`Registry` has
/// already rejected an empty one.)
fn supported(interest: Interest) -> Result<Interest> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if interest.contains(Interest::PRIORITY) {
        return Err(Error::InvalidInput {
            reason: "kqueue has no priority filter: PRIORITY needs the epoll backend",
        });
    }
    Ok(interest & (Interest::READABLE | Interest::WRITABLE))
}

/// A receipt's outcome: with `EV_RECEIPT`, `EV_ERROR` is always set and
/// `data` holds the errno, 0 for success.
fn errno(receipt: &RawEvent) -> i32 {
    if flags(receipt) & sys::EV_ERROR != 0 {
        receipt.data as i32
    } else {
        0
    }
}

/// A closed descriptor, as a receipt's errno.
const EBADF: i32 = sys::EBADF as i32;

/// Why a registration whose filters the `EV_DELETE` `receipts` were for is
/// gone, if it is: every delete failed. With `EBADF` the fd is closed (as
/// epoll reports it; FreeBSD looks the fd up first). Otherwise the kernel
/// had none of the filters (`ENOENT`): the fd was closed since it was
/// registered, and its number is free (XNU answers `ENOENT` then) or names
/// a file evq never registered (epoll answers `ENOENT` for that too), or
/// the kernel dropped every filter by itself; either way, nothing is
/// registered.
fn registration_gone(fd: RawFd, receipts: &[RawEvent]) -> Option<Error> {
    if receipts.iter().any(|r| errno(r) == 0) {
        return None;
    }
    if receipts.iter().all(|r| errno(r) == EBADF) {
        return Some(closed(fd));
    }
    Some(Error::NotRegistered { fd, errno: None })
}

/// The error for an fd that was closed since it was registered, as epoll
/// reports it.
fn closed(fd: RawFd) -> Error {
    Error::Os {
        operation: "kevent",
        fd: Some(fd),
        source: std::io::Error::from_raw_os_error(EBADF),
    }
}

/// The first failed change among `receipts`, as an `Os` error.
pub(crate) fn first_error(receipts: &[RawEvent], operation: &'static str, fd: RawFd) -> Result<()> {
    match receipts.iter().map(errno).find(|&errno| errno != 0) {
        None => Ok(()),
        Some(errno) => Err(Error::Os {
            operation,
            fd: Some(fd),
            source: std::io::Error::from_raw_os_error(errno),
        }),
    }
}

/// A `kevent` timeout: to the nanosecond (the kernel may count coarser
/// ticks, rounding up); seconds clamped to
/// `i32::MAX` (68 years) to fit any `time_t`, `Poll::poll` waiting again
/// for the rest.
fn to_timespec(timeout: Duration) -> sys::timespec {
    sys::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as _,
        tv_nsec: timeout.subsec_nanos() as _,
    }
}

// `flags` is u16 on most BSDs and u32 on NetBSD; `filter` i16 or u32.
#[allow(clippy::unnecessary_cast)]
#[inline]
fn flags(event: &RawEvent) -> u32 {
    event.flags as u32
}

#[allow(clippy::unnecessary_cast)]
#[inline]
pub(crate) fn filter(event: &RawEvent) -> i64 {
    event.filter as i64
}

#[inline]
pub(crate) fn token(event: &RawEvent) -> Token {
    Token(event.udata as usize)
}

/// `EVFILT_READ`, or the waker's `EVFILT_USER`.
#[inline]
pub(crate) fn is_readable(event: &RawEvent) -> bool {
    filter(event) == sys::EVFILT_READ as i64 || filter(event) == sys::EVFILT_USER as i64
}

#[inline]
pub(crate) fn is_writable(event: &RawEvent) -> bool {
    filter(event) == sys::EVFILT_WRITE as i64
}

/// `EV_ERROR`, or `EV_EOF` with an error code in `fflags` (a socket error).
#[inline]
pub(crate) fn is_error(event: &RawEvent) -> bool {
    flags(event) & sys::EV_ERROR != 0 || (flags(event) & sys::EV_EOF != 0 && event.fflags != 0)
}

#[inline]
pub(crate) fn is_read_closed(event: &RawEvent) -> bool {
    filter(event) == sys::EVFILT_READ as i64 && flags(event) & sys::EV_EOF != 0
}

#[inline]
pub(crate) fn is_write_closed(event: &RawEvent) -> bool {
    filter(event) == sys::EVFILT_WRITE as i64 && flags(event) & sys::EV_EOF != 0
}

/// kqueue has no priority filter.
#[inline]
pub(crate) fn is_priority(_event: &RawEvent) -> bool {
    false
}

/// The filter and flags in `event` by name, for `Debug`.
pub(crate) fn flag_names(event: &RawEvent) -> impl Iterator<Item = &'static str> {
    let filter_name = [
        (sys::EVFILT_READ as i64, "EVFILT_READ"),
        (sys::EVFILT_WRITE as i64, "EVFILT_WRITE"),
        (sys::EVFILT_USER as i64, "EVFILT_USER"),
    ]
    .into_iter()
    .find(|(f, _)| *f == filter(event))
    .map(|(_, name)| name);
    let flags = flags(event);
    let flag_names = [(sys::EV_EOF, "EV_EOF"), (sys::EV_ERROR, "EV_ERROR")]
        .into_iter()
        .filter(move |(bit, _)| flags & bit != 0)
        .map(|(_, name)| name);
    filter_name.into_iter().chain(flag_names)
}
