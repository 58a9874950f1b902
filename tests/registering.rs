//! Registering, changing and removing sources: the errors a caller can match
//! on, which sources are accepted, and what the kernel watches afterwards.

mod util;

use evq::{Error, Event, Events, Interest, Poll, Token, Trigger};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Instant;
use util::{pipe, poll_now, socketpair, tcp_pair, PATIENCE};
// For /proc/self/limits and the temp files of the epoll-only EPERM tests.
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::fs;
// For the epoll-only EPERM tests.
#[cfg(evq_epoll)]
use {evq::Registry, std::path::PathBuf};
// Only the epoll backend's bindings have eventfd.
#[cfg(evq_epoll)]
use util::{eventfd, eventfd_add};

fn setup() -> (Poll, Events) {
    (Poll::new().expect("Poll::new"), Events::with_capacity(64))
}

/// The events a non-blocking poll reports for `token`.
fn reported(poll: &mut Poll, events: &mut Events, token: Token) -> Vec<Event> {
    let all = poll_now(poll, events);
    all.into_iter().filter(|e| e.token() == token).collect()
}

fn fd_of(source: &impl AsFd) -> RawFd {
    source.as_fd().as_raw_fd()
}

/// Makes the first end of a socket pair readable.
fn send(peer: &UnixStream) {
    (&*peer).write_all(b"x").expect("write to socket peer");
}

/// A path under the temp directory that no other test (or test run) uses,
/// removed (as a file or a directory) when dropped.
#[cfg(evq_epoll)] // only the EPERM tests use it
struct TempPath(PathBuf);

#[cfg(evq_epoll)] // only the EPERM tests use it
impl TempPath {
    fn new(name: &str) -> TempPath {
        let unique = format!("evq-registering-{}-{name}", std::process::id());
        TempPath(std::env::temp_dir().join(unique))
    }
}

#[cfg(evq_epoll)] // only the EPERM tests use it
impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0).or_else(|_| fs::remove_dir(&self.0));
    }
}

