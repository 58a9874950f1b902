//! evq closes every descriptor it opens, and opens each one close-on-exec.
//!
//! Exactly one test in this file: the binary then runs it alone, so no other
//! test opens or closes descriptors while it counts them (/proc/self/fd on
//! Linux, `fcntl` probes elsewhere).
// Not with libkqueue (the kqueue backend on Linux): the library opens
// descriptors of its own, e.g. an eventfd without FD_CLOEXEC for each
// EVFILT_USER event (each Waker), which no count here could tell from evq's.
#![cfg(not(all(evq_kqueue, any(target_os = "linux", target_os = "android"))))]

mod util;

use evq::{Error, Events, Interest, Poll, Token, Waker};
use std::collections::BTreeSet;
use std::fs::File;
#[cfg(evq_epoll)] // for the regular file only epoll refuses
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use util::open_fds;

const ITERATIONS: usize = 100;
/// `O_CLOEXEC` as the kernel shows it in the `flags:` line of fdinfo.
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_CLOEXEC: u32 = 0o2_000_000;

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
// Only used for epoll's anonymous inodes: kqueue platforms have no /proc.
#[cfg(evq_epoll)]
fn fd_kind(fd: RawFd) -> String {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    target.to_string_lossy().into_owned()
}

/// Registers `fd` and expects the OS to refuse it with `errno`.
fn expect_refused(poll: &Poll, fd: BorrowedFd<'_>, errno: i32) {
    match poll.registry().register(&fd, Token(1), Interest::READABLE) {
        Err(error @ Error::Os { .. }) => assert_eq!(error.raw_os_error(), Some(errno), "{error}"),
        other => panic!("expected errno {errno}, got {other:?}"),
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn evq_closes_every_descriptor_it_opens_and_all_are_close_on_exec() {
    // A regular file, which epoll refuses (EPERM), for failed registrations.
    // (kqueue watches regular files, so there only the closed fd fails.)
    #[cfg(evq_epoll)]
    let regular = File::open(std::env::current_exe().unwrap()).unwrap();

    let before = open_fds();
    for i in 0..ITERATIONS {
        let poll = Poll::new().unwrap();
        let clone = poll.registry().try_clone().unwrap();
        let clone_of_clone = clone.try_clone().unwrap();
        let waker = Waker::new(&clone, Token(i)).unwrap();
        let events = Events::with_capacity(64);

        if i == 0 {
            // On kqueue the waker's descriptor is a third dup of the kqueue.
            assert_eq!(open_fds(), before + 4, "epoll fd, two dups, eventfd");
        }

        #[cfg(evq_epoll)]
        expect_refused(&poll, regular.as_fd(), 1); // EPERM
        let closed: RawFd = File::open("/dev/null").unwrap().into_raw_fd();
        // SAFETY: `closed` came from into_raw_fd, so nothing else owns it.
        drop(unsafe { OwnedFd::from_raw_fd(closed) });
        // SAFETY: the number of a descriptor just closed. This test is the
        // only one in its binary and opens nothing before the call, so the
        // number stays unused: the kernel only looks it up (EBADF).
        let stale = unsafe { BorrowedFd::borrow_raw(closed) };
        expect_refused(&poll, stale, 9); // EBADF
        drop((waker, events, clone_of_clone, clone, poll));
    }
    assert_eq!(open_fds(), before, "descriptors leaked");

    // Waker::new on a poll dropped before the waker, and the other way
    // round: whichever goes first, both descriptors are closed.
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
    assert_eq!(open_fds(), before, "descriptors leaked");

    // Every descriptor evq makes is close-on-exec.
    let poll = Poll::new().unwrap();
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(poll.as_raw_fd()), "anon_inode:[eventpoll]");
    assert_cloexec(poll.as_raw_fd(), "Poll::new's epoll fd");

    let clone = poll.registry().try_clone().unwrap();
    assert_ne!(
        clone.as_raw_fd(),
        poll.as_raw_fd(),
        "a descriptor of its own"
    );
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(clone.as_raw_fd()), "anon_inode:[eventpoll]");
    assert_cloexec(clone.as_raw_fd(), "Registry::try_clone's duplicate");

    let fds_before = fd_set();
    let waker = Waker::new(poll.registry(), Token(0)).unwrap();
    let new: Vec<RawFd> = fd_set().difference(&fds_before).copied().collect();
    assert_eq!(new.len(), 1, "Waker::new opened {new:?}");
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(new[0]), "anon_inode:[eventfd]");
    assert_cloexec(new[0], "Waker::new's eventfd (on kqueue, a dup)");

    drop((waker, clone, poll));
    assert_eq!(open_fds(), before, "descriptors leaked");

    sources_close_their_descriptors_and_are_close_on_exec(before);
}

/// `Timer`, `Signals` and `ChildExit` own one close-on-exec descriptor
/// each (on kqueue, a kqueue of their own), which dropping them closes,
/// registered or not, expired or not.
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
    assert_eq!(open_fds(), before, "descriptors leaked");

    let timer = Timer::new().unwrap();
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(timer.as_raw_fd()), "anon_inode:[timerfd]");
    assert_cloexec(timer.as_raw_fd(), "Timer::new's descriptor");
    let exit = ChildExit::new(&child).unwrap();
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(exit.as_raw_fd()), "anon_inode:[pidfd]");
    assert_cloexec(exit.as_raw_fd(), "ChildExit::new's descriptor");
    drop((timer, exit));
    assert_eq!(open_fds(), before, "descriptors leaked");

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
    assert_eq!(open_fds(), before, "descriptors leaked");

    let signals = Signals::new(&[sigusr1]).unwrap();
    #[cfg(evq_epoll)]
    assert_eq!(fd_kind(signals.as_raw_fd()), "anon_inode:[signalfd]");
    assert_cloexec(signals.as_raw_fd(), "Signals::new's descriptor");
    drop(signals);
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn signals_close_their_descriptors(_before: usize) {}
