//! Runs every case on every loop, interleaved, and checks that the loops
//! did the same work.
//!
//! For each case: calibrate the operation count on the raw C loop so that
//! a sample takes about `--sample-ms`; run one warm-up round (discarded)
//! and then `--rounds` rounds, each one sample per loop in the order evq,
//! mio, polling, raw C, so that drift of the machine hits all loops alike;
//! then one more, untimed sample per loop with the syscall counters on.
//! Ratios are paired: the median over rounds of (loop / other loop) within
//! the same round.

use crate::cli::Options;
use crate::event_loop::LoopKind;
use crate::sample::{Sample, Work};
use crate::scenarios::Case;
use crate::stats::Spread;
use crate::strace::StraceCounts;
use crate::syscalls::{Counts, SyscallCounter};
use crate::watchdog;
use std::io;
use std::time::Duration;

/// Syscalls per operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerOp {
    /// All system calls.
    pub total: f64,
    /// The `epoll_wait` family.
    pub wait: f64,
    /// `epoll_ctl`.
    pub ctl: f64,
}

impl PerOp {
    fn new(counts: Counts, ops: u64) -> PerOp {
        let ops = ops.max(1) as f64;
        PerOp {
            total: counts.total as f64 / ops,
            wait: counts.wait as f64 / ops,
            ctl: counts.ctl as f64 / ops,
        }
    }

    /// Calls that are neither waits nor `epoll_ctl` (reads, writes, ...).
    pub fn other(&self) -> f64 {
        self.total - self.wait - self.ctl
    }
}

/// One loop's results for one case.
#[derive(Clone, Debug)]
pub struct LoopResult {
    /// The loop.
    pub kind: LoopKind,
    /// ns per operation, one value per measured round.
    pub ns: Vec<f64>,
    /// Syscalls per operation, from the counting sample.
    pub syscalls: Option<PerOp>,
    /// Syscalls per operation under strace (`--syscalls`).
    pub strace: Option<StraceCounts>,
    /// Extra figures of the last timed sample (and the counting one's).
    pub extra: Vec<(&'static str, f64)>,
}

impl LoopResult {
    /// Median, min and max of the rounds.
    pub fn spread(&self) -> Option<Spread> {
        Spread::of(&self.ns)
    }
}

/// The results of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The scenario.
    pub scenario: &'static str,
    /// The case's index within its scenario (for `single`).
    pub index: usize,
    /// The parameters.
    pub label: String,
    /// What one operation is.
    pub unit: &'static str,
    /// A remark for the reader.
    pub note: Option<String>,
    /// Operations per sample.
    pub ops: u64,
    /// Per loop, in run order.
    pub loops: Vec<LoopResult>,
}

impl CaseResult {
    /// The results of `kind`, if it ran.
    pub fn get(&self, kind: LoopKind) -> Option<&LoopResult> {
        self.loops.iter().find(|result| result.kind == kind)
    }

    /// `a / b` per round, summarised: the paired ratio.
    pub fn ratio(&self, a: LoopKind, b: LoopKind) -> Option<Spread> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        let ratios: Vec<f64> = a.ns.iter().zip(&b.ns).map(|(a, b)| a / b).collect();
        Spread::of(&ratios)
    }
}

