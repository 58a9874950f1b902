//! Chooses the event-queue backend for the target and provides its `sys`
//! bindings.
//!
//! The recipe:
//! 1. The target OS picks the backend: epoll (Linux, Android), kqueue
//!    (Apple's OSes, the BSDs) or IOCP (Windows: a completion port and
//!    `\Device\Afd` readiness polls). For Windows it also links the
//!    import libraries the bindings' functions live in.
//! 2. By default the bindings are a committed file,
//!    `src/sys/bindings/<family>/<arch>.rs`, so building evq needs no
//!    libclang. They are keyed by what the C declarations depend on: the OS
//!    family (`apple` serves macOS, iOS, tvOS, watchOS and visionOS, which
//!    share Darwin's headers; each BSD; `windows` for every Windows
//!    toolchain) and the architecture with its byte
//!    order and pointer width (`ARCHES`); on Linux also the libc, as
//!    `<arch>.rs` (glibc) and `<arch>-musl.rs` (musl, and Android: bionic
//!    declares what musl does). The epoll ABI is the kernel's, but the
//!    libcs spell the socket declarations differently (glibc passes
//!    addresses as a transparent union under `_GNU_SOURCE`), and musl on
//!    32-bit x86 does not pack `struct epoll_event` while glibc does.
//! 3. With the `bindgen` feature, bindgen generates them from `wrapper.h`
//!    and the target's headers instead (`build/generate.rs`), and
//!    regenerates every committed file (`build/committed.rs` lists them)
//!    and proves the targets that share one get the same items
//!    (`build/regenerate.rs`, `build/same_items.rs`) for `tests/bindings.rs`.
//!
//! `--cfg evq_force_kqueue` (in RUSTFLAGS) selects the kqueue backend on
//! Linux, against libkqueue: it needs the `bindgen` feature,
//! `EVQ_KQUEUE_INCLUDE_DIR` (the directory holding libkqueue's
//! `sys/event.h`) and, to link, `EVQ_KQUEUE_LIB_DIR`.
//!
//! Everything here describes the *target* (`CARGO_CFG_TARGET_*`, `TARGET`),
//! never the host: `cfg!()` in a build script answers for the machine that
//! runs it.

// Without the `bindgen` feature the allowlists are not read.
#![cfg_attr(not(feature = "bindgen"), allow(dead_code))]

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

#[cfg(feature = "bindgen")]
#[path = "build/committed.rs"]
mod committed;
#[cfg(feature = "bindgen")]
#[path = "build/generate.rs"]
mod generate;
#[cfg(feature = "bindgen")]
#[path = "build/regenerate.rs"]
mod regenerate;
#[cfg(feature = "bindgen")]
#[path = "build/same_items.rs"]
mod same_items;

/// What `sys` declares for each backend, one group per piece of evq code
/// that needs it (named in the comment above the group). bindgen keeps
/// exactly these items and the types they mention; every name is a regular
/// expression. To add a declaration, add it to the group of the code that
/// uses it, or a new group (and its header to `wrapper.h`), then
/// regenerate (README.md, "Bindings").
struct Allowlist {
    functions: &'static [&'static str],
    types: &'static [&'static str],
    vars: &'static [&'static str],
}

