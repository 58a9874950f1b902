//! One io_uring instance: its descriptor, the two rings and the array of
//! submission entries the kernel shares with us, and `io_uring_enter`.
//!
//! # Who owns what, and the memory ordering
//!
//! The kernel and evq share four counters (free-running `u32`s, indexed
//! modulo the ring size with `mask`):
//!
//! | counter | written by | read by | evq's accesses |
//! |---|---|---|---|
//! | SQ tail | evq (under the selector's lock: one writer) | kernel | store `Release` |
//! | SQ head | kernel | evq | load `Acquire` |
//! | CQ tail | kernel | evq | load `Acquire` |
//! | CQ head | evq (under the selector's lock: one writer) | kernel | store `Release` |
//!
//! - *Submission.* evq writes an entry into the slot at `tail & mask`, then
//!   stores `tail + 1` with `Release`; the kernel loads the tail with
//!   `smp_load_acquire` before it reads entries, so it sees the whole entry.
//!   A slot is free again once the kernel's head has passed it: the kernel
//!   copies an entry out before it stores the new head with
//!   `smp_store_release`, and evq loads the head with `Acquire` before it
//!   overwrites a slot, so the kernel's reads of the old entry happen before
//!   evq's writes of the new one.
//! - *Completion.* The kernel writes completion entries, then stores the
//!   tail with release semantics; evq loads the tail with `Acquire` and only
//!   then reads the entries below it. evq copies each entry out before it
//!   stores the new head with `Release`, which the kernel observes (through
//!   a control dependency in `io_get_cqe`) before it reuses those slots.
//! - *Flags.* The kernel sets `IORING_SQ_TASKRUN` and `IORING_SQ_CQ_OVERFLOW`
//!   in the SQ flags word with atomic read-modify-writes; evq only loads it
//!   (`Acquire`), to decide whether a zero-timeout poll must enter the
//!   kernel (see the module docs of `uring`).
//!
//! The SQ's indirection array is filled once with the identity (slot `i`
//! holds entry `i`), before any tail is published, and never written again.
//!
//! # References
//! - [`io_uring_setup(2)`](https://man7.org/linux/man-pages/man2/io_uring_setup.2.html)
//! - [`io_uring_enter(2)`](https://man7.org/linux/man-pages/man2/io_uring_enter.2.html)
//! - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)

use crate::backend::syscall::check;
use crate::{sys, Error, Result};
use std::ffi::{c_long, c_void};
use std::io;
use std::mem::size_of;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Submission entries: enough for a burst of registrations between polls;
/// a full ring is submitted at once and refilled.
const SQ_ENTRIES: u32 = 256;
/// Completion entries: room for every registration of a large server to
/// report once between two polls. The kernel keeps what does not fit
/// (`IORING_FEAT_NODROP`) and says so with `IORING_SQ_CQ_OVERFLOW`.
const CQ_ENTRIES: u32 = 8192;

/// `COOP_TASKRUN`: the kernel posts a poll's completion from task work of
/// the submitting thread without interrupting it (no IPI; a sleeping thread
/// is still woken); `TASKRUN_FLAG`: it tells us such work is pending with
/// `IORING_SQ_TASKRUN`. `SUBMIT_ALL`: one bad entry does not stop a batch.
/// `CQSIZE`/`CLAMP`: our completion ring size, clamped to the kernel's most.
const SETUP_FLAGS: u32 = sys::IORING_SETUP_CQSIZE
    | sys::IORING_SETUP_CLAMP
    | sys::IORING_SETUP_SUBMIT_ALL
    | sys::IORING_SETUP_COOP_TASKRUN
    | sys::IORING_SETUP_TASKRUN_FLAG;

/// What the backend relies on: one mmap for both rings, completions never
/// dropped, a timeout argument to `io_uring_enter`, and entries whose
/// success posts no completion.
const REQUIRED_FEATURES: u32 = sys::IORING_FEAT_SINGLE_MMAP
    | sys::IORING_FEAT_NODROP
    | sys::IORING_FEAT_EXT_ARG
    | sys::IORING_FEAT_CQE_SKIP;

