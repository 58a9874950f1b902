//! evq-bench: the same event-loop scenarios on evq, mio, polling and a raw C
//! epoll loop, in one process, interleaved, with a Markdown table of the
//! results. `evq-bench --help` lists scenarios and options; BENCHMARKS.md
//! at the repository root holds a full run and its reading.
//!
//! Linux only: every loop is measured against a raw C epoll loop. Elsewhere
//! the crate builds (so `cargo build --workspace` works on macOS and the
//! BSDs) into a binary that says so and fails.

#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod cpu_idle;
#[cfg(target_os = "linux")]
mod event_loop;
#[cfg(target_os = "linux")]
mod fds;
#[cfg(target_os = "linux")]
mod harness;
#[cfg(target_os = "linux")]
mod load;
#[cfg(target_os = "linux")]
mod loops;
#[cfg(target_os = "linux")]
mod precision;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod sample;
#[cfg(target_os = "linux")]
mod scenarios;
#[cfg(target_os = "linux")]
mod stats;
#[cfg(target_os = "linux")]
mod strace;
#[cfg(target_os = "linux")]
mod syscalls;
#[cfg(target_os = "linux")]
mod watchdog;

#[cfg(target_os = "linux")]
use cli::{Command, Options};
#[cfg(target_os = "linux")]
use report::info::{self, RunInfo};
#[cfg(target_os = "linux")]
use std::io;
use std::process::ExitCode;
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

/// How long a scenario may go without finishing a sample.
#[cfg(target_os = "linux")]
const STALL_LIMIT: Duration = Duration::from_secs(120);

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("evq-bench: Linux only (the scenarios compare against a raw C epoll loop)");
    ExitCode::FAILURE
}

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("precision") {
        let outcome = precision::main(&args[1..]);
        if let Ok(false) = outcome {
            eprintln!("evq-bench: FAILED: a loop returned early");
        }
        return exit_code(outcome);
    }
    if args.first().map(String::as_str) == Some("load") {
        return exit_code(load::main(&args[1..]));
    }
    let options = match Options::parse(args.clone()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("evq-bench: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match &options.command {
        Command::Help => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Single {
            scenario,
            case,
            kind,
            ops,
        } => single(&options, scenario, *case, *kind, *ops),
        Command::Run(scenarios) => run(&options, scenarios, &args),
    };
    exit_code(result)
}

/// Success, a failed check (1), or an error (1, after saying what it was).
#[cfg(target_os = "linux")]
fn exit_code(result: io::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("evq-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `single`: one sample of one case on one loop.
#[cfg(target_os = "linux")]
fn single(
    options: &Options,
    scenario: &str,
    index: usize,
    kind: event_loop::LoopKind,
    ops: u64,
) -> io::Result<bool> {
    fds::raise_fd_limit()?;
    watchdog::start(STALL_LIMIT);
    let mut cases = scenarios::cases(scenario, options)?;
    let count = cases.len();
    let case = cases.get_mut(index).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{scenario} has {count} cases"),
        )
    })?;
    let sample = case.sample(kind, ops, false)?;
    println!("{} {}", sample.elapsed.as_nanos(), sample.ops);
    Ok(true)
}

/// Runs the scenarios, prints the report; `false` if any loop did other
/// work than the rest or a case failed.
#[cfg(target_os = "linux")]
fn run(options: &Options, names: &[String], args: &[String]) -> io::Result<bool> {
    let began = Instant::now();
    let limit = fds::raise_fd_limit()?;
    watchdog::start(STALL_LIMIT);
    let counters = !options.smoke && syscalls::SyscallCounter::available();
    if !options.smoke && !counters {
        eprintln!("evq-bench: syscall tracepoint counters unavailable (tracefs, perf_event_open): no syscalls/op unless --syscalls");
    }
    let no_idle = if options.smoke || options.allow_idle {
        None
    } else {
        cpu_idle::hold()
            .map_err(|e| {
                eprintln!("evq-bench: CPU idle states stay enabled (/dev/cpu_dma_latency: {e})")
            })
            .ok()
    };
    let strace = options.strace && strace::available();
    if options.strace && !strace {
        eprintln!("evq-bench: --syscalls needs strace, which is not installed");
    }
    let mut info = RunInfo {
        command: format!("evq-bench {}", args.join(" "))
            .trim_end()
            .to_owned(),
        cpu: info::cpu(),
        kernel: info::kernel(),
        load_before: info::load(),
        rounds: if options.smoke { 1 } else { options.rounds },
        sample_ms: options.sample_ms,
        counters,
        no_idle: no_idle.is_some(),
        fd_limit: (limit.soft, limit.hard),
        ..RunInfo::default()
    };

    let mut results = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        for (index, mut case) in scenarios::cases(name, options)?.into_iter().enumerate() {
            let label = format!("{} {}", report::title(name), case.label());
            eprint!("{label} ...");
            match harness::run_case(case.as_mut(), index, options) {
                Ok((mut result, mismatches)) => {
                    let medians: Vec<String> = result
                        .loops
                        .iter()
                        .filter_map(|l| {
                            Some(format!(
                                "{} {}",
                                l.kind.name(),
                                report::short(l.spread()?.median)
                            ))
                        })
                        .collect();
                    eprintln!(" {} ns/{}", medians.join(", "), result.unit);
                    drop(case);
                    if strace {
                        for loop_result in &mut result.loops {
                            match strace::count(options, name, index, loop_result.kind, result.ops)
                            {
                                Ok(counts) => loop_result.strace = Some(counts),
                                Err(e) => problems.push(format!("{label}: {e}")),
                            }
                        }
                    }
                    problems.extend(mismatches);
                    results.push(result);
                }
                Err(e) => {
                    eprintln!(" failed");
                    problems.push(format!("{label}: {e}"));
                }
            }
        }
    }
    info.load_after = info::load();
    info.seconds = began.elapsed().as_secs_f64();

    let targets = if options.smoke {
        Vec::new()
    } else {
        report::targets::check(&results)
    };
    print!(
        "{}",
        report::markdown::render(&info, &results, &targets, &options.loops)
    );
    if let Some(path) = &options.json {
        std::fs::write(
            path,
            report::json::render(&info, &results, &targets, &options.loops),
        )?;
    }
    if let Some(path) = &options.plot {
        std::fs::write(path, report::svg::render(&results, &options.loops))?;
    }
    if problems.is_empty() {
        eprintln!(
            "evq-bench: {} cases, every loop did the same work",
            results.len()
        );
        Ok(true)
    } else {
        for problem in &problems {
            eprintln!("evq-bench: FAILED: {problem}");
        }
        Ok(false)
    }
}