/// Declarations every Unix backend uses: the same calls on epoll and
/// kqueue targets. A name an OS lacks simply matches nothing there.
const UNIX_ITEMS: &[Allowlist] = &[
    // Debug builds' blocking-socket check (src/backend/blocking_socket.rs)
    Allowlist {
        functions: &["fcntl", "getsockopt"],
        types: &["socklen_t"],
        vars: &["F_GETFL", "O_NONBLOCK", "SOL_SOCKET", "SO_TYPE"],
    },
    // evq::net's sockets and pipes (src/net/sys.rs). The names an OS lacks
    // (accept4, SOCK_NONBLOCK on macOS; SO_NOSIGPIPE on Linux) match
    // nothing there. glibc declares SOCK_* in an enum, `__socket_type`.
    Allowlist {
        functions: &[
            "socket",
            "socketpair",
            "bind",
            "listen",
            "connect",
            "accept",
            "accept4",
            "setsockopt",
            "pipe",
            "pipe2",
            "fcntl",
        ],
        types: &[
            "__socket_type",
            "socklen_t",
            "sockaddr",
            "sockaddr_storage",
            "sockaddr_in",
            "sockaddr_in6",
            "sockaddr_un",
        ],
        vars: &[
            "AF_(INET|INET6|UNIX)",
            "SOCK_(STREAM|DGRAM|NONBLOCK|CLOEXEC)",
            "SOL_SOCKET",
            "SO_(REUSEADDR|NOSIGPIPE)",
            "SOMAXCONN",
            "EINPROGRESS",
            "F_(GETFL|SETFL|GETFD|SETFD)",
            "O_(NONBLOCK|CLOEXEC)",
            "FD_CLOEXEC",
        ],
    },
    // Signals' signal sets and the thread's mask (src/backend/signal_mask.rs;
    // NetBSD and OpenBSD define the set operations inline only, so there
    // they match nothing); `kill` for the tests that send signals.
    Allowlist {
        functions: &[
            "sigemptyset",
            "sigaddset",
            "sigdelset",
            "sigismember",
            "pthread_sigmask",
            "kill",
        ],
        types: &[],
        vars: &["SIG_(BLOCK|UNBLOCK|SETMASK)", "SIG[A-Z]+[0-9]*"],
    },
];

const EPOLL_ITEMS: &[Allowlist] = &[
    // The epoll backend (src/backend/epoll.rs)
    Allowlist {
        functions: &["epoll_create1", "epoll_ctl", "epoll_wait"],
        // glibc declares the EPOLL* flags in `enum EPOLL_EVENTS`, musl and
        // bionic as macros: both spellings, so every libc yields them.
        types: &["EPOLL_EVENTS"],
        vars: &[
            "EPOLL(IN|PRI|OUT|RDNORM|RDBAND|WRNORM|WRBAND|MSG|ERR|HUP|RDHUP|EXCLUSIVE|WAKEUP|ONESHOT|ET)",
            "EPOLL_CTL_(ADD|MOD|DEL)",
            "EPOLL_CLOEXEC",
        ],
    },
    // The io_uring backend (src/backend/uring/, feature `io-uring`): the
    // ring ABI, its system calls (through `syscall`) and the mmap of its
    // rings.
    Allowlist {
        functions: &["syscall", "mmap", "munmap"],
        types: &["io_uring_(params|sqe|cqe|getevents_arg|op)", "__kernel_timespec"],
        vars: &[
            "__NR_io_uring_(setup|enter)",
            "IORING_(SETUP|ENTER|FEAT|SQ|CQE_F|POLL|OFF)_.*",
            "IORING_OP_(NOP|POLL_ADD|POLL_REMOVE)",
            "IOSQE_CQE_SKIP_SUCCESS_BIT",
            "PROT_(READ|WRITE)",
            "MAP_(SHARED|POPULATE)",
            "E(TIME|BADF|CANCELED)",
        ],
    },
    // The fd helpers the tests, the model and the benchmark share
    // (tests/util/fd.rs), and the model's own (model/src/os.rs; `raise`
    // sends its `Signals` a signal to the calling thread).
    Allowlist {
        functions: &["pipe2", "socketpair", "dup2", "poll", "setsockopt", "raise"],
        types: &["pollfd", "linger", "__socket_type"],
        vars: &[
            "O_(NONBLOCK|CLOEXEC|PATH)",
            "AF_UNIX",
            "SOCK_(STREAM|NONBLOCK|CLOEXEC)",
            "SOL_SOCKET",
            "SO_LINGER",
            "POLL(IN|PRI|OUT|ERR|HUP|RDHUP)",
            "E(BADF|PERM|INVAL)",
        ],
    },
    // The waker's eventfd (src/backend/eventfd.rs)
    Allowlist {
        functions: &["eventfd", "read", "write"],
        types: &[],
        vars: &["EFD_(SEMAPHORE|CLOEXEC|NONBLOCK)"],
    },
    // Nanosecond waits (src/backend/epoll.rs) and pidfd_open
    // (src/backend/pidfd.rs), called by number: `__kernel_timespec` and
    // the SYS_ numbers are the kernel's ABI, whatever the libc's version.
    Allowlist {
        functions: &["syscall"],
        types: &["__kernel_timespec"],
        vars: &["SYS_(epoll_pwait2|pidfd_open)"],
    },
    // Timer (src/backend/timerfd.rs). timerfd_settime is called by number
    // with the kernel's `__kernel_itimerspec` (64-bit times everywhere):
    // libc's `itimerspec` has a 32-bit `time_t` on 32-bit glibc and bionic
    // and a 64-bit one on 32-bit musl, which also renames the symbol.
    Allowlist {
        functions: &["timerfd_create"],
        types: &["__kernel_itimerspec"],
        vars: &[
            "CLOCK_MONOTONIC",
            "TFD_(CLOEXEC|NONBLOCK)",
            "SYS_timerfd_settime(64)?",
        ],
    },
    // Signals (src/backend/signalfd.rs)
    Allowlist {
        functions: &["signalfd"],
        types: &["signalfd_siginfo"],
        vars: &["SFD_(CLOEXEC|NONBLOCK)"],
    },
    // ChildExit (src/backend/pidfd.rs)
    Allowlist {
        functions: &["waitid", "waitpid", "poll"],
        types: &["idtype_t", "pollfd"],
        vars: &["P_PIDFD", "W(EXITED|NOHANG|NOWAIT)", "POLLIN"],
    },
];