/// A shared mapping, unmapped on drop.
#[derive(Debug)]
struct Mapping {
    start: NonNull<c_void>,
    len: usize,
}

impl Mapping {
    /// `mmap(MAP_SHARED | MAP_POPULATE)` of `len` bytes of `fd` at `offset`.
    fn new(fd: BorrowedFd<'_>, len: usize, offset: u32) -> Result<Mapping> {
        // SAFETY: a fresh mapping at an address of the kernel's choosing
        // (null hint) overlaps nothing Rust knows about; the arguments are
        // plain values.
        let start = unsafe {
            sys::mmap(
                ptr::null_mut(),
                len,
                (sys::PROT_READ | sys::PROT_WRITE) as i32,
                (sys::MAP_SHARED | sys::MAP_POPULATE) as i32,
                fd.as_raw_fd(),
                offset as sys::__off_t,
            )
        };
        // MAP_FAILED is `(void *) -1`.
        if start as isize == -1 {
            return Err(Error::last_os_error("mmap(io_uring)", Some(fd.as_raw_fd())));
        }
        let start = NonNull::new(start).ok_or_else(|| Error::Os {
            operation: "mmap(io_uring)",
            fd: Some(fd.as_raw_fd()),
            source: io::Error::new(io::ErrorKind::Other, "mapped at address 0"),
        })?;
        Ok(Mapping { start, len })
    }

    /// The address `offset` bytes into the mapping, as a `T`.
    ///
    /// # Safety
    /// `offset` plus the size of `T` must lie within the mapping, and
    /// `offset` must be aligned for `T`.
    unsafe fn at<T>(&self, offset: u32) -> *mut T {
        // SAFETY: in bounds, by the caller's promise.
        unsafe { self.start.as_ptr().cast::<u8>().add(offset as usize).cast() }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `start`/`len` are exactly one mapping made by `new`, and
        // no pointer into it outlives the `Ring` that owns it.
        unsafe { sys::munmap(self.start.as_ptr(), self.len) };
    }
}

/// One ring of the pair: where its counters are, and its size.
#[derive(Debug)]
struct Counters {
    head: *const AtomicU32,
    tail: *const AtomicU32,
    mask: u32,
    entries: u32,
}

/// The io_uring instance.
#[derive(Debug)]
pub(super) struct Ring {
    sq: Counters,
    sq_flags: *const AtomicU32,
    sqes: *mut sys::io_uring_sqe,
    cq: Counters,
    cqes: *const sys::io_uring_cqe,
    // Dropped after the pointers above stop being used; the mappings are
    // unmapped before the descriptor is closed (field order).
    _sqe_map: Mapping,
    _ring_map: Mapping,
    fd: OwnedFd,
}

// SAFETY: the raw pointers point into mappings the Ring owns, which live as
// long as it does. The counters are only accessed through atomics; SQ slots
// and the CQ head are written only by the selector while it holds its lock
// (one writer at a time), as the module docs set out.
unsafe impl Send for Ring {}
// SAFETY: as above.
unsafe impl Sync for Ring {}

