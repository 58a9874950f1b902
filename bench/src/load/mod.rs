//! `evq-bench load`: an echo server under many connections, many short
//! ones and misbehaving clients, with the server's memory watched from
//! `/proc`. The server is any command that prints `listening on ADDR`
//! and echoes (the `echo_server` example, `mio_echo`); the client is
//! [`client`], on one evq poll.

mod client;
mod options;
mod payload;
mod plan;
mod server;
mod socket;

pub use options::{LoadOptions, USAGE};

use crate::fds;
use crate::syscalls::{Counts, Scope, SyscallCounter};
use plan::{Milestone, Plan, Stats};
use server::{Memory, Server};
use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// How long the server may take to close its side of every connection
/// after the last client is gone.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// What the observer saw of the server.
#[derive(Clone, Debug, Default)]
struct Watch {
    idle: Memory,
    idle_fds: usize,
    warm: Memory,
    short_done: Memory,
    held: Memory,
    held_fds: usize,
    /// The largest `VmRSS` of the per-second samples.
    sampled_max_kib: u64,
    /// The server's system calls during the short stage and the held
    /// stages (opening and releasing), where counters are available.
    short_syscalls: Option<Counts>,
    held_syscalls: Option<Counts>,
    errors: Vec<String>,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs `load`; `Ok(false)` if a bound failed.
pub fn main(args: &[String]) -> io::Result<bool> {
    let options =
        LoadOptions::parse(args).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if options.help {
        println!("{USAGE}");
        return Ok(true);
    }
    let limit = fds::raise_fd_limit()?;
    let mut server = Server::spawn(&options.server)?;
    let pid = server.pid();
    let (server_soft, server_hard) = server.fd_limit()?;
    println!(
        "load: `{}` (pid {pid}) on {}; RLIMIT_NOFILE soft/hard: driver {}/{}, server {server_soft}/{server_hard}",
        options.server, server.addr, limit.soft, limit.hard
    );
    let plan = Plan {
        server: server.addr,
        sources: (1..=options.sources as u8)
            .map(|last| Ipv4Addr::new(127, 0, 0, last))
            .collect(),
        held: options.connections,
        max_payload: options.max_payload,
        short: options.short,
        short_parallel: options.short_parallel,
        short_max_payload: options.short_max_payload,
        resets: options.resets,
        never_readers: options.never_readers,
        never_read_bytes: options.never_read_mib << 20,
        dribblers: options.dribblers,
        dribble_bytes: options.dribble_bytes,
        dribble_pause: options.dribble_pause,
        connect_window: options.connect_window,
        seed: options.seed,
        time_limit: options.time_limit,
    };

    let mut watch = Watch {
        idle: server.memory()?,
        idle_fds: server.open_fds()?,
        ..Watch::default()
    };
    // Counting needs tracepoint counters (root, or perf_event_paranoid <= 1).
    let counter = SyscallCounter::open(Scope::Process(pid as libc::pid_t)).ok();
    let count = |counter: &Option<SyscallCounter>, watch: &mut Watch| {
        let counter = counter.as_ref()?;
        match counter
            .stop()
            .and_then(|counts| counter.start().map(|()| counts))
        {
            Ok(counts) => Some(counts),
            Err(e) => {
                watch
                    .errors
                    .push(format!("counting the server's syscalls: {e}"));
                None
            }
        }
    };
    if let Some(counter) = &counter {
        counter.start()?;
    }
    let began = Instant::now();
    let outcome = client::run(&plan, |milestone, stats| {
        let sample = |watch: &mut Watch| match server.memory() {
            Ok(memory) => {
                watch.sampled_max_kib = watch.sampled_max_kib.max(memory.rss_kib);
                memory
            }
            Err(e) => {
                watch
                    .errors
                    .push(format!("{milestone:?}: reading /proc/{pid}/status: {e}"));
                Memory::default()
            }
        };
        let memory = sample(&mut watch);
        match milestone {
            Milestone::Tick => eprintln!(
                "load: {:>5.1} s: {} short, {} held verified, {} held closed; server RSS {:.1} MiB",
                began.elapsed().as_secs_f64(),
                stats.short_done,
                stats.held_verified,
                stats.held_closed,
                mib(memory.rss_kib)
            ),
            Milestone::ShortWarm => watch.warm = memory,
            Milestone::ShortDone => {
                watch.short_done = memory;
                watch.short_syscalls = count(&counter, &mut watch);
            }
            Milestone::AllHeld => {
                watch.held = memory;
                match server.open_fds() {
                    Ok(n) => watch.held_fds = n,
                    Err(e) => watch.errors.push(format!("reading /proc/{pid}/fd: {e}")),
                }
            }
            Milestone::HeldClosed => watch.held_syscalls = count(&counter, &mut watch),
        }
    });
    let stats = match outcome {
        Ok(stats) => stats,
        Err(e) => {
            let exited = server.exited()?;
            let log = server.log();
            let _ = server.stop();
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "{e}; server exit status {exited:?}; server log: {} lines, first {:?}",
                    log.lines, log.first
                ),
            ));
        }
    };
    let elapsed = began.elapsed();

    // After: the server must close every connection by itself and live on.
    let settle = Instant::now();
    let mut fds_after = server.open_fds().unwrap_or(usize::MAX);
    while fds_after > watch.idle_fds && settle.elapsed() < SETTLE_LIMIT {
        std::thread::sleep(Duration::from_millis(20));
        fds_after = server.open_fds().unwrap_or(usize::MAX);
    }
    let exited = server.exited()?;
    let after = server.memory().unwrap_or_default();
    let log = server.stop()?;

    let report = Report {
        options: &options,
        stats: &stats,
        watch: &watch,
        after,
        fds_after,
        exited: exited.map(|s| s.to_string()),
        log_lines: log.lines,
        elapsed,
    };
    let passed = report.print();
    if !log.first.is_empty() {
        println!("server stderr: {} lines, first: {:?}", log.lines, log.first);
    }
    Ok(passed)
}