const KQUEUE_ITEMS: &[Allowlist] = &[
    // The kqueue backend (src/backend/kqueue.rs)
    Allowlist {
        functions: &["kqueue", "kqueue1", "kevent"],
        types: &["kevent", "timespec"],
        vars: &[
            "EV_(ADD|DELETE|ENABLE|DISABLE|CLEAR|DISPATCH|RECEIPT|ERROR|EOF)",
            "EVFILT_(READ|WRITE)",
            "O_CLOEXEC",
            // Receipts' errnos the backend tells apart.
            "EBADF",
        ],
    },
    // Close-on-exec where kqueue1 is missing (src/backend/kqueue.rs)
    Allowlist {
        functions: &["fcntl"],
        types: &[],
        vars: &["F_SETFD", "FD_CLOEXEC"],
    },
    // The fd helpers the tests share (tests/util/fd.rs)
    Allowlist {
        functions: &["pipe", "dup2", "getdtablesize"],
        types: &[],
        vars: &["F_SETFL", "F_GETFD", "O_NONBLOCK"],
    },
    // The waker's EVFILT_USER event (src/backend/user_event.rs)
    Allowlist {
        functions: &[],
        types: &[],
        vars: &["EVFILT_USER", "NOTE_TRIGGER"],
    },
    // Timer (src/backend/kqueue_timer.rs)
    Allowlist {
        functions: &[],
        types: &[],
        vars: &["EV_ONESHOT", "EVFILT_TIMER", "NOTE_(NSECONDS|USECONDS)"],
    },
    // Signals (src/backend/kqueue_signals.rs)
    Allowlist {
        functions: &[],
        types: &[],
        vars: &["EVFILT_SIGNAL"],
    },
    // ChildExit (src/backend/kqueue_proc.rs)
    Allowlist {
        functions: &["waitpid"],
        types: &[],
        vars: &["EVFILT_PROC", "NOTE_EXIT", "WNOHANG"],
    },
];

