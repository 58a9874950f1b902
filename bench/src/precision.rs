//! `evq-bench precision`: how late (never how early) a poll timeout and a
//! timer source fire, on every loop, for 50 µs, 200 µs, 1 ms and 10 ms.
//!
//! A *timeout* trial is one `poll(Some(d))` with nothing registered:
//! overshoot = time from just before the call until it returns, minus `d`.
//! A *timer* trial arms a timerfd for `d` (evq: an `evq::Timer`; mio,
//! polling and raw C have no timer, so a timerfd made with libc, which is
//! what their users write) registered edge-triggered, and polls with no
//! timeout until its event: overshoot = time from just before arming
//! until the event is back, minus `d`. A negative overshoot is an early
//! return. Trials are interleaved (one per loop in turn) so that all loops
//! share the machine's noise.

use crate::event_loop::{EventLoop, Interest, Mode};
use crate::loops::{Evq, Mio, Polling, RawC};
use crate::sample::broken;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// The durations and their trial counts (fewer for the long ones).
const DURATIONS: [(Duration, usize); 4] = [
    (Duration::from_micros(50), 4000),
    (Duration::from_micros(200), 2000),
    (Duration::from_millis(1), 1000),
    (Duration::from_millis(10), 200),
];

const USAGE: &str = "usage: evq-bench precision [--smoke] [--allow-idle] [--timer-slack-ns NS]";

/// A timer a trial arms and reads back.
trait Timer {
    fn fd(&self) -> RawFd;
    fn arm(&self, after: Duration) -> io::Result<()>;
    fn read(&self) -> io::Result<u64>;
}

impl Timer for evq::Timer {
    fn fd(&self) -> RawFd {
        self.as_raw_fd()
    }
    fn arm(&self, after: Duration) -> io::Result<()> {
        Ok(self.set_timeout(after)?)
    }
    fn read(&self) -> io::Result<u64> {
        Ok(evq::Timer::read(self)?)
    }
}

/// A timerfd made with libc, for the loops that have no timer.
struct LibcTimer(OwnedFd);