/// A submission entry with every field zero: no flags, no extra options.
pub(super) fn blank_sqe() -> sys::io_uring_sqe {
    // SAFETY: io_uring_sqe is plain integers and unions of plain integers;
    // all zero bits are a valid value of each.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

impl Ring {
    /// `io_uring_setup` with [`SETUP_FLAGS`], then the mmaps of the rings.
    ///
    /// Fails if the kernel refuses io_uring (`ENOSYS`; `EPERM` when
    /// `kernel.io_uring_disabled` or seccomp forbids it), lacks a setup
    /// flag (`EINVAL`, before Linux 5.19) or a required feature
    /// (`Unsupported`).
    pub(super) fn new() -> Result<Ring> {
        let mut params: sys::io_uring_params =
            // SAFETY: plain integers; zero is the documented starting value.
            unsafe { MaybeUninit::zeroed().assume_init() };
        params.flags = SETUP_FLAGS;
        params.cq_entries = CQ_ENTRIES;
        // SAFETY: `params` is a valid, exclusively borrowed io_uring_params
        // that the kernel reads and fills in during the call.
        let ret = unsafe {
            sys::syscall(
                sys::__NR_io_uring_setup as c_long,
                SQ_ENTRIES,
                &mut params as *mut sys::io_uring_params,
            )
        };
        let fd = check(ret as isize, "io_uring_setup", None)?;
        // SAFETY: io_uring_setup returned a new descriptor (close-on-exec,
        // as every io_uring descriptor is) that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        if params.features & REQUIRED_FEATURES != REQUIRED_FEATURES {
            return Err(Error::Os {
                operation: "io_uring_setup",
                fd: Some(fd.as_raw_fd()),
                source: io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the kernel's io_uring lacks SINGLE_MMAP, NODROP, EXT_ARG or CQE_SKIP",
                ),
            });
        }

        let sq_off = params.sq_off;
        let cq_off = params.cq_off;
        let sq_len = sq_off.array as usize + params.sq_entries as usize * size_of::<u32>();
        let cq_len =
            cq_off.cqes as usize + params.cq_entries as usize * size_of::<sys::io_uring_cqe>();
        let ring_map = Mapping::new(fd.as_fd(), sq_len.max(cq_len), sys::IORING_OFF_SQ_RING)?;
        let sqe_len = params.sq_entries as usize * size_of::<sys::io_uring_sqe>();
        let sqe_map = Mapping::new(fd.as_fd(), sqe_len, sys::IORING_OFF_SQES)?;

        // SAFETY: the kernel's offsets say where each field lies within
        // the mapping it sized for us (sq_len and cq_len above), each
        // naturally aligned, so every `at` is in bounds; the identity
        // writes go to the SQ array, `sq_entries` u32s the kernel does not
        // read before a tail is published.
        let ring = unsafe {
            let sq = Counters {
                head: ring_map.at(sq_off.head),
                tail: ring_map.at(sq_off.tail),
                mask: *ring_map.at::<u32>(sq_off.ring_mask),
                entries: *ring_map.at::<u32>(sq_off.ring_entries),
            };
            let cq = Counters {
                head: ring_map.at(cq_off.head),
                tail: ring_map.at(cq_off.tail),
                mask: *ring_map.at::<u32>(cq_off.ring_mask),
                entries: *ring_map.at::<u32>(cq_off.ring_entries),
            };
            // The identity indirection, before any tail is published.
            let array = ring_map.at::<u32>(sq_off.array);
            for i in 0..sq.entries {
                array.add(i as usize).write(i);
            }
            Ring {
                sq_flags: ring_map.at(sq_off.flags),
                sqes: sqe_map.at(0),
                cqes: ring_map.at(cq_off.cqes),
                sq,
                cq,
                _sqe_map: sqe_map,
                _ring_map: ring_map,
                fd,
            }
        };
        Ok(ring)
    }

    fn load(counter: *const AtomicU32, order: Ordering) -> u32 {
        // SAFETY: the counter lies in a mapping owned by the Ring (see
        // `new`) and is only ever accessed atomically, by both sides.
        unsafe { &*counter }.load(order)
    }

    fn store(counter: *const AtomicU32, value: u32, order: Ordering) {
        // SAFETY: as in `load`.
        unsafe { &*counter }.store(value, order)
    }

    /// How many entries the SQ can take after `tail` (evq's own tail).
    pub(super) fn sq_space(&self, tail: u32) -> u32 {
        let head = Self::load(self.sq.head, Ordering::Acquire);
        self.sq.entries - tail.wrapping_sub(head)
    }

    /// Writes `sqe` into the slot for position `tail`.
    ///
    /// The caller holds the selector's lock and has checked that the slot is
    /// free (`sq_space`) or still unclaimed by any `io_uring_enter` (a
    /// position it pushed and no enter has been asked to submit).
    pub(super) fn write_sqe(&self, tail: u32, sqe: sys::io_uring_sqe) {
        let slot = (tail & self.sq.mask) as usize;
        // SAFETY: `slot < entries`, so within the SQE mapping; the kernel
        // reads a slot only between its head and the number of entries
        // enters have asked for, which this slot is not (caller's promise),
        // and only evq writes slots, under its lock.
        unsafe { self.sqes.add(slot).write(sqe) };
    }

    /// Hands entries up to `tail` to the kernel (they are submitted by the
    /// next `io_uring_enter` that asks for them).
    pub(super) fn publish_sq_tail(&self, tail: u32) {
        Self::store(self.sq.tail, tail, Ordering::Release);
    }

    /// The kernel's SQ flags word (`IORING_SQ_*`).
    pub(super) fn sq_flags(&self) -> u32 {
        Self::load(self.sq_flags, Ordering::Acquire)
    }

    /// The CQ head as evq last stored it (evq is its only writer).
    pub(super) fn cq_head(&self) -> u32 {
        Self::load(self.cq.head, Ordering::Relaxed)
    }

    /// The kernel's CQ tail: every entry below it is written.
    pub(super) fn cq_tail(&self) -> u32 {
        Self::load(self.cq.tail, Ordering::Acquire)
    }

    /// A copy of the completion at position `head`, which must lie below a
    /// tail returned by `cq_tail` and at or above the stored head.
    pub(super) fn cqe(&self, head: u32) -> (u64, i32, u32) {
        let slot = (head & self.cq.mask) as usize;
        // SAFETY: `slot < entries`, within the mapping; the entry was
        // written before the tail the caller acquired, and the kernel does
        // not reuse it before evq stores a head past it.
        let cqe = unsafe { &*self.cqes.add(slot) };
        (cqe.user_data, cqe.res, cqe.flags)
    }

    /// Releases the completions below `head` back to the kernel.
    pub(super) fn set_cq_head(&self, head: u32) {
        Self::store(self.cq.head, head, Ordering::Release);
    }

    /// `io_uring_enter(fd, to_submit, min_complete, flags)`: submits
    /// `to_submit` entries, then, with `wait`, waits until at least one
    /// completion is in the ring or `timeout` passes (`IORING_ENTER_EXT_ARG`
    /// with a relative `timespec`, so no rounding at all). Without `wait` it
    /// still runs this thread's pending task work (`GETEVENTS` with a
    /// minimum of 0), which posts the completions the kernel has queued.
    ///
    /// Returns how many entries were submitted. `ETIME` (the timeout
    /// passed) is not an error.
    pub(super) fn enter(
        &self,
        to_submit: u32,
        wait: bool,
        timeout: Option<Duration>,
    ) -> Result<u32> {
        #[cfg(test)]
        tests::ENTERS.with(|count| count.set(count.get() + 1));
        let mut flags = sys::IORING_ENTER_GETEVENTS;
        let timespec;
        let arg;
        let (arg_ptr, arg_size) = match timeout {
            Some(timeout) if wait => {
                timespec = sys::__kernel_timespec {
                    tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
                    tv_nsec: i64::from(timeout.subsec_nanos()),
                };
                arg = sys::io_uring_getevents_arg {
                    sigmask: 0,
                    sigmask_sz: 0,
                    pad: 0,
                    ts: &timespec as *const sys::__kernel_timespec as u64,
                };
                flags |= sys::IORING_ENTER_EXT_ARG;
                (
                    &arg as *const sys::io_uring_getevents_arg,
                    size_of::<sys::io_uring_getevents_arg>(),
                )
            }
            _ => (ptr::null(), 0),
        };
        let fd = self.fd.as_raw_fd();
        // SAFETY: `arg_ptr` is null or points to a getevents_arg (which
        // points to a timespec) living until the call returns; the kernel
        // only reads them. The submitted entries were published before.
        let ret = unsafe {
            sys::syscall(
                sys::__NR_io_uring_enter as c_long,
                fd,
                to_submit,
                u32::from(wait),
                flags,
                arg_ptr,
                arg_size,
            )
        };
        match check(ret as isize, "io_uring_enter", Some(fd)) {
            Ok(submitted) => Ok(submitted as u32),
            Err(error) if error.raw_os_error() == Some(sys::ETIME as i32) => Ok(0),
            Err(error) => Err(error),
        }
    }
}

impl AsFd for Ring {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;

    thread_local! {
        /// `io_uring_enter` calls made by this thread, for the tests that
        /// prove a poll made none.
        pub(in crate::backend::uring) static ENTERS: Cell<u64> = const { Cell::new(0) };
    }
}