const WINDOWS_ITEMS: &[Allowlist] = &[
    // The completion port: Poll, Waker (src/backend/iocp/). Win32 error
    // codes and the NTSTATUS values with casts are re-declared in
    // src/sys/include/evq_win32_constants.h so that bindgen reads them.
    Allowlist {
        functions: &[
            "CreateIoCompletionPort",
            "GetQueuedCompletionStatusEx",
            "PostQueuedCompletionStatus",
            "SetFileCompletionNotificationModes",
            "CancelIoEx",
            "CloseHandle",
            "GetLastError",
        ],
        types: &["HANDLE", "OVERLAPPED", "OVERLAPPED_ENTRY"],
        vars: &[
            "INFINITE",
            "INVALID_HANDLE_VALUE",
            "FILE_SKIP_(COMPLETION_PORT_ON_SUCCESS|SET_EVENT_ON_HANDLE)",
            "WAIT_TIMEOUT",
            "ERROR_(INVALID_HANDLE|INVALID_PARAMETER|NOT_SUPPORTED|OPERATION_ABORTED|IO_PENDING|NOT_FOUND)",
        ],
    },
    // Readiness polls on \Device\Afd (src/backend/iocp/): ntdll's calls,
    // and the AFD declarations of src/sys/include/evq_afd.h.
    Allowlist {
        functions: &[
            "NtCreateFile",
            "NtDeviceIoControlFile",
            "NtCancelIoFileEx",
            "RtlNtStatusToDosError",
        ],
        types: &[
            "NTSTATUS",
            "IO_STATUS_BLOCK",
            "UNICODE_STRING",
            "OBJECT_ATTRIBUTES",
            "AFD_POLL_INFO",
            "AFD_POLL_HANDLE_INFO",
        ],
        vars: &[
            "IOCTL_AFD_POLL",
            "AFD_POLL_(RECEIVE|RECEIVE_EXPEDITED|SEND|DISCONNECT|ABORT|LOCAL_CLOSE|ACCEPT|CONNECT_FAIL)",
            "STATUS_(SUCCESS|PENDING|CANCELLED|NOT_FOUND|INVALID_HANDLE)",
            "SYNCHRONIZE",
            "FILE_SHARE_(READ|WRITE)",
            "FILE_OPEN",
            "OBJ_CASE_INSENSITIVE",
        ],
    },
    // A socket's base handle, the one AFD polls (src/backend/iocp/).
    Allowlist {
        functions: &["WSAIoctl"],
        types: &[],
        vars: &["SIO_BASE_HANDLE", "SIO_BSP_HANDLE(_SELECT|_POLL)?"],
    },
    // evq::net's sockets (src/net/), and the socket helpers the tests
    // share (tests/util).
    Allowlist {
        functions: &[
            "WSAStartup",
            "WSACleanup",
            "WSAGetLastError",
            "WSASocketW",
            "ioctlsocket",
            "bind",
            "listen",
            "connect",
            "accept",
            "closesocket",
            "shutdown",
            "getsockopt",
            "setsockopt",
            "getsockname",
            "getpeername",
            "recv",
            "send",
            "recvfrom",
            "sendto",
            "SetHandleInformation",
        ],
        types: &[
            "SOCKET",
            "WSADATA",
            "WSAPROTOCOL_INFOW",
            "SOCKADDR",
            "SOCKADDR_STORAGE",
            "sockaddr_in",
            "sockaddr_in6",
            "socklen_t",
            "linger",
        ],
        vars: &[
            "INVALID_SOCKET",
            "SOCKET_ERROR",
            "AF_(UNSPEC|INET|INET6)",
            "SOCK_(STREAM|DGRAM)",
            "IPPROTO_(TCP|UDP|IPV6)",
            "IPV6_V6ONLY",
            "TCP_NODELAY",
            "SOL_SOCKET",
            "SO_(ERROR|TYPE|REUSEADDR|EXCLUSIVEADDRUSE|LINGER)",
            "SOMAXCONN",
            "SD_(RECEIVE|SEND|BOTH)",
            "FIONBIO",
            "FIONREAD",
            "WSA_FLAG_(OVERLAPPED|NO_HANDLE_INHERIT)",
            "WSAE[A-Z]+",
            "HANDLE_FLAG_INHERIT",
        ],
    },
];