/// Asserts that registering `source` fails with `EPERM` and a message that
/// names the call and the fd.
// epoll refuses regular files and directories; kqueue watches them
// (EVFILT_READ on a vnode), so this and the tests below are epoll's.
#[cfg(evq_epoll)]
fn assert_refused_with_eperm(registry: &Registry, source: &File) {
    let fd = source.as_raw_fd();
    let error = registry
        .register(source, Token(0), Interest::READABLE)
        .expect_err("epoll cannot watch regular files or directories");
    assert!(matches!(error, Error::Os { .. }), "got {error:?}");
    assert_eq!(error.raw_os_error(), Some(1), "EPERM, got {error:?}");
    assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    let message = error.to_string();
    let prefix = format!("epoll_ctl(ADD) on fd {fd}: ");
    assert!(message.starts_with(&prefix), "{message:?} lacks {prefix:?}");
    // After `?`, the errno is still there, as with mio.
    let io_error = io::Error::from(error);
    assert_eq!(io_error.raw_os_error(), Some(1), "{io_error:?}");
    assert_eq!(io_error.kind(), io::ErrorKind::PermissionDenied);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn registering_twice_is_an_error() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();

    let second = poll.registry().register(&a, Token(2), Interest::WRITABLE);
    assert!(
        matches!(second, Err(Error::AlreadyRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {second:?}"
    );

    // The failed call left the first registration as it was.
    send(&b);
    let got = reported(&mut poll, &mut events, Token(1));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].is_readable() && !got[0].is_writable(), "{got:?}");
    assert!(reported(&mut poll, &mut events, Token(2)).is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn a_fired_oneshot_registration_is_still_registered() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let registry = poll.registry();
    registry
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    send(&b);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), 1);

    // Disarmed, not removed.
    let again = poll.registry().register(&a, Token(1), Interest::READABLE);
    assert!(
        matches!(again, Err(Error::AlreadyRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {again:?}"
    );
    poll.registry()
        .deregister(&a)
        .expect("deregister the disarmed fd");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn reregistering_a_never_registered_fd_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = socketpair();
    let result = poll.registry().reregister(&a, Token(1), Interest::READABLE);
    assert!(
        matches!(result, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {result:?}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn deregistering_a_never_registered_fd_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = socketpair();
    let result = poll.registry().deregister(&a);
    assert!(
        matches!(result, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {result:?}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn deregistering_twice_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = socketpair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&a).expect("first deregister");
    let second = poll.registry().deregister(&a);
    assert!(
        matches!(second, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {second:?}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn an_empty_interest_is_invalid_input() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let (c, _d) = socketpair();
    let registry = poll.registry();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();

    for empty in [Interest::empty(), Interest::from_bits_retain(0x80)] {
        let result = registry.register(&c, Token(2), empty);
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "register with {empty:?}: got {result:?}"
        );
        let result = registry.reregister(&a, Token(3), empty);
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "reregister with {empty:?}: got {result:?}"
        );
    }

    // Nothing was asked of the OS: `c` is not registered, and `a` still
    // reports with its original token.
    assert!(matches!(
        poll.registry().deregister(&c),
        Err(Error::NotRegistered { .. })
    ));
    send(&b);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), 1);

    // Unknown bits next to a known one are ignored, not rejected.
    let mixed = Interest::from_bits_retain(0x80) | Interest::READABLE;
    poll.registry().register(&c, Token(2), mixed).unwrap();
}

#[cfg(evq_epoll)] // kqueue watches regular files
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_regular_file_is_refused_with_eperm() {
    let poll = Poll::new().unwrap();
    let path = TempPath::new("regular-file");
    let file = File::create(&path.0).expect("create a temp file");
    assert_refused_with_eperm(poll.registry(), &file);
}

#[cfg(evq_epoll)] // kqueue watches directories
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_directory_is_refused_with_eperm() {
    let poll = Poll::new().unwrap();
    let path = TempPath::new("directory");
    fs::create_dir(&path.0).expect("create a temp directory");
    let dir = File::open(&path.0).expect("open the directory");
    assert_refused_with_eperm(poll.registry(), &dir);
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn every_kind_of_source_registers_without_wrappers() {
    let (mut poll, mut events) = setup();
    let registry = poll.registry();
    let readable = Interest::READABLE;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    registry.register(&listener, Token(0), readable).unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let (mut tcp_client, tcp_server) = tcp_pair();
    registry.register(&tcp_server, Token(1), readable).unwrap();
    tcp_client.write_all(b"x").unwrap();

    let (unix, unix_peer) = socketpair();
    registry.register(&unix, Token(2), readable).unwrap();
    send(&unix_peer);

    // Tokens 3 to 5: an OwnedFd, a BorrowedFd and a File. eventfds on
    // epoll; kqueue platforms have no eventfd, so pipe read ends there.
    #[cfg(evq_epoll)]
    let _eventfds = {
        let owned: OwnedFd = eventfd();
        registry.register(&owned, Token(3), readable).unwrap();
        eventfd_add(&owned, 1);

        let borrowed_owner = eventfd();
        let borrowed = borrowed_owner.as_fd();
        registry.register(&borrowed, Token(4), readable).unwrap();
        eventfd_add(&borrowed_owner, 1);

        let file = File::from(eventfd());
        registry.register(&file, Token(5), readable).unwrap();
        (&file).write_all(&1u64.to_ne_bytes()).unwrap();
        (owned, borrowed_owner, file)
    };
    #[cfg(evq_kqueue)]
    let _pipes = {
        let (reader, mut owned_writer) = pipe();
        let owned = OwnedFd::from(reader);
        registry.register(&owned, Token(3), readable).unwrap();
        owned_writer.write_all(b"x").unwrap();

        let (borrowed_owner, mut borrowed_writer) = pipe();
        let borrowed = borrowed_owner.as_fd();
        registry.register(&borrowed, Token(4), readable).unwrap();
        borrowed_writer.write_all(b"x").unwrap();

        let (reader, mut file_writer) = pipe();
        let file = File::from(OwnedFd::from(reader));
        registry.register(&file, Token(5), readable).unwrap();
        file_writer.write_all(b"x").unwrap();
        // The writers stay open: the readers see data, not end of file.
        let writers = (owned_writer, borrowed_writer, file_writer);
        (owned, borrowed_owner, file, writers)
    };

    let (pipe_reader, mut pipe_writer) = pipe();
    registry.register(&pipe_reader, Token(6), readable).unwrap();
    pipe_writer.write_all(b"x").unwrap();

    let (dynamic, dynamic_peer) = socketpair();
    let dynamic: &dyn AsFd = &dynamic;
    registry.register(dynamic, Token(7), readable).unwrap();
    send(&dynamic_peer);

    let expected: HashSet<Token> = (0..8).map(Token).collect();
    let seen = collect_until(&mut poll, &mut events, &expected);
    assert_eq!(seen, expected);
}

/// Polls until every token in `expected` was reported readable (TCP may
/// take a moment), and returns the tokens seen.
fn collect_until(
    poll: &mut Poll,
    events: &mut Events,
    expected: &HashSet<Token>,
) -> HashSet<Token> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = HashSet::new();
    while !expected.is_subset(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {seen:?} of {expected:?} reported");
        poll.poll(events, Some(left)).expect("poll");
        for event in events.iter() {
            assert!(event.is_readable(), "{event:?}");
            seen.insert(event.token());
        }
    }
    seen
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn a_deregistered_source_is_never_reported_again() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    // Ready, and the event not collected, when deregister is called.
    send(&b);
    poll.registry().deregister(&a).unwrap();
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
    send(&b);
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn reregistering_changes_the_token_and_the_interest() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();
    send(&b);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), 1);

    // `a` is still readable (nothing was read) and always writable.
    poll.registry()
        .reregister(&a, Token(2), Interest::WRITABLE)
        .unwrap();
    let all = poll_now(&mut poll, &mut events);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].token(), Token(2));
    assert!(all[0].is_writable(), "{all:?}");
    assert!(!all[0].is_readable(), "readability is no longer asked for");

    // New data is not of interest any more, under either token.
    send(&b);
    assert!(poll_now(&mut poll, &mut events).is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn closing_a_registered_fd_removes_it() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    send(&b);
    drop(a);
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

extern "C" {
    fn dup2(oldfd: i32, newfd: i32) -> i32;
}

/// Registers `a` (level-triggered, readable, `Token(1)`) and makes its
/// peer send, then closes `a`'s socket and gives its fd number to a new
/// socket, never registered, in one step: tests run in parallel, so a
/// close followed by an open could hand the number to another thread.
/// `dup2` closes the old open file exactly as `close` does (it was the last
/// fd for it). Returns the new socket under the old number, and its peer.
fn register_then_reuse_the_number(
    poll: &Poll,
    a: UnixStream,
    b: &UnixStream,
) -> (UnixStream, UnixStream) {
    let number = fd_of(&a);
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    send(b);
    let (c, d) = socketpair();
    // SAFETY: both fds are open and owned by this test; afterwards `a` owns
    // (and will close) `number`, now a second fd for `c`'s socket.
    let ret = unsafe { dup2(c.as_raw_fd(), number) };
    assert_eq!(ret, number, "dup2: {}", io::Error::last_os_error());
    drop(c);
    (a, d)
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn a_reused_fd_number_can_be_registered_again() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    poll.registry()
        .register(&reused, Token(2), Interest::READABLE)
        .expect("the number belongs to a new file: not AlreadyRegistered");
    send(&d);
    let all = poll_now(&mut poll, &mut events);
    assert_eq!(all.len(), 1, "only the new registration: {all:?}");
    assert_eq!(all[0].token(), Token(2));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn deregistering_a_reused_fd_number_is_an_error() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    assert!(matches!(
        poll.registry().deregister(&reused),
        Err(Error::NotRegistered { .. })
    ));
    send(&d);
    assert!(poll_now(&mut poll, &mut events).is_empty());
    // And it was not registered by the failed call.
    poll.registry()
        .register(&reused, Token(2), Interest::READABLE)
        .expect("never registered");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn reregistering_a_reused_fd_number_is_an_error_and_registers_nothing() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    let result =
        poll.registry()
            .reregister_with(&reused, Token(2), Interest::READABLE, Trigger::Level);
    assert!(
        matches!(result, Err(Error::NotRegistered { .. })),
        "{result:?}"
    );
    send(&d);
    let all = poll_now(&mut poll, &mut events);
    assert!(
        all.is_empty(),
        "the failed reregister registered it: {all:?}"
    );
    assert!(matches!(
        poll.registry().deregister(&reused),
        Err(Error::NotRegistered { .. })
    ));
}

// epoll's behaviour; the kqueue counterpart follows.
#[cfg(evq_epoll)]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn a_duplicated_fd_keeps_the_registration_alive_after_close() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let duplicate = a.try_clone().unwrap();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();

    // As documented on `Registry`: the registration belongs to the open
    // file, which the duplicate keeps open, so it still reports, with its
    // old token.
    drop(a);
    send(&b);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), 1);

    // The kernel keys registrations by (open file, fd number), so the
    // duplicate's number does not name this registration either.
    assert!(matches!(
        poll.registry().deregister(&duplicate),
        Err(Error::NotRegistered { .. })
    ));

    // Closing the last fd for the file finally removes it.
    send(&b);
    drop(duplicate);
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