/// The numbers of a run and the bounds they are held to.
struct Report<'a> {
    options: &'a LoadOptions,
    stats: &'a Stats,
    watch: &'a Watch,
    after: Memory,
    fds_after: usize,
    exited: Option<String>,
    log_lines: u64,
    elapsed: Duration,
}

impl Report<'_> {
    /// Prints the numbers, a PASS or FAIL line per bound and a Markdown
    /// row; `true` if every bound held.
    fn print(&self) -> bool {
        let (o, s, w) = (self.options, self.stats, self.watch);
        let short_rate = s.short_done as f64 / s.short_elapsed.as_secs_f64().max(1e-9);
        let held_rate = s.held_verified as f64 / s.held_elapsed.as_secs_f64().max(1e-9);
        let peak = self.after.peak_kib.max(w.sampled_max_kib);
        println!("run: {:.1} s", self.elapsed.as_secs_f64());
        println!(
            "short: {} of {} in {:.2} s = {short_rate:.0} conn/s ({} at a time), {} resets among them",
            s.short_done,
            o.short,
            s.short_elapsed.as_secs_f64(),
            o.short_parallel,
            s.resets_done
        );
        println!(
            "held: {} of {} verified, {} open at once, server had {} fds then (idle {}); opened and echoed in {:.2} s = {held_rate:.0} conn/s; {} closed cleanly",
            s.held_verified, o.connections, s.held_open_max, w.held_fds, w.idle_fds,
            s.held_elapsed.as_secs_f64(), s.held_closed
        );
        println!(
            "bytes verified: {} ({:.1} MiB); slowest connect {:.1} ms, {} over 1 s",
            s.bytes_verified,
            mib(s.bytes_verified / 1024),
            s.connect_max.as_secs_f64() * 1e3,
            s.connect_slow
        );
        println!(
            "misbehaving: {} resets, {} dribblers done ({} B each, {} ms apart), never-readers wrote {:?} MiB of {} each",
            s.resets_done,
            s.dribbles_done,
            o.dribble_bytes,
            o.dribble_pause.as_millis(),
            s.never_read_written.iter().map(|b| b >> 20).collect::<Vec<_>>(),
            o.never_read_mib
        );
        println!(
            "server RSS MiB: idle {:.1}, short warm {:.1}, short done {:.1} (peak {:.1}), all held {:.1}, after {:.1}, max {:.1} (VmHWM); fds idle {}, after {}; {} stderr lines",
            mib(w.idle.rss_kib),
            mib(w.warm.rss_kib),
            mib(w.short_done.rss_kib),
            mib(w.short_done.peak_kib),
            mib(w.held.rss_kib),
            mib(self.after.rss_kib),
            mib(peak),
            w.idle_fds,
            self.fds_after,
            self.log_lines
        );
        let per = |counts: Option<Counts>, n: usize| match counts {
            Some(c) if n > 0 => format!(
                "{:.2} (epoll_wait {:.2}, epoll_ctl {:.2})",
                c.total as f64 / n as f64,
                c.wait as f64 / n as f64,
                c.ctl as f64 / n as f64
            ),
            _ => "not counted".to_owned(),
        };
        println!(
            "server syscalls per short connection {}; per held connection {}",
            per(w.short_syscalls, s.short_done),
            per(w.held_syscalls, s.held_verified)
        );
        for problem in &s.problems {
            println!("problem: {problem}");
        }
        for error in &w.errors {
            println!("problem: {error}");
        }

        let slack = o.rss_slack_mib * 1024;
        let held_bound = slack + o.connections as u64 * o.rss_per_connection_kib;
        let checks = [
            (
                "server alive",
                self.exited.is_none(),
                format!("exit status {:?}", self.exited),
            ),
            (
                "every echo byte-exact, no connection failed",
                s.problem_count == 0 && w.errors.is_empty(),
                format!("{} problems", s.problem_count),
            ),
            (
                "short connections",
                s.short_done == o.short,
                format!("{} of {}", s.short_done, o.short),
            ),
            (
                "held at once",
                s.held_verified == o.connections
                    && s.held_open_max == o.connections
                    && w.held_fds >= w.idle_fds + o.connections,
                format!(
                    "{} verified, {} open, server fds {} >= {} + {}",
                    s.held_verified, s.held_open_max, w.held_fds, w.idle_fds, o.connections
                ),
            ),
            (
                "resets and dribblers",
                s.resets_done == o.resets && s.dribbles_done >= o.dribblers,
                format!("{} resets, {} dribblers", s.resets_done, s.dribbles_done),
            ),
            (
                "never-readers held back (server stopped reading)",
                s.never_read_written
                    .iter()
                    .all(|&b| b < o.never_read_mib << 20),
                format!("each wrote less than {} MiB", o.never_read_mib),
            ),
            (
                "memory without held connections",
                w.short_done.peak_kib <= w.idle.rss_kib + slack,
                format!(
                    "peak {:.1} MiB <= idle {:.1} + {} MiB",
                    mib(w.short_done.peak_kib),
                    mib(w.idle.rss_kib),
                    o.rss_slack_mib
                ),
            ),
            (
                "no growth per short connection",
                w.short_done.rss_kib <= w.warm.rss_kib + o.leak_slack_mib * 1024,
                format!(
                    "{:.1} MiB after all <= {:.1} after a tenth + {} MiB",
                    mib(w.short_done.rss_kib),
                    mib(w.warm.rss_kib),
                    o.leak_slack_mib
                ),
            ),
            (
                "memory with held connections",
                peak <= w.idle.rss_kib + held_bound,
                format!(
                    "peak {:.1} MiB <= idle {:.1} + {} MiB + {} x {} KiB",
                    mib(peak),
                    mib(w.idle.rss_kib),
                    o.rss_slack_mib,
                    o.connections,
                    o.rss_per_connection_kib
                ),
            ),
            (
                "every connection closed afterwards",
                self.fds_after <= w.idle_fds,
                format!("server fds {} <= idle {}", self.fds_after, w.idle_fds),
            ),
        ];
        let mut passed = true;
        for (name, ok, detail) in &checks {
            println!("{} {name}: {detail}", if *ok { "PASS" } else { "FAIL" });
            passed &= ok;
        }
        println!("| server | held at once | bytes verified | short conn/s | server max RSS | misbehaving clients |");
        println!("|---|---|---|---|---|---|");
        println!(
            "| `{}` | {} | {:.1} MiB | {short_rate:.0} | {:.1} MiB | {} resets, {} never-readers wrote {:?} MiB, {} dribblers: {} |",
            o.server,
            s.held_verified,
            mib(s.bytes_verified / 1024),
            mib(peak),
            s.resets_done,
            o.never_readers,
            s.never_read_written.iter().map(|b| b >> 20).collect::<Vec<_>>(),
            s.dribbles_done,
            if passed { "all PASS" } else { "FAIL" }
        );
        passed
    }
}