/// The import libraries the Windows bindings' functions live in: ntdll
/// (`Nt*`, `Rtl*`), ws2_32 (Winsock) and kernel32 (the completion port,
/// handles). Linked by build.rs rather than `#[link]` attributes in the
/// generated file, which bindgen does not emit for a static import library
/// and whose names would then be spelled out in every committed file.
const WINDOWS_LIBRARIES: &[&str] = &["ntdll", "ws2_32", "kernel32"];

/// The committed bindings file for each architecture, and the byte order
/// and pointer width it was made for: `(target_arch, target_endian,
/// target_pointer_width, file stem)`. A target whose architecture matches
/// but whose ABI does not (e.g. `arm64_32-apple-watchos`, 32-bit pointers
/// on aarch64) has no committed file.
const ARCHES: &[(&str, &str, &str, &str)] = &[
    ("x86_64", "little", "64", "x86_64"),
    ("x86", "little", "32", "x86"),
    ("aarch64", "little", "64", "aarch64"),
    ("arm", "little", "32", "arm"),
    ("riscv64", "little", "64", "riscv64"),
    ("powerpc64", "little", "64", "powerpc64le"),
    ("s390x", "big", "64", "s390x"),
    ("loongarch64", "little", "64", "loongarch64"),
];

/// Where the committed bindings live: `<family>/<arch>.rs`.
const COMMITTED_DIR: &str = "src/sys/bindings";

/// The kernel mechanism behind `Poll` on the target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Epoll,
    Kqueue,
    Iocp,
}

impl Backend {
    fn for_os(os: &str) -> Option<Backend> {
        match os {
            "linux" | "android" => Some(Backend::Epoll),
            "macos" | "ios" | "tvos" | "watchos" | "visionos" | "freebsd" | "netbsd"
            | "openbsd" | "dragonfly" => Some(Backend::Kqueue),
            "windows" => Some(Backend::Iocp),
            _ => None,
        }
    }

    fn cfg(self) -> &'static str {
        match self {
            Backend::Epoll => "evq_epoll",
            Backend::Kqueue => "evq_kqueue",
            Backend::Iocp => "evq_iocp",
        }
    }

    /// The allowlist groups of this backend, then those of every Unix for
    /// the Unix backends.
    fn items(self) -> impl Iterator<Item = &'static Allowlist> {
        let (own, unix) = match self {
            Backend::Epoll => (EPOLL_ITEMS, UNIX_ITEMS),
            Backend::Kqueue => (KQUEUE_ITEMS, UNIX_ITEMS),
            Backend::Iocp => (WINDOWS_ITEMS, &[][..]),
        };
        own.iter().chain(unix)
    }
}

/// The OS family whose headers declare the same items: the directory of
/// the committed bindings.
fn os_family(os: &str) -> Option<&'static str> {
    match os {
        "linux" | "android" => Some("linux"),
        "macos" | "ios" | "tvos" | "watchos" | "visionos" => Some("apple"),
        "freebsd" => Some("freebsd"),
        "netbsd" => Some("netbsd"),
        "openbsd" => Some("openbsd"),
        "windows" => Some("windows"),
        _ => None,
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=src/sys/include");
    println!("cargo:rerun-if-changed={COMMITTED_DIR}");
    println!("cargo:rustc-check-cfg=cfg(evq_epoll)");
    println!("cargo:rustc-check-cfg=cfg(evq_kqueue)");
    println!("cargo:rustc-check-cfg=cfg(evq_iocp)");
    println!("cargo:rustc-check-cfg=cfg(evq_force_kqueue)");

    let target = env::var("TARGET").expect("cargo sets TARGET for build scripts");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // `--cfg evq_force_kqueue` in RUSTFLAGS reaches build scripts as this.
    let force_kqueue = env::var_os("CARGO_CFG_EVQ_FORCE_KQUEUE").is_some();

    let backend = if force_kqueue {
        Some(Backend::Kqueue)
    } else {
        Backend::for_os(&os)
    };
    let Some(backend) = backend else {
        let message = format!(
            "evq has no event queue backend for target OS `{os}` ({target}): \
             it supports epoll (Linux, Android), kqueue (macOS, iOS and the BSDs) \
             and IOCP (Windows)"
        );
        point_sys_at(&write_compile_error(&out_dir, &message));
        return;
    };
    println!("cargo:rustc-cfg={}", backend.cfg());
    if backend == Backend::Iocp {
        for library in WINDOWS_LIBRARIES {
            println!("cargo:rustc-link-lib={library}");
        }
    }

    let bindings = if force_kqueue {
        libkqueue_bindings(&manifest_dir, &out_dir, &target)
    } else {
        target_bindings(&manifest_dir, &out_dir, &target, &os, backend)
    };
    point_sys_at(&bindings);
}

