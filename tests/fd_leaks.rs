//! evq closes every descriptor it opens, opens each one close-on-exec, and
//! opens none for a `Registry::try_clone` (nor, on kqueue, for a `Waker`).
//!
//! Exactly one test in this file: the binary then runs it alone, so no other
//! test opens or closes descriptors while it counts them (/proc/self/fd on
//! Linux, `fcntl` probes elsewhere).
//!
//! With libkqueue (the kqueue backend on Linux) the library opens
//! descriptors of its own: a few once per process, seven per kqueue, which
//! a background thread closes up to ~200 ms after the kqueue (its README),
//! and an eventfd per `EVFILT_USER` event (its `src/linux/user.c`). The
//! counts below allow for exactly those, there only.
// Counts Unix descriptors (/proc, fcntl).
#![cfg(unix)]

mod util;

use evq::{Error, Events, Interest, Poll, Token, Waker};
use std::collections::BTreeSet;
use std::fs::File;
#[cfg(evq_epoll)] // for the regular file only epoll refuses
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use util::open_fds;

const ITERATIONS: usize = 100;
// `O_CLOEXEC`, which the `flags:` line of fdinfo shows.
#[cfg(any(target_os = "linux", target_os = "android"))]
use evq::sys::O_CLOEXEC;

/// The descriptors this process has open.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn fd_set() -> BTreeSet<RawFd> {
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // Leave out the descriptor read_dir itself had open (closed by now).
    listed
        .into_iter()
        .filter(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok())
        .collect()
}

/// The descriptors this process has open (no /proc here).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn fd_set() -> BTreeSet<RawFd> {
    util::open_fd_numbers().into_iter().collect()
}

/// Panics unless `fd` is close-on-exec, according to the kernel
/// (`/proc/self/fdinfo/<fd>`, proc(5): `flags:` is octal).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn assert_cloexec(fd: RawFd, what: &str) {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .unwrap_or_else(|| panic!("no flags line in fdinfo of fd {fd}:\n{info}"));
    let flags = u32::from_str_radix(flags.trim(), 8).unwrap();
    assert_ne!(
        flags & O_CLOEXEC,
        0,
        "{what} (fd {fd}) is not close-on-exec: flags {flags:o}"
    );
}

/// Panics unless `fd` is close-on-exec, according to `fcntl(F_GETFD)`
/// (no /proc here).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn assert_cloexec(fd: RawFd, what: &str) {
    let flags = util::fd_flags(fd).unwrap_or_else(|| panic!("{what} (fd {fd}) is not open"));
    assert_ne!(
        flags & evq::sys::FD_CLOEXEC as i32,
        0,
        "{what} (fd {fd}) is not close-on-exec: flags {flags:#x}"
    );
}

/// What /proc says `fd` is, e.g. `anon_inode:[eventpoll]`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn fd_kind(fd: RawFd) -> String {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    target.to_string_lossy().into_owned()
}

