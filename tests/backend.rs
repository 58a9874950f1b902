//! `Poll::with_backend` and `Poll::backend`: which kernel mechanism a poll
//! uses, and the errors for one this build or kernel does not have.

mod util;

use evq::{Backend, Error, Events, Interest, Poll, Token};
use std::io::Write;
use util::{expect_event, stream_pair};

/// The backends this build has, on this platform.
fn compiled_in() -> Vec<Backend> {
    if cfg!(windows) {
        vec![Backend::Iocp]
    } else if cfg!(evq_kqueue) {
        vec![Backend::Kqueue]
    } else if cfg!(feature = "io-uring") {
        vec![Backend::Epoll, Backend::IoUring]
    } else {
        vec![Backend::Epoll]
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "std writes to a UnixStream with send(), which Miri refuses on a socket pair (ENOTSOCK)"
)]
fn each_backend_compiled_in_says_so_and_reports_readiness() {
    for backend in compiled_in() {
        let mut poll = match Poll::with_backend(backend) {
            Ok(poll) => poll,
            // The kernel may refuse io_uring (sysctl, seccomp): that is an
            // OS error naming the call, never a fallback.
            Err(error @ Error::Os { .. }) if backend == Backend::IoUring => {
                assert!(error.to_string().starts_with("io_uring_setup"), "{error}");
                continue;
            }
            Err(error) => panic!("{backend:?}: {error}"),
        };
        assert_eq!(poll.backend(), backend);
        let (reader, mut writer) = stream_pair();
        poll.registry()
            .register(&reader, Token(5), Interest::READABLE)
            .unwrap();
        writer.write_all(b"x").unwrap();
        let mut events = Events::with_capacity(4);
        assert!(expect_event(&mut poll, &mut events, Token(5)).is_readable());
    }
}

#[test]
fn a_backend_not_compiled_in_is_invalid_input() {
    for backend in [
        Backend::Epoll,
        Backend::IoUring,
        Backend::Kqueue,
        Backend::Iocp,
    ] {
        if compiled_in().contains(&backend) {
            continue;
        }
        match Poll::with_backend(backend) {
            Err(Error::InvalidInput { reason }) => assert!(!reason.is_empty()),
            other => panic!("{backend:?}: expected InvalidInput, got {other:?}"),
        }
    }
}

#[test]
fn poll_new_uses_a_backend_compiled_in() {
    let poll = Poll::new().unwrap();
    assert!(
        compiled_in().contains(&poll.backend()),
        "{:?}",
        poll.backend()
    );
}

/// Where io_uring is allowed (`with_backend` succeeds), `Poll::new` picks
/// it; CI runs this to prove the `--features io-uring` suite ran on it.
#[cfg(feature = "io-uring")]
#[test]
fn poll_new_uses_io_uring_where_the_kernel_allows_it() {
    let allowed = Poll::with_backend(Backend::IoUring).is_ok();
    let expected = if allowed {
        Backend::IoUring
    } else {
        Backend::Epoll
    };
    assert_eq!(Poll::new().unwrap().backend(), expected);
    assert!(allowed, "io_uring is refused here: the suite ran on epoll");
}
