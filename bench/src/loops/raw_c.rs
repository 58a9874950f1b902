//! The raw C epoll loop (`c/raw_epoll.c`), driven through the same trait.

use crate::event_loop::{EventLoop, Interest, Mode, Ready};
use std::ffi::c_int;
use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// `struct evqb_loop` (opaque).
#[repr(C)]
struct CLoop {
    _private: [u8; 0],
}

/// `struct evqb_waker` (opaque).
#[repr(C)]
struct CWaker {
    _private: [u8; 0],
}

extern "C" {
    fn evqb_loop_new(capacity: c_int) -> *mut CLoop;
    fn evqb_loop_free(event_loop: *mut CLoop);
    fn evqb_loop_events(event_loop: *const CLoop) -> *const libc::epoll_event;
    fn evqb_ctl(event_loop: *mut CLoop, op: c_int, fd: c_int, events: u32, token: u64) -> c_int;
    fn evqb_wait(event_loop: *mut CLoop, timeout_ms: c_int) -> c_int;
    fn evqb_wait_timespec(event_loop: *mut CLoop, sec: libc::c_long, nsec: libc::c_long) -> c_int;
    fn evqb_waker_new(event_loop: *mut CLoop, token: u64) -> *mut CWaker;
    fn evqb_waker_free(waker: *mut CWaker);
    fn evqb_wake(waker: *mut CWaker) -> c_int;
}

/// The C loop: its epoll fd and event buffer live on the C side.
#[derive(Debug)]
pub struct RawC {
    ptr: NonNull<CLoop>,
    events: *const libc::epoll_event,
    capacity: usize,
    /// Keeps the waker alive while the C loop holds its pointer.
    waker: Option<Arc<WakerBox>>,
}

/// The C waker, freed when the loop and every [`RawWaker`] are gone.
#[derive(Debug)]
struct WakerBox(NonNull<CWaker>);

// SAFETY: `evqb_wake` only does an atomic exchange and a write(2), safe from
// any thread, and the C loop only reads the token and clears the flag
// atomically; the waker is freed once, by the last owner.
unsafe impl Send for WakerBox {}
// SAFETY: as above: every C function on a waker is thread-safe.
unsafe impl Sync for WakerBox {}

impl Drop for WakerBox {
    fn drop(&mut self) {
        // SAFETY: the pointer came from evqb_waker_new and is freed once,
        // after the loop that points to it (which holds an `Arc` too).
        unsafe { evqb_waker_free(self.0.as_ptr()) }
    }
}

/// A handle to the C loop's waker.
#[derive(Clone, Debug)]
pub struct RawWaker(Arc<WakerBox>);

fn flags(interest: Interest, mode: Mode) -> u32 {
    let mut flags = match mode {
        Mode::Edge => libc::EPOLLET,
        Mode::Oneshot => libc::EPOLLONESHOT,
    } as u32;
    if interest.read() {
        flags |= libc::EPOLLIN as u32;
    }
    if interest.write() {
        flags |= libc::EPOLLOUT as u32;
    }
    flags
}

fn check(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl RawC {
    fn ctl(&mut self, op: c_int, fd: RawFd, token: usize, flags: u32) -> io::Result<()> {
        // SAFETY: `ptr` is a live loop; evqb_ctl only passes plain values on.
        check(unsafe { evqb_ctl(self.ptr.as_ptr(), op, fd, flags, token as u64) }).map(drop)
    }
}

impl Drop for RawC {
    fn drop(&mut self) {
        // SAFETY: the pointer came from evqb_loop_new and is freed once; the
        // waker, if any, is not touched (it is freed by its own handle).
        unsafe { evqb_loop_free(self.ptr.as_ptr()) }
    }
}

impl EventLoop for RawC {
    const NAME: &'static str = "raw C";
    type Waker = RawWaker;

    fn new(capacity: usize) -> io::Result<Self> {
        let capacity_c = c_int::try_from(capacity).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: evqb_loop_new takes a plain value and returns a new loop or null.
        let ptr = NonNull::new(unsafe { evqb_loop_new(capacity_c) })
            .ok_or_else(io::Error::last_os_error)?;
        // SAFETY: `ptr` is a live loop.
        let events = unsafe { evqb_loop_events(ptr.as_ptr()) };
        Ok(RawC {
            ptr,
            events,
            capacity,
            waker: None,
        })
    }

    fn register(
        &mut self,
        fd: RawFd,
        token: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, flags(interest, mode))
    }

    fn reregister(
        &mut self,
        fd: RawFd,
        token: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, flags(interest, mode))
    }

    fn deregister(&mut self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    #[inline]
    fn poll<F: FnMut(Ready)>(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: F,
    ) -> io::Result<usize> {
        let n = match timeout {
            // The floor for timeout precision: epoll_pwait2, to the
            // nanosecond. (Only the precision command waits this way.)
            Some(t) if !t.is_zero() => {
                let sec = t.as_secs().min(libc::c_long::MAX as u64) as libc::c_long;
                let nsec = libc::c_long::from(t.subsec_nanos() as i32);
                // SAFETY: `ptr` is a live loop.
                check(unsafe { evqb_wait_timespec(self.ptr.as_ptr(), sec, nsec) })?
            }
            // SAFETY: `ptr` is a live loop.
            _ => check(unsafe { evqb_wait(self.ptr.as_ptr(), super::timeout_ms(timeout)) })?,
        } as usize;
        debug_assert!(n <= self.capacity);
        for i in 0..n {
            // SAFETY: evqb_wait filled the first `n <= capacity` entries of
            // the loop's buffer, which lives as long as the loop; the read is
            // unaligned because the struct is packed on x86_64.
            let event = unsafe { self.events.add(i).read_unaligned() };
            let bits = event.events;
            on_event(Ready {
                token: event.u64 as usize,
                readable: bits & (libc::EPOLLIN as u32) != 0,
                writable: bits & (libc::EPOLLOUT as u32) != 0,
            });
        }
        Ok(n)
    }

    fn waker(&mut self, token: usize) -> io::Result<RawWaker> {
        if self.waker.is_some() {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        // SAFETY: `ptr` is a live loop; the C side keeps the waker's pointer
        // while the loop lives, and `self.waker` keeps the waker alive as long.
        let waker = NonNull::new(unsafe { evqb_waker_new(self.ptr.as_ptr(), token as u64) })
            .ok_or_else(io::Error::last_os_error)?;
        let waker = Arc::new(WakerBox(waker));
        self.waker = Some(Arc::clone(&waker));
        Ok(RawWaker(waker))
    }

    #[inline]
    fn wake(waker: &RawWaker) -> io::Result<()> {
        // SAFETY: the handle keeps the waker alive.
        check(unsafe { evqb_wake(waker.0 .0.as_ptr()) }).map(drop)
    }
}