// kqueue keys filters by fd number, and closing an fd removes its filters.
#[cfg(evq_kqueue)]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): filters outlive the fd"
)]
fn closing_a_registered_fd_removes_the_registration_despite_a_duplicate() {
    let (mut poll, mut events) = setup();
    let (a, b) = socketpair();
    let duplicate = a.try_clone().unwrap();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();

    // As documented on `Registry`: on kqueue, closing any fd removes the
    // registrations made through it, although the duplicate keeps the
    // file open.
    drop(a);
    send(&b);
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());

    // The duplicate's number was never registered.
    assert!(matches!(
        poll.registry().deregister(&duplicate),
        Err(Error::NotRegistered { .. })
    ));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn a_cloned_registry_shares_the_registrations() {
    let (mut poll, mut events) = setup();
    let clone = poll.registry().try_clone().unwrap();
    assert_eq!(clone.as_raw_fd(), poll.as_raw_fd(), "the same descriptor");
    let (a, b) = socketpair();

    std::thread::scope(|s| {
        s.spawn(|| clone.register(&a, Token(1), Interest::READABLE))
            .join()
            .unwrap()
            .expect("register from another thread");
    });
    send(&b);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), 1);

    // Registered through the clone, known to the original, and the other
    // way round.
    let again = poll.registry().register(&a, Token(2), Interest::READABLE);
    assert!(matches!(again, Err(Error::AlreadyRegistered { .. })));
    clone.deregister(&a).expect("deregister through the clone");
    assert!(matches!(
        poll.registry().deregister(&a),
        Err(Error::NotRegistered { .. })
    ));
    send(&b);
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

