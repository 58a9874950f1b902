//! With the `io-uring` feature, `Poll::new` uses epoll when the kernel
//! refuses io_uring, and `Poll::with_backend(IoUring)` says why. The test
//! re-runs itself in a child process that forbids `io_uring_setup` with a
//! seccomp filter (`EPERM`, as Docker's default profile and
//! `kernel.io_uring_disabled=2` answer), so nothing else is affected.
#![cfg(all(feature = "io-uring", target_os = "linux"))]

mod util;

use evq::{Backend, Error, Events, Interest, Poll, Token};
use std::io::Write;
use std::process::Command;
use util::{expect_event, socketpair};

/// Set in the child process.
const CHILD: &str = "EVQ_TEST_FALLBACK_CHILD";

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot spawn processes or install seccomp filters"
)]
fn poll_new_falls_back_to_epoll_when_io_uring_is_forbidden() {
    if std::env::var_os(CHILD).is_some() {
        return in_the_child();
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "poll_new_falls_back_to_epoll_when_io_uring_is_forbidden",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
}

fn in_the_child() {
    forbid_io_uring_setup();
    match Poll::with_backend(Backend::IoUring) {
        Err(error @ Error::Os { .. }) => {
            assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");
            assert!(error.to_string().starts_with("io_uring_setup"), "{error}");
        }
        other => panic!("io_uring was forbidden, got {other:?}"),
    }
    for _ in 0..2 {
        let mut poll = Poll::new().expect("Poll::new never fails for want of io_uring");
        assert_eq!(poll.backend(), Backend::Epoll);
        let (reader, mut writer) = socketpair();
        poll.registry()
            .register(&reader, Token(1), Interest::READABLE)
            .unwrap();
        writer.write_all(b"x").unwrap();
        let mut events = Events::with_capacity(4);
        assert!(expect_event(&mut poll, &mut events, Token(1)).is_readable());
    }
}

/// Installs a seccomp filter on this thread: `io_uring_setup` fails with
/// `EPERM`, every other call is allowed.
fn forbid_io_uring_setup() {
    let load_syscall_number = libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k: std::mem::offset_of!(libc::seccomp_data, nr) as u32,
    };
    let is_io_uring_setup = libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf: 1,
        k: libc::SYS_io_uring_setup as u32,
    };
    let refuse = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
    };
    let allow = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    };
    let mut filter = [load_syscall_number, is_io_uring_setup, refuse, allow];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers; it lets an
    // unprivileged process install a filter.
    let ret = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(
        ret,
        0,
        "PR_SET_NO_NEW_PRIVS: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `program` points to `filter`, both alive for the call; the
    // kernel copies the program.
    let ret = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &program as *const libc::sock_fprog,
        )
    };
    assert_eq!(
        ret,
        0,
        "PR_SET_SECCOMP: {}",
        std::io::Error::last_os_error()
    );
}