impl LibcTimer {
    fn new() -> io::Result<LibcTimer> {
        // SAFETY: timerfd_create takes no pointers.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor nobody else owns.
        Ok(LibcTimer(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

impl Timer for LibcTimer {
    fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
    fn arm(&self, after: Duration) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: libc::c_long::from(after.subsec_nanos() as i32),
            },
        };
        // SAFETY: `spec` is valid and only read; no old value is asked for.
        let ret = unsafe { libc::timerfd_settime(self.fd(), 0, &spec, std::ptr::null_mut()) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    fn read(&self) -> io::Result<u64> {
        let mut count = 0u64;
        // SAFETY: 8 writable bytes, the size a timerfd read takes.
        let n = unsafe { libc::read(self.fd(), (&raw mut count).cast(), 8) };
        if n != 8 {
            return Err(io::Error::last_os_error());
        }
        Ok(count)
    }
}

/// One loop with its timer, and the overshoots measured on it.
struct Subject<L, T> {
    event_loop: L,
    timer: T,
    timeouts: Vec<f64>,
    timers: Vec<f64>,
}

impl<L: EventLoop, T: Timer> Subject<L, T> {
    fn new(timer: T) -> io::Result<Self> {
        let mut event_loop = L::new(16)?;
        event_loop.register(timer.fd(), 1, Interest::Read, Mode::Edge)?;
        Ok(Subject {
            event_loop,
            timer,
            timeouts: Vec::new(),
            timers: Vec::new(),
        })
    }

    /// One timeout trial and one timer trial; overshoots in µs.
    fn trial(&mut self, d: Duration) -> io::Result<()> {
        let start = Instant::now();
        let n = self.event_loop.poll(Some(d), |_| ())?;
        let elapsed = start.elapsed();
        if n != 0 {
            return Err(broken(format!("{}: an event with nothing armed", L::NAME)));
        }
        self.timeouts.push(overshoot_us(elapsed, d));

        let start = Instant::now();
        self.timer.arm(d)?;
        while self.event_loop.poll(None, |_| ())? == 0 {}
        let elapsed = start.elapsed();
        if self.timer.read()? != 1 {
            return Err(broken(format!("{}: timer did not expire once", L::NAME)));
        }
        self.timers.push(overshoot_us(elapsed, d));
        Ok(())
    }
}

fn overshoot_us(elapsed: Duration, asked: Duration) -> f64 {
    (elapsed.as_nanos() as f64 - asked.as_nanos() as f64) / 1000.0
}

/// Runs the trials and prints the Markdown table.
pub fn main(args: &[String]) -> io::Result<bool> {
    let mut smoke = false;
    let mut allow_idle = false;
    let mut timer_slack_ns = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--allow-idle" => allow_idle = true,
            "--timer-slack-ns" => {
                let value = args.next().and_then(|v| v.parse::<u64>().ok());
                timer_slack_ns = Some(value.ok_or_else(usage_error)?);
            }
            _ => return Err(usage_error()),
        }
    }
    // The kernel lets a wait with a timeout (epoll_wait, epoll_pwait2) end
    // up to the thread's timer slack late (50 µs by default); timerfds
    // have none. A program that wants tighter timeouts sets it.
    if let Some(ns) = timer_slack_ns {
        // SAFETY: PR_SET_TIMERSLACK takes one integer argument.
        if unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let no_idle = (!allow_idle)
        .then(crate::cpu_idle::hold)
        .and_then(Result::ok);
    println!(
        "Overshoot (µs) of a timeout and of a timer, per loop: median / p99 / max, \
         and min (negative = early). Kernel {}; CPU idle states {}; timer slack {}.\n",
        crate::report::info::kernel(),
        if no_idle.is_some() {
            "held off (/dev/cpu_dma_latency)"
        } else {
            "allowed"
        },
        timer_slack_ns.map_or("the default (50 µs)".to_string(), |ns| format!("{ns} ns")),
    );
    println!("| what | asked | loop | trials | median | p99 | max | min | early |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    let mut never_early = true;
    for (d, trials) in DURATIONS {
        let trials = if smoke { 5 } else { trials };
        let mut evq = Subject::<Evq, _>::new(evq::Timer::new()?)?;
        let mut mio = Subject::<Mio, _>::new(LibcTimer::new()?)?;
        let mut polling = Subject::<Polling, _>::new(LibcTimer::new()?)?;
        let mut raw_c = Subject::<RawC, _>::new(LibcTimer::new()?)?;
        for _ in 0..trials {
            evq.trial(d)?;
            mio.trial(d)?;
            polling.trial(d)?;
            raw_c.trial(d)?;
        }
        for (what, pick) in [("timeout", 0), ("timer", 1)] {
            for (name, values) in [
                (<Evq>::NAME, [&evq.timeouts, &evq.timers][pick]),
                (Mio::NAME, [&mio.timeouts, &mio.timers][pick]),
                (Polling::NAME, [&polling.timeouts, &polling.timers][pick]),
                (RawC::NAME, [&raw_c.timeouts, &raw_c.timers][pick]),
            ] {
                let row = Row::of(values);
                never_early &= row.early == 0;
                println!(
                    "| {what} | {d:?} | {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
                    values.len(),
                    row.median,
                    row.p99,
                    row.max,
                    row.min,
                    row.early
                );
            }
        }
    }
    Ok(never_early)
}

fn usage_error() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, USAGE)
}

/// The summary of one loop's overshoots.
struct Row {
    median: f64,
    p99: f64,
    max: f64,
    min: f64,
    early: usize,
}

impl Row {
    fn of(values: &[f64]) -> Row {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Row {
            median: at(0.5),
            p99: at(0.99),
            max: sorted[sorted.len() - 1],
            min: sorted[0],
            early: sorted.iter().filter(|&&v| v < 0.0).count(),
        }
    }
}