/// Tells `src/sys/mod.rs` which file to `include!`.
fn point_sys_at(path: &Path) {
    println!("cargo:rustc-env=EVQ_SYS_BINDINGS={}", path.display());
}

/// Writes a bindings file that stops the build with `message`, so the error
/// shows up as a normal compile error at the `include!` site.
fn write_compile_error(out_dir: &Path, message: &str) -> PathBuf {
    let path = out_dir.join("bindings_missing.rs");
    fs::write(&path, format!("::core::compile_error!({message:?});\n"))
        .expect("OUT_DIR is writable");
    path
}

/// The committed bindings for the target being built: the
/// `<family>/<arch>-<libc>` key where that libc's headers differ from the
/// others' (a file exists), else `<family>/<arch>`; or why there is none.
fn committed_key(manifest_dir: &Path, os: &str) -> Result<String, String> {
    let var = |name: &str| env::var(name).unwrap_or_default();
    let (env, arch, endian, width) = (
        var("CARGO_CFG_TARGET_ENV"),
        var("CARGO_CFG_TARGET_ARCH"),
        var("CARGO_CFG_TARGET_ENDIAN"),
        var("CARGO_CFG_TARGET_POINTER_WIDTH"),
    );
    let family = os_family(os).ok_or_else(|| format!("the OS `{os}`"))?;
    let stem = ARCHES
        .iter()
        .find(|(a, e, w, _)| *a == arch && *e == endian && *w == width)
        .map(|(.., stem)| stem)
        .ok_or_else(|| format!("{arch} ({endian}-endian, {width}-bit pointers)"))?;
    Ok(libc_key(manifest_dir, family, stem, os, &env))
}

/// `<family>/<stem>-<libc>` if the target's libc has its own file, else
/// `<family>/<stem>`.
fn libc_key(manifest_dir: &Path, family: &str, stem: &str, os: &str, env: &str) -> String {
    let libc = match (os, env) {
        // bionic declares what musl does (plain pointers for socket
        // addresses): Android takes the musl file.
        ("android", _) => Some("musl"),
        (_, "musl") => Some("musl"),
        _ => None,
    };
    let own = libc.map(|libc| format!("{family}/{stem}-{libc}"));
    match own {
        Some(key) if committed_path(manifest_dir, &key).is_file() => key,
        _ => format!("{family}/{stem}"),
    }
}

/// The path of a committed bindings file.
fn committed_path(manifest_dir: &Path, key: &str) -> PathBuf {
    manifest_dir.join(COMMITTED_DIR).join(format!("{key}.rs"))
}

#[cfg(not(feature = "bindgen"))]
fn target_bindings(
    manifest_dir: &Path,
    out_dir: &Path,
    target: &str,
    os: &str,
    _: Backend,
) -> PathBuf {
    let committed = committed_key(manifest_dir, os).map(|key| committed_path(manifest_dir, &key));
    match committed {
        Ok(path) if path.is_file() => path,
        Ok(path) => no_committed_bindings(out_dir, target, &path.display().to_string()),
        Err(what) => no_committed_bindings(out_dir, target, &format!("none for {what}")),
    }
}

