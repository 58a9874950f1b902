//! The io_uring backend (cargo feature `io-uring`, Linux 5.19 or later):
//! readiness through `IORING_OP_POLL_ADD` requests, on rings evq maps and
//! drives itself.
//!
//! # How a registration becomes events
//!
//! Each registered fd has one poll request in the kernel, tagged with
//! `user_data = generation << 32 | fd`:
//!
//! | trigger | request | after a completion |
//! |---|---|---|
//! | `Edge` | multishot (`IORING_POLL_ADD_MULTI`): a completion per wake-up of the fd | nothing; re-armed if the kernel ends it |
//! | `Level` | single-shot, re-queued after each completion | the next poll submits it, and the kernel completes it at once if the fd is still ready |
//! | `Oneshot`, `EdgeOneshot` | single-shot | disarmed until `reregister` |
//!
//! Level uses a re-armed single-shot request rather than
//! `IORING_POLL_ADD_LEVEL`: a multishot request only posts on wake-ups, so
//! it cannot report "still ready" on the next poll the way epoll does (and
//! the kernel refuses `IORING_POLL_ADD_MULTI | IORING_POLL_ADD_LEVEL` with
//! `EINVAL`). Likewise `reregister` removes and re-adds instead of updating
//! in place (`IORING_POLL_UPDATE_EVENTS`): an update keeps the request's
//! trigger and cannot revive a fired single-shot request, and the two
//! entries cost no more system calls than one.
//!
//! `register`, `reregister` and `deregister` answer `AlreadyRegistered` and
//! `NotRegistered` from evq's own record (`registrations.rs`) and only
//! *queue* their `POLL_ADD`/`POLL_REMOVE` entries in the SQ. The next poll
//! submits them with the same `io_uring_enter` that waits, so registering
//! costs no system call of its own. They are submitted at once instead when
//! the SQ is full or when a poll is blocked on another thread (the
//! registration must take effect during that wait). A registration
//! deregistered before any poll submitted it never reaches the kernel at
//! all: its entry is taken back out of the SQ.
//!
//! `reregister` removes the old request (`POLL_REMOVE`) and adds a new one
//! with a new generation; completions of the old one still in the ring are
//! dropped by their generation, which is how "no later poll reports a
//! deregistered source" holds.
//!
//! # A zero-timeout poll makes no system call
//!
//! A poll request completes from the fd's wake-up callback (in whatever
//! thread made the fd ready) by queueing *task work* to the thread that
//! submitted the request; the completion reaches the CQ when that thread
//! runs it, on its next entry into the kernel. The ring is set up with
//! `IORING_SETUP_COOP_TASKRUN` (queue the work without interrupting the
//! thread: no IPI; a sleeping thread is still woken) and
//! `IORING_SETUP_TASKRUN_FLAG` (the kernel sets `IORING_SQ_TASKRUN` in the
//! shared SQ flags *before* it queues the work). So `poll(Some(ZERO))`
//! reads the CQ, and enters the kernel only if it has entries to submit or
//! the kernel flags pending task work or a CQ overflow: readiness the kernel
//! has already seen is either in the CQ or flagged. `DEFER_TASKRUN` would
//! save the flag check but requires a single submitting thread, which a
//! `Registry` shared between threads cannot promise.
//!
//! # Differences from epoll
//!
//! - A poll request holds a reference to the open file. Closing a
//!   registered fd therefore does not remove its registration (epoll
//!   removes it with the file's last fd): the file stays open, and keeps
//!   reporting, until `deregister` and the next poll. The record is keyed by
//!   fd number alone, so a reused number reads as registered until then.
//!   A registration whose fd was already closed when the kernel got its
//!   entry is dropped (the kernel answers `EBADF` asynchronously).
//!   If the number was reused by then, the request watches (and holds
//!   open) whatever file has it now, with the old token.
//! - Regular files and directories, which epoll refuses with `EPERM`, are
//!   always ready: an edge request's first completion is its last, so it is
//!   reported once and disarmed; level requests are re-armed and report
//!   on every poll.
//! - An event's flags are those of its completions, not of the fd when
//!   `poll` runs: the kernel takes a completion's mask when the fd wakes
//!   up, from the wake-up itself where the waker names what happened (a
//!   socket's new data says `EPOLLIN | EPOLLPRI | EPOLLRDNORM |
//!   EPOLLRDBAND`, so `is_priority()` with `PRIORITY` in the interest), and
//!   the completion waits in the CQ; by the time a poll reads it the flags
//!   may be stale. The kernel also watches `EPOLLRDHUP` whatever the
//!   interest (`IO_POLL_UNMASK`), so a peer's shutdown reports
//!   `is_read_closed()` to a `WRITABLE`-only registration.
//! - A poll that fills its buffer stops reading the CQ, so a second
//!   completion of an fd it reported waits for the next poll, which reports
//!   the fd again (epoll keeps one ready entry per fd).
//! - Dropping the ring makes the kernel queue task work to every thread
//!   that ever submitted to it (to detach them), which interrupts a blocking
//!   call there once with `EINTR`.
//! - The kernel cancels the requests a thread submitted when that thread
//!   exits (a registration made while a poll was blocked on another
//!   thread is submitted by the registering thread). evq submits a
//!   cancelled request again, so the registration keeps reporting, from
//!   the poll that reads the cancellation on.
//! - Completions of requests submitted by a thread other than the poller
//!   (a registration made while a poll was blocked, or before the `Poll`
//!   moved to another thread) run as task work on that thread: at its next
//!   system call, when it sleeps, at its next scheduler tick at the latest,
//!   or, once it has exited, from a kernel worker a tick later. Until then
//!   the kernel's `IORING_SQ_TASKRUN` flag stays set, and a zero-timeout
//!   poll enters the kernel each time (correct, but not free).
//!
//! # References
//! - [`io_uring(7)`](https://man7.org/linux/man-pages/man7/io_uring.7.html)
//! - [`io_uring_prep_poll_add(3)`](https://man7.org/linux/man-pages/man3/io_uring_prep_poll_add.3.html),
//!   [`io_uring_prep_poll_multishot(3)`](https://man7.org/linux/man-pages/man3/io_uring_prep_poll_multishot.3.html)
//! - [`io_uring_setup(2)`](https://man7.org/linux/man-pages/man2/io_uring_setup.2.html)
//!   (`IORING_SETUP_COOP_TASKRUN`, `IORING_SETUP_TASKRUN_FLAG`)