/// An evq call in a function that returns `io::Result`.
fn through_question_mark(call: impl FnOnce() -> evq::Result<()>) -> io::Result<()> {
    call()?;
    Ok(())
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn errors_convert_to_io_errors_of_the_same_kind_and_errno() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let (a, _b) = socketpair();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();
    let (unregistered, _d) = socketpair();

    let cases: [(io::ErrorKind, &dyn Fn() -> evq::Result<()>); 3] = [
        (io::ErrorKind::AlreadyExists, &|| {
            registry.register(&a, Token(1), Interest::READABLE)
        }),
        (io::ErrorKind::NotFound, &|| {
            registry.deregister(&unregistered)
        }),
        (io::ErrorKind::InvalidInput, &|| {
            registry.register(&unregistered, Token(2), Interest::empty())
        }),
    ];
    for (kind, call) in cases {
        let expected = call().expect_err("the call fails");
        let error = through_question_mark(call).expect_err("the call fails");
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.raw_os_error(), expected.raw_os_error(), "{error:?}");
        match expected.raw_os_error() {
            // The kernel's answer, as mio would return it.
            Some(errno) => {
                let kernel = io::Error::from_raw_os_error(errno);
                assert_eq!(kernel.kind(), kind, "{error:?}");
            }
            // evq's own finding: its message and the evq::Error are kept.
            None => {
                assert_eq!(error.to_string(), expected.to_string());
                let inner = error.get_ref().and_then(|e| e.downcast_ref::<Error>());
                assert!(inner.is_some(), "the evq::Error is kept inside: {error:?}");
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket pair non-blocking")]
fn registration_errors_carry_the_kernels_errno_where_it_gave_one() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let (a, _b) = socketpair();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();
    let twice = registry
        .register(&a, Token(1), Interest::READABLE)
        .unwrap_err();
    registry.deregister(&a).unwrap();
    let missing = registry.deregister(&a).unwrap_err();
    let errno_kind = |error: &Error| {
        error
            .raw_os_error()
            .map(|errno| io::Error::from_raw_os_error(errno).kind())
    };
    // epoll_ctl answers EEXIST and ENOENT; kqueue has no such answer, and
    // evq finds these in its own record.
    if cfg!(evq_epoll) {
        assert_eq!(errno_kind(&twice), Some(io::ErrorKind::AlreadyExists));
        assert_eq!(errno_kind(&missing), Some(io::ErrorKind::NotFound));
    } else {
        assert_eq!(twice.raw_os_error(), None);
        assert_eq!(missing.raw_os_error(), None);
    }
    assert!(matches!(twice, Error::AlreadyRegistered { .. }));
    assert!(matches!(missing, Error::NotRegistered { .. }));
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_files_soft_limit() -> Option<usize> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The soft `RLIMIT_NOFILE` of this process, from `getrlimit` (no /proc
/// here).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_files_soft_limit() -> Option<usize> {
    use std::ffi::c_int;
    /// `struct rlimit`: `rlim_t` is 64 bits on macOS, iOS and the BSDs.
    #[repr(C)]
    struct Rlimit {
        cur: u64,
        max: u64,
    }
    extern "C" {
        fn getrlimit(resource: c_int, rlimit: *mut Rlimit) -> c_int;
    }
    /// The same on macOS, iOS and the BSDs (not on Linux).
    const RLIMIT_NOFILE: c_int = 8;
    let mut rlimit = Rlimit { cur: 0, max: 0 };
    // SAFETY: `rlimit` is a writable `struct rlimit`.
    let ret = unsafe { getrlimit(RLIMIT_NOFILE, &mut rlimit) };
    (ret == 0).then(|| usize::try_from(rlimit.cur).unwrap_or(usize::MAX))
}

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_thousand_ready_fds_are_each_reported_exactly_once() {
    const COUNT: usize = 1000;
    // An eventfd each on epoll; a pipe each (two fds) on kqueue platforms,
    // which have no eventfd.
    const FDS_EACH: usize = if cfg!(evq_epoll) { 1 } else { 2 };
    // Generous: other tests of this binary run in parallel and hold fds too.
    let needed = util::open_fds() + FDS_EACH * COUNT + 64;
    if let Some(limit) = open_files_soft_limit() {
        assert!(
            needed <= limit,
            "this test needs ~{needed} open fds but the soft RLIMIT_NOFILE is \
             {limit}: raise it (ulimit -n) to run it"
        );
    }

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    #[cfg(evq_epoll)] // eventfds
    let fds: Vec<OwnedFd> = (0..COUNT).map(|_| eventfd()).collect();
    #[cfg(evq_kqueue)] // pipes, whose writers stay open: data, not end of file
    let (fds, mut writers): (Vec<io::PipeReader>, Vec<io::PipeWriter>) =
        (0..COUNT).map(|_| pipe()).unzip();
    for (i, fd) in fds.iter().enumerate() {
        poll.registry()
            .register(fd, Token(i), Interest::READABLE)
            .unwrap();
    }
    #[cfg(evq_epoll)] // eventfds
    for fd in &fds {
        eventfd_add(fd, 1);
    }
    #[cfg(evq_kqueue)] // pipes
    for writer in &mut writers {
        writer.write_all(b"x").unwrap();
    }

    let mut times_seen: HashMap<Token, usize> = HashMap::new();
    let mut polls = 0;
    loop {
        let batch = poll_now(&mut poll, &mut events);
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= events.capacity());
        polls += 1;
        assert!(polls <= COUNT, "the reports never end");
        for event in batch {
            *times_seen.entry(event.token()).or_default() += 1;
        }
    }
    let expected: HashSet<Token> = (0..COUNT).map(Token).collect();
    let seen: HashSet<Token> = times_seen.keys().copied().collect();
    assert_eq!(seen, expected, "every token, and no other");
    let repeated: Vec<_> = times_seen.iter().filter(|(_, &n)| n != 1).collect();
    assert!(repeated.is_empty(), "reported more than once: {repeated:?}");
}