#[cfg(not(feature = "bindgen"))]
fn no_committed_bindings(out_dir: &Path, target: &str, expected: &str) -> PathBuf {
    let message = format!(
        "evq has no committed bindings for target `{target}` (expected: {expected}). \
         Build with `--features bindgen` (needs libclang) to generate them from the \
         target's headers, pointing EVQ_BINDGEN_INCLUDE_{} at them; see README.md, \
         \"Bindings\".",
        target.replace('-', "_"),
    );
    write_compile_error(out_dir, &message)
}

#[cfg(not(feature = "bindgen"))]
fn libkqueue_bindings(_manifest_dir: &Path, out_dir: &Path, _target: &str) -> PathBuf {
    write_compile_error(
        out_dir,
        "`--cfg evq_force_kqueue` needs `--features bindgen` and EVQ_KQUEUE_INCLUDE_DIR \
         (the directory holding libkqueue's sys/event.h); see README.md, \"Platforms\".",
    )
}

#[cfg(feature = "bindgen")]
fn target_bindings(
    manifest_dir: &Path,
    out_dir: &Path,
    target: &str,
    os: &str,
    backend: Backend,
) -> PathBuf {
    // docs.rs has neither libclang nor foreign headers: document the
    // committed bindings even if a feature set turned `bindgen` on.
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    if env::var_os("DOCS_RS").is_some() {
        if let Ok(path) =
            committed_key(manifest_dir, os).map(|key| committed_path(manifest_dir, &key))
        {
            if path.is_file() {
                return path;
            }
        }
    }
    let headers = regenerate::headers_for_build_target(target);
    let description = format!("{target}: bindgen output for wrapper.h");
    let generated = generate::bindings(
        manifest_dir,
        target,
        backend,
        &headers.args(),
        &description,
        &headers.origin,
    )
    .unwrap_or_else(|e| panic!("bindgen failed for {target}: {e}"));
    let path = out_dir.join("bindings.rs");
    fs::write(&path, generated).expect("OUT_DIR is writable");

    regenerate::committed(manifest_dir, out_dir);
    path
}

#[cfg(feature = "bindgen")]
fn libkqueue_bindings(manifest_dir: &Path, out_dir: &Path, target: &str) -> PathBuf {
    for var in ["EVQ_KQUEUE_INCLUDE_DIR", "EVQ_KQUEUE_LIB_DIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let Some(include) = env::var_os("EVQ_KQUEUE_INCLUDE_DIR") else {
        return write_compile_error(
            out_dir,
            "`--cfg evq_force_kqueue` needs EVQ_KQUEUE_INCLUDE_DIR: the directory \
             holding libkqueue's sys/event.h",
        );
    };
    // The system headers first, libkqueue's only for what they lack
    // (sys/event.h).
    let args = vec![
        "-DEVQ_FORCE_KQUEUE".to_string(),
        format!("-idirafter{}", Path::new(&include).display()),
    ];
    let origin = "libkqueue's sys/event.h from $EVQ_KQUEUE_INCLUDE_DIR and the system headers";
    let description = format!("{target} over libkqueue: bindgen output for wrapper.h");
    let generated = generate::bindings(
        manifest_dir,
        target,
        Backend::Kqueue,
        &args,
        &description,
        origin,
    )
    .unwrap_or_else(|e| panic!("bindgen failed for {target} with libkqueue: {e}"));
    let path = out_dir.join("bindings.rs");
    fs::write(&path, generated).expect("OUT_DIR is writable");

    if let Some(lib_dir) = env::var_os("EVQ_KQUEUE_LIB_DIR") {
        println!(
            "cargo:rustc-link-search=native={}",
            Path::new(&lib_dir).display()
        );
    }
    println!("cargo:rustc-link-lib=kqueue");
    path
}
