//! Counting system calls from inside the harness, with the kernel's own
//! syscall tracepoints (`raw_syscalls:sys_enter` and the `epoll_*` ones)
//! read through `perf_event_open(2)` counters: exact, for every loop alike
//! (polling makes its calls through rustix's raw syscalls, which no libc
//! wrapper would see), and switched on only around the measured region.
//!
//! Needs tracefs (`/sys/kernel/tracing`) and permission to open tracepoint
//! counters (root, or `perf_event_paranoid` ≤ 1 with access to tracefs);
//! without them the counts are simply not available, and `--syscalls` (strace)
//! is the fallback.

use std::fs;
use std::io;
use std::ops::{Add, Sub};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// System calls made in a measured region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All system calls.
    pub total: u64,
    /// `epoll_wait`, `epoll_pwait` and `epoll_pwait2`.
    pub wait: u64,
    /// `epoll_ctl`.
    pub ctl: u64,
}

impl Add for Counts {
    type Output = Counts;
    fn add(self, other: Counts) -> Counts {
        Counts {
            total: self.total + other.total,
            wait: self.wait + other.wait,
            ctl: self.ctl + other.ctl,
        }
    }
}

impl Sub for Counts {
    type Output = Counts;
    fn sub(self, other: Counts) -> Counts {
        Counts {
            total: self.total.saturating_sub(other.total),
            wait: self.wait.saturating_sub(other.wait),
            ctl: self.ctl.saturating_sub(other.ctl),
        }
    }
}

/// Whose system calls a [`SyscallCounter`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The thread that opened the counter.
    Thread,
    /// That thread and every thread it starts after opening the counter.
    ThreadAndNewThreads,
    /// Another process's thread with this id (for a single-threaded
    /// process, its pid): `evq-bench load` counts the server's calls.
    Process(libc::pid_t),
}

/// `struct perf_event_attr` up to `config1` (`PERF_ATTR_SIZE_VER0`, 64 bytes),
/// enough for a tracepoint counter.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
const FLAG_DISABLED: u64 = 1 << 0;
const FLAG_INHERIT: u64 = 1 << 1;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_RESET: libc::c_ulong = 0x2403;
const PERF_IOC_FLAG_GROUP: libc::c_ulong = 1;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

const TRACEFS: [&str; 2] = [
    "/sys/kernel/tracing/events",
    "/sys/kernel/debug/tracing/events",
];
const WAITS: [&str; 3] = [
    "sys_enter_epoll_wait",
    "sys_enter_epoll_pwait",
    "sys_enter_epoll_pwait2",
];

/// The tracepoint's id, from tracefs.
fn tracepoint_id(group: &str, name: &str) -> io::Result<u64> {
    let mut last = io::Error::from(io::ErrorKind::NotFound);
    for root in TRACEFS {
        match fs::read_to_string(format!("{root}/{group}/{name}/id")) {
            Ok(id) => {
                return id
                    .trim()
                    .parse()
                    .map_err(|_| io::ErrorKind::InvalidData.into())
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Opens one disabled tracepoint counter, in `group`'s group if given.
fn open(id: u64, scope: Scope, group: Option<&OwnedFd>) -> io::Result<OwnedFd> {
    let mut attr = PerfEventAttr {
        kind: PERF_TYPE_TRACEPOINT,
        size: size_of::<PerfEventAttr>() as u32,
        config: id,
        flags: FLAG_DISABLED,
        ..PerfEventAttr::default()
    };
    if scope == Scope::ThreadAndNewThreads {
        attr.flags |= FLAG_INHERIT;
    }
    let group_fd = group.map_or(-1, |fd| fd.as_raw_fd());
    let pid = match scope {
        Scope::Process(pid) => pid,
        Scope::Thread | Scope::ThreadAndNewThreads => 0,
    };
    // SAFETY: `attr` is a valid perf_event_attr of the size it declares, read
    // by the kernel during the call; pid 0 and cpu -1 mean this thread on any
    // CPU (another pid: that thread); the other arguments are plain values.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid,
            -1,
            group_fd,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: perf_event_open succeeded: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn ioctl(fd: &OwnedFd, request: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the perf ioctls used here take a plain flag argument.
    if unsafe { libc::ioctl(fd.as_raw_fd(), request, PERF_IOC_FLAG_GROUP) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn read_count(fd: &OwnedFd) -> io::Result<u64> {
    let mut value = [0u8; 8];
    crate::fds::read(fd, &mut value)?;
    Ok(u64::from_ne_bytes(value))
}

/// A group of syscall counters, disabled until [`start`](Self::start).
#[derive(Debug)]
pub struct SyscallCounter {
    total: OwnedFd,
    waits: Vec<OwnedFd>,
    ctl: OwnedFd,
    /// What an empty start/stop counts (the disabling ioctl itself).
    baseline: Counts,
}

impl SyscallCounter {
    /// Opens the counters for `scope`; fails where tracepoints are not
    /// available.
    pub fn open(scope: Scope) -> io::Result<SyscallCounter> {
        let total = open(tracepoint_id("raw_syscalls", "sys_enter")?, scope, None)?;
        let ctl = open(
            tracepoint_id("syscalls", "sys_enter_epoll_ctl")?,
            scope,
            Some(&total),
        )?;
        let waits = WAITS
            .iter()
            .filter_map(|name| tracepoint_id("syscalls", name).ok())
            .map(|id| open(id, scope, Some(&total)))
            .collect::<io::Result<Vec<_>>>()?;
        let mut counter = SyscallCounter {
            total,
            waits,
            ctl,
            baseline: Counts::default(),
        };
        counter.start()?;
        counter.baseline = counter.stop()?;
        Ok(counter)
    }

    /// Whether counters can be opened here.
    pub fn available() -> bool {
        SyscallCounter::open(Scope::Thread).is_ok()
    }

    /// Zeroes and enables the counters.
    pub fn start(&self) -> io::Result<()> {
        ioctl(&self.total, PERF_EVENT_IOC_RESET)?;
        ioctl(&self.total, PERF_EVENT_IOC_ENABLE)
    }

    /// Disables the counters and returns what they counted since
    /// [`start`](Self::start), less the cost of starting and stopping.
    pub fn stop(&self) -> io::Result<Counts> {
        ioctl(&self.total, PERF_EVENT_IOC_DISABLE)?;
        let mut wait = 0;
        for fd in &self.waits {
            wait += read_count(fd)?;
        }
        let counts = Counts {
            total: read_count(&self.total)?,
            wait,
            ctl: read_count(&self.ctl)?,
        };
        Ok(counts - self.baseline)
    }
}