/// Runs one case on every selected loop. Mismatches in the work done are
/// returned as messages (the run goes on, and the process fails at the end).
pub fn run_case(
    case: &mut dyn Case,
    index: usize,
    options: &Options,
) -> io::Result<(CaseResult, Vec<String>)> {
    let name = format!("{} {}", case.scenario(), case.label());
    let mut mismatches = Vec::new();
    let ops = if options.smoke {
        (case.initial_ops() / 10).max(10)
    } else {
        calibrate(case, options)?
    };
    let rounds = if options.smoke { 1 } else { options.rounds + 1 };
    let mut results: Vec<LoopResult> = options
        .loops
        .iter()
        .map(|&kind| LoopResult {
            kind,
            ns: Vec::new(),
            syscalls: None,
            strace: None,
            extra: Vec::new(),
        })
        .collect();

    for round in 0..rounds {
        let mut work: Vec<(LoopKind, Work)> = Vec::new();
        for result in &mut results {
            let sample = run_sample(case, result.kind, ops, false, &name)?;
            if round > 0 || options.smoke {
                result.ns.push(sample.ns_per_op());
            }
            result.extra = sample.extra.clone();
            work.push((result.kind, sample.work));
        }
        mismatches.extend(compare(&name, &work));
    }

    if !options.smoke && SyscallCounter::available() {
        let mut work = Vec::new();
        for result in &mut results {
            let sample = run_sample(case, result.kind, ops, true, &name)?;
            let divisor = sample.syscall_ops.unwrap_or(sample.ops);
            result.syscalls = sample.syscalls.map(|counts| PerOp::new(counts, divisor));
            for (key, value) in sample.extra {
                if !result.extra.iter().any(|(k, _)| *k == key) {
                    result.extra.push((key, value));
                }
            }
            work.push((result.kind, sample.work));
        }
        mismatches.extend(compare(&name, &work));
    }

    if case.throughput() {
        let label = match case.unit() {
            "request" => "requests/s (from the median)",
            "wake" => "wakes/s (from the median)",
            _ => "operations/s (from the median)",
        };
        for result in &mut results {
            if let Some(spread) = result.spread() {
                result.extra.insert(0, (label, 1e9 / spread.median));
            }
        }
    }

    let result = CaseResult {
        scenario: case.scenario(),
        index,
        label: case.label(),
        unit: case.unit(),
        note: case.note(),
        ops,
        loops: results,
    };
    Ok((result, mismatches))
}

fn run_sample(
    case: &mut dyn Case,
    kind: LoopKind,
    ops: u64,
    count: bool,
    name: &str,
) -> io::Result<Sample> {
    let sample = case
        .sample(kind, ops, count)
        .map_err(|e| io::Error::new(e.kind(), format!("{name} on {}: {e}", kind.name())))?;
    watchdog::progress();
    Ok(sample)
}

/// Messages for every loop whose work differs from the first loop's.
fn compare(name: &str, work: &[(LoopKind, Work)]) -> Vec<String> {
    let Some((first_kind, first)) = work.first() else {
        return Vec::new();
    };
    work[1..]
        .iter()
        .filter(|(_, w)| w != first)
        .map(|(kind, w)| {
            format!(
                "{name}: {} did {w:?} but {} did {first:?}",
                kind.name(),
                first_kind.name()
            )
        })
        .collect()
}

/// The operation count that makes one raw C sample (or the first selected
/// loop's) last about `--sample-ms`.
fn calibrate(case: &mut dyn Case, options: &Options) -> io::Result<u64> {
    let kind = if options.loops.contains(&LoopKind::RawC) {
        LoopKind::RawC
    } else {
        options.loops[0]
    };
    let target = Duration::from_millis(options.sample_ms);
    let mut ops = case.initial_ops();
    loop {
        let sample = run_sample(case, kind, ops, false, "calibration")?;
        if sample.elapsed >= target / 4 || ops >= 1 << 32 {
            let scaled = ops as f64 * target.as_secs_f64() / sample.elapsed.as_secs_f64().max(1e-6);
            return Ok((scaled as u64).max(1));
        }
        ops *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_work_is_a_mismatch() {
        let same = [
            (LoopKind::Evq, vec![("events", 3)]),
            (LoopKind::Mio, vec![("events", 3)]),
        ];
        assert!(compare("case", &same).is_empty());
        let different = [
            (LoopKind::Evq, vec![("events", 3)]),
            (LoopKind::Mio, vec![("events", 3)]),
            (LoopKind::RawC, vec![("events", 4)]),
        ];
        let mismatches = compare("case", &different);
        assert_eq!(mismatches.len(), 1);
        assert!(mismatches[0].contains("raw C"), "{mismatches:?}");
    }
}