#[cfg(test)]
mod differences;
mod registrations;
mod ring;
mod submission;
#[cfg(test)]
mod tests;

use self::registrations::{Armed, Registration, Registrations};
use self::ring::Ring;
use crate::backend::epoll::RawEvent;
use crate::{sys, Error, Event, Interest, Result, Token, Trigger};
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The `user_data` of entries whose completions evq ignores (`POLL_REMOVE`,
/// and `NOP`s standing in for withdrawn entries). No request has it: a
/// request's low half is a non-negative fd.
const INTERNAL: u64 = u64::MAX;

/// The SQ flags that oblige a zero-timeout poll to enter the kernel.
const MUST_ENTER: u32 = sys::IORING_SQ_TASKRUN | sys::IORING_SQ_CQ_OVERFLOW;

/// One io_uring instance and the record of its registrations.
#[derive(Debug)]
pub(crate) struct Selector {
    /// Shared by every clone (`Registry::try_clone`), as on epoll and
    /// kqueue: the ring and its descriptor live while any handle does.
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    ring: Ring,
    state: Mutex<State>,
    /// `state.unclaimed`, readable without the lock by the zero-timeout
    /// fast path.
    unclaimed: AtomicU32,
    /// A poll is blocked (or about to block) in `io_uring_enter`; set and
    /// cleared under the lock.
    waiting: AtomicBool,
}

#[derive(Debug)]
struct State {
    /// The next SQ position evq writes.
    sq_tail: u32,
    /// Entries pushed that no `io_uring_enter` has been asked to submit:
    /// always the last `unclaimed` positions before `sq_tail`.
    unclaimed: u32,
    next_generation: u32,
    /// Counts reaps, for merging completions of one fd into one event.
    reaps: u64,
    registrations: Registrations,
}

impl Selector {
    /// A new ring (see `ring.rs` for the setup flags).
    pub(crate) fn new() -> Result<Selector> {
        Ok(Selector {
            shared: Arc::new(Shared {
                ring: Ring::new()?,
                state: Mutex::new(State {
                    sq_tail: 0,
                    unclaimed: 0,
                    next_generation: 0,
                    reaps: 0,
                    registrations: Registrations::default(),
                }),
                unclaimed: AtomicU32::new(0),
                waiting: AtomicBool::new(false),
            }),
        })
    }

    /// Another handle to the same ring and record, sharing its descriptor
    /// (as on epoll and kqueue): no system call.
    pub(crate) fn try_clone(&self) -> Result<Selector> {
        Ok(Selector {
            shared: Arc::clone(&self.shared),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement that can panic, so
        // a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a `POLL_ADD` for a new registration.
    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut state = self.lock();
        if fd < 0 || state.registrations.contains(fd) {
            // epoll_ctl says EBADF for a negative fd; here it would be a
            // registration the kernel can never see.
            return if fd < 0 {
                Err(Error::Os {
                    operation: "io_uring POLL_ADD",
                    fd: Some(fd),
                    source: std::io::Error::from_raw_os_error(sys::EBADF as i32),
                })
            } else {
                Err(Error::AlreadyRegistered { fd, errno: None })
            };
        }
        state.registrations.insert(
            fd,
            Registration {
                token,
                interest,
                trigger,
                generation: 0,
                armed: Armed::Disarmed,
                multishot_ran: false,
                reported_in: 0,
                slot: 0,
            },
        );
        self.arm(&mut state, fd)?;
        self.submit_if_waiting(&mut state)
    }

    /// Replaces the request of a registered fd.
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut state = self.lock();
        let Some(registration) = state.registrations.get_mut(fd) else {
            return Err(Error::NotRegistered { fd, errno: None });
        };
        registration.token = token;
        registration.interest = interest;
        registration.trigger = trigger;
        self.disarm(&mut state, fd)?;
        self.arm(&mut state, fd)?;
        self.submit_if_waiting(&mut state)
    }

    /// Forgets a registered fd. A request the kernel may hold is removed
    /// at once (one `io_uring_enter`), so that the kernel lets go of the
    /// file before this returns, as epoll does: a socket closed right after
    /// is really closed. A request still in the SQ is just taken back.
    pub(crate) fn deregister(&self, fd: RawFd) -> Result<()> {
        let mut state = self.lock();
        if !state.registrations.contains(fd) {
            return Err(Error::NotRegistered { fd, errno: None });
        }
        let removing = self.disarm(&mut state, fd)?;
        state.registrations.remove(fd);
        if removing {
            self.submit(&mut state)
        } else {
            self.submit_if_waiting(&mut state)
        }
    }

    /// Collects completions into `events` (at most `max`), entering the
    /// kernel only when there is something to submit, task work to run,
    /// an overflow to flush, or a timeout to wait.
    pub(crate) fn select(
        &self,
        events: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<()> {
        events.clear();
        let max = max.min(events.capacity());
        let wait = timeout != Some(Duration::ZERO);
        if !wait && !self.has_work() {
            // The zero-syscall path: nothing queued, nothing completed,
            // nothing pending in the kernel for this ring.
            return Ok(());
        }
        let mut state = self.lock();
        state.reaps += 1;
        self.reap(&mut state, events, max);
        if !events.is_empty() {
            // Queued registrations reach the kernel with this poll, even
            // when the CQ already had events (or a busy loop would starve
            // them); what they complete at once is reported too.
            if state.unclaimed > 0 {
                // On failure the entries stay queued for the next poll,
                // and these events are still good.
                if self.submit(&mut state).is_ok() {
                    self.reap(&mut state, events, max);
                }
            }
            return Ok(());
        }
        let must_enter = state.unclaimed > 0 || self.shared.ring.sq_flags() & MUST_ENTER != 0;
        if !wait && !must_enter {
            return Ok(());
        }
        let to_submit = state.claim(&self.shared);
        self.shared.waiting.store(wait, Ordering::Relaxed);
        drop(state);
        let result = self.shared.ring.enter(to_submit, wait, timeout);
        let mut state = self.lock();
        self.shared.waiting.store(false, Ordering::Relaxed);
        state.unclaim(&self.shared, to_submit, &result);
        self.reap(&mut state, events, max);
        match result {
            Err(error) if events.is_empty() => Err(error),
            _ => Ok(()),
        }
    }

    /// Whether a zero-timeout poll has to look further than the fast path.
    fn has_work(&self) -> bool {
        let ring = &self.shared.ring;
        ring.cq_tail() != ring.cq_head()
            || self.shared.unclaimed.load(Ordering::Acquire) != 0
            || ring.sq_flags() & MUST_ENTER != 0
    }

    /// Turns the completions in the CQ into events, merging those of one
    /// registration within one `select` (`state.reaps`).
    fn reap(&self, state: &mut State, events: &mut Vec<Event>, max: usize) {
        let ring = &self.shared.ring;
        let mut head = ring.cq_head();
        let tail = ring.cq_tail();
        while head != tail && events.len() < max {
            let (user_data, res, flags) = ring.cqe(head);
            head = head.wrapping_add(1);
            self.complete(state, user_data, res, flags, events);
        }
        ring.set_cq_head(head);
    }

    /// Handles one completion: drops it if it is internal or stale, else
    /// reports it and updates the registration's request state.
    fn complete(
        &self,
        state: &mut State,
        user_data: u64,
        res: i32,
        flags: u32,
        events: &mut Vec<Event>,
    ) {
        if user_data == INTERNAL {
            return;
        }
        let fd = user_data as u32 as RawFd;
        let generation = (user_data >> 32) as u32;
        let reaps = state.reaps;
        let Some(registration) = state.registrations.get_mut(fd) else {
            return;
        };
        if registration.generation != generation || registration.armed == Armed::Disarmed {
            return;
        }
        // A completion means the kernel got the request.
        registration.armed = Armed::InKernel;
        let more = flags & sys::IORING_CQE_F_MORE != 0;
        if res < 0 {
            registration.armed = Armed::Disarmed;
            match -res as u32 {
                // The fd was closed before the kernel saw the request: gone,
                // as an epoll registration goes with its file.
                sys::EBADF => {
                    state.registrations.remove(fd);
                }
                // Not by evq (its removals change the generation first): the
                // kernel cancels a thread's requests when the thread exits,
                // and a registration submitted by a thread that has since
                // exited would fall silent. Submit it again, from here.
                sys::ECANCELED => {
                    // Only fails when the SQ is full and cannot be
                    // submitted; the registration then stays disarmed.
                    let _ = self.arm(state, fd);
                }
                _ => report(registration, sys::EPOLLERR, reaps, events),
            }
            return;
        }
        if more {
            registration.multishot_ran = true;
        } else {
            let rearm = match registration.trigger {
                // A multishot request the kernel ended; one that never ran
                // (its first completion is its last) is a file the kernel
                // cannot watch, reported once.
                Trigger::Edge => registration.multishot_ran,
                Trigger::Level => true,
                Trigger::Oneshot | Trigger::EdgeOneshot => false,
            };
            registration.armed = Armed::Disarmed;
            if rearm {
                // Only fails when the SQ is full and cannot be submitted;
                // the registration then stays disarmed, reported below.
                let _ = self.arm(state, fd);
            }
        }
        if let Some(registration) = state.registrations.get_mut(fd) {
            report(registration, res as u32, reaps, events);
        }
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.ring.as_fd()
    }
}

/// Adds `mask` to the registration's event in this reap, or a new event.
fn report(registration: &mut Registration, mask: u32, reaps: u64, events: &mut Vec<Event>) {
    if mask == 0 {
        return;
    }
    if registration.reported_in == reaps && registration.slot < events.len() {
        let event = &mut events[registration.slot];
        let mut raw = event.raw();
        raw.events |= mask;
        *event = Event::from_raw(raw);
        return;
    }
    registration.reported_in = reaps;
    registration.slot = events.len();
    events.push(Event::from_raw(RawEvent {
        events: mask,
        data: sys::epoll_data {
            u64_: registration.token.0 as u64,
        },
    }));
}
