//! `--syscalls`: the syscalls per operation as `strace -f -c` sees them,
//! across all threads. Each case runs on each loop in a child process
//! (`evq-bench single ...`) twice, with `k` and `2k` operations; the
//! difference of the two counts, over `k`, is the cost of one operation
//! without the setup.

use crate::cli::{loop_arg, Options};
use crate::event_loop::LoopKind;
use std::collections::BTreeMap;
use std::io;
use std::process::{Command, Stdio};

/// Operations in the smaller of the two runs under strace.
const STRACE_OPS: u64 = 2_000;

/// Syscalls per operation under strace.
#[derive(Clone, Debug, PartialEq)]
pub struct StraceCounts {
    /// All calls per operation.
    pub total: f64,
    /// Per call name, per operation, those above 0.005.
    pub calls: Vec<(String, f64)>,
}

/// Whether strace can be run.
pub fn available() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Counts one case on one loop under strace.
pub fn count(
    options: &Options,
    scenario: &str,
    index: usize,
    kind: LoopKind,
    ops: u64,
) -> io::Result<StraceCounts> {
    let k = ops.clamp(1, STRACE_OPS);
    let small = run(options, scenario, index, kind, k)?;
    let large = run(options, scenario, index, kind, 2 * k)?;
    let mut calls: Vec<(String, f64)> = large
        .iter()
        .map(|(name, &n)| {
            (
                name.clone(),
                n.saturating_sub(small.get(name).copied().unwrap_or(0)) as f64 / k as f64,
            )
        })
        .filter(|(_, per_op)| *per_op >= 0.005)
        .collect();
    calls.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(StraceCounts {
        total: calls.iter().fold(0.0, |sum, (_, n)| sum + n),
        calls,
    })
}

/// Runs `single` under `strace -f -c` and returns the calls per name.
fn run(
    options: &Options,
    scenario: &str,
    index: usize,
    kind: LoopKind,
    ops: u64,
) -> io::Result<BTreeMap<String, u64>> {
    let out = std::env::temp_dir().join(format!("evq-bench-strace-{}.txt", std::process::id()));
    let status = Command::new("strace")
        .args(["-f", "-c", "-U", "name,calls", "-o"])
        .arg(&out)
        .arg("--")
        .arg(std::env::current_exe()?)
        .args(&options.param_args)
        .args([
            "single",
            scenario,
            &index.to_string(),
            loop_arg(kind),
            &ops.to_string(),
        ])
        .stdout(Stdio::null())
        .status()?;
    let text = std::fs::read_to_string(&out);
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return Err(io::Error::other(format!(
            "strace of {scenario} #{index} on {} failed: {status}",
            kind.name()
        )));
    }
    Ok(parse(&text?))
}

/// Parses `strace -c -U name,calls` output.
fn parse(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (name, calls) = (words.next()?, words.next()?.parse().ok()?);
            (name != "total").then(|| (name.to_owned(), calls))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_name_and_calls_columns() {
        let text = "syscall              calls\n---------------- ---------\nepoll_wait            1000\nread                     1\n---------------- ---------\ntotal                 1001\n";
        let calls = super::parse(text);
        assert_eq!(calls.get("epoll_wait"), Some(&1000));
        assert_eq!(calls.get("read"), Some(&1));
        assert_eq!(calls.len(), 2);
    }
}