/// io_uring: registering a closed fd succeeds, the kernel answers `EBADF`
/// in the CQ at the next poll, and the registration is gone.
fn expect_dropped_by_the_kernel(mut poll: Poll, fd: BorrowedFd<'_>) {
    poll.registry()
        .register(&fd, Token(1), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    poll.poll(&mut events, Some(std::time::Duration::ZERO))
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert!(matches!(
        poll.registry().deregister(&fd),
        Err(Error::NotRegistered { .. })
    ));
}

/// Registers `fd` and expects the OS to refuse it with `errno`.
fn expect_refused(poll: &Poll, fd: BorrowedFd<'_>, errno: i32) {
    match poll.registry().register(&fd, Token(1), Interest::READABLE) {
        Err(error @ Error::Os { .. }) => assert_eq!(error.raw_os_error(), Some(errno), "{error}"),
        other => panic!("expected errno {errno}, got {other:?}"),
    }
}

/// Panics unless the process has `before` descriptors open again. With
/// libkqueue, waits (up to 10 s) for its background thread to close what
/// dropped kqueues held; elsewhere, closing is synchronous.
fn assert_back_to(before: usize) {
    #[cfg(evq_force_kqueue)]
    {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while open_fds() != before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
}

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn evq_closes_every_descriptor_it_opens_and_all_are_close_on_exec() {
    // A regular file, which epoll refuses (EPERM), for failed registrations.
    // (kqueue watches regular files, so there only the closed fd fails.)
    #[cfg(evq_epoll)]
    let regular = File::open(std::env::current_exe().unwrap()).unwrap();

    // Open throughout, so what a kqueue emulation opens once per process
    // (libkqueue) is already counted in `before`.
    let anchor = Poll::new().unwrap();
    let before = open_fds();
    for i in 0..ITERATIONS {
        // libkqueue opens several: only compared elsewhere.
        #[cfg(not(evq_force_kqueue))]
        let without_poll = fd_set();
        let poll = Poll::new().unwrap();
        let with_poll = fd_set();
        let clone = poll.registry().try_clone().unwrap();
        let clone_of_clone = clone.try_clone().unwrap();
        let with_clones = fd_set();
        let waker = Waker::new(&clone, Token(i)).unwrap();
        let events = Events::with_capacity(64);

        // Once, before any dropped kqueue of libkqueue's is closed in the
        // background while the test counts.
        if i == 0 {
            #[cfg(not(evq_force_kqueue))]
            assert_eq!(
                with_poll.difference(&without_poll).count(),
                1,
                "Poll::new opens one fd"
            );
            assert_eq!(with_clones, with_poll, "try_clone opens no descriptor");
            let by_waker: Vec<RawFd> = fd_set().difference(&with_clones).copied().collect();
            #[cfg(evq_epoll)]
            assert_eq!(by_waker.len(), 1, "an eventfd: {by_waker:?}");
            #[cfg(all(evq_kqueue, not(evq_force_kqueue)))]
            assert_eq!(by_waker, [], "a user event needs no descriptor");
            #[cfg(evq_force_kqueue)]
            assert!(
                by_waker.len() <= 1
                    && by_waker
                        .iter()
                        .all(|&fd| fd_kind(fd) == "anon_inode:[eventfd]"),
                "libkqueue's EVFILT_USER opens one eventfd, evq nothing: {by_waker:?}"
            );
        }

        // io_uring accepts both here and answers in the CQ (see `Registry`).
        let io_uring = poll.backend() == evq::Backend::IoUring;
        #[cfg(evq_epoll)]
        if !io_uring {
            expect_refused(&poll, regular.as_fd(), 1); // EPERM
        }
        let closed: RawFd = File::open("/dev/null").unwrap().into_raw_fd();
        // SAFETY: `closed` came from into_raw_fd, so nothing else owns it.
        drop(unsafe { OwnedFd::from_raw_fd(closed) });
        // SAFETY: the number of a descriptor just closed. This test is the
        // only one in its binary and opens nothing before the call, so the
        // number stays unused: the kernel only looks it up (EBADF).
        let stale = unsafe { BorrowedFd::borrow_raw(closed) };
        if io_uring {
            expect_dropped_by_the_kernel(poll, stale);
        } else {
            expect_refused(&poll, stale, 9); // EBADF
        }
        drop((waker, events, clone_of_clone, clone));
    }
    assert_back_to(before);

    // Waker::new on a poll dropped before the waker, and the other way
    // round: whichever goes first, everything is closed.
    for i in 0..ITERATIONS {
        let poll = Poll::new().unwrap();
        let waker = Waker::new(poll.registry(), Token(i)).unwrap();
        if i % 2 == 0 {
            drop(poll);
            waker.wake().unwrap();
            drop(waker);
        } else {
            drop(waker);
            drop(poll);
        }
    }
    assert_back_to(before);

    // Every descriptor evq makes is close-on-exec.
    let poll = Poll::new().unwrap();
    #[cfg(evq_epoll)]
    assert_eq!(
        fd_kind(poll.as_raw_fd()),
        match poll.backend() {
            evq::Backend::IoUring => "anon_inode:[io_uring]",
            _ => "anon_inode:[eventpoll]",
        }
    );
    assert_cloexec(poll.as_raw_fd(), "Poll::new's descriptor");
    #[cfg(evq_epoll)]
    {
        let fds_before = fd_set();
        let waker = Waker::new(poll.registry(), Token(0)).unwrap();
        let new: Vec<RawFd> = fd_set().difference(&fds_before).copied().collect();
        assert_eq!(new.len(), 1, "Waker::new opened {new:?}");
        assert_eq!(fd_kind(new[0]), "anon_inode:[eventfd]");
        assert_cloexec(new[0], "Waker::new's eventfd");
        drop(waker);
    }
    drop(poll);
    assert_back_to(before);
    sources_close_their_descriptors_and_are_close_on_exec(before);
    drop(anchor);
}

/// `Timer`, `Signals` and `ChildExit` own one close-on-exec descriptor
/// each on epoll, which dropping them closes, registered or not, expired
/// or not. On kqueue a `Timer` owns none, `Signals` and `ChildExit` a
/// kqueue of their own, and registered, each leaves nothing in the poll
/// once dropped (libkqueue's eventfd per user event is closed with it).
fn sources_close_their_descriptors_and_are_close_on_exec(before: usize) {
    use evq::{ChildExit, Timer};
    use std::process::Command;
    use std::time::Duration;

    // One child for every iteration; each ChildExit opens a descriptor of
    // its own for it.
    let mut child = Command::new("sleep").arg("10").spawn().unwrap();
    for i in 0..ITERATIONS {
        let poll = Poll::new().unwrap();
        let timer = Timer::new().unwrap();
        let exit = ChildExit::new(&child).unwrap();
        if i % 2 == 0 {
            let registry = poll.registry();
            registry
                .register(&timer, Token(i), Interest::READABLE)
                .unwrap();
            registry
                .register(&exit, Token(i), Interest::READABLE)
                .unwrap();
            timer.set_timeout(Duration::ZERO).unwrap();
        }
        drop((timer, exit, poll));
    }
    signals_close_their_descriptors(before);
    assert_back_to(before);

    let timer = Timer::new().unwrap();
    #[cfg(evq_epoll)]
    {
        assert_eq!(fd_kind(timer.as_raw_fd()), "anon_inode:[timerfd]");
        assert_cloexec(timer.as_raw_fd(), "Timer::new's descriptor");
    }
    #[cfg(evq_kqueue)]
    assert_eq!(open_fds(), before, "a kqueue Timer needs no descriptor");
    let exit = ChildExit::new(&child).unwrap();
    #[cfg(evq_epoll)]
    {
        assert_eq!(fd_kind(exit.as_raw_fd()), "anon_inode:[pidfd]");
        assert_cloexec(exit.as_raw_fd(), "ChildExit::new's descriptor");
    }
    drop((timer, exit));
    assert_back_to(before);

    // A poll dropped while sources are registered is closed at once: the
    // sources (on kqueue, their registrations) do not keep it open.
    let poll = Poll::new().unwrap();
    let timer = Timer::new().unwrap();
    poll.registry()
        .register(&timer, Token(0), Interest::READABLE)
        .unwrap();
    timer.set_timeout(Duration::from_secs(60)).unwrap();
    drop(poll);
    let timer_fds = usize::from(cfg!(evq_epoll));
    assert_back_to(before + timer_fds);
    drop(timer);
    assert_back_to(before);

    child.kill().unwrap();
    child.wait().unwrap();
}

/// The same for `Signals` (which NetBSD and OpenBSD do not have).
#[cfg(not(any(target_os = "netbsd", target_os = "openbsd")))]
fn signals_close_their_descriptors(before: usize) {
    use evq::Signals;
    // Blocks SIGUSR1 in this thread, which nothing here sends.
    let sigusr1 = evq::sys::SIGUSR1 as i32;
    for i in 0..ITERATIONS {
        let poll = Poll::new().unwrap();
        let signals = Signals::new(&[sigusr1]).unwrap();
        if i % 2 == 0 {
            poll.registry()
                .register(&signals, Token(i), Interest::READABLE)
                .unwrap();
        }
        drop((signals, poll));
    }
    assert_back_to(before);

    #[cfg(evq_epoll)]
    {
        let signals = Signals::new(&[sigusr1]).unwrap();
        assert_eq!(fd_kind(signals.as_raw_fd()), "anon_inode:[signalfd]");
        assert_cloexec(signals.as_raw_fd(), "Signals::new's descriptor");
    }
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn signals_close_their_descriptors(_before: usize) {}
