//! The command line.

use crate::event_loop::LoopKind;
use crate::fds::ChannelKind;
use crate::scenarios;
use std::path::PathBuf;

/// The usage text.
pub const USAGE: &str = "\
usage: evq-bench [OPTIONS] [all | SCENARIO...]
       evq-bench [OPTIONS] single SCENARIO CASE LOOP OPS
       evq-bench precision [--smoke] [--allow-idle] [--timer-slack-ns NS]
       evq-bench load --server \"COMMAND\" [OPTIONS]   (load --help for more)

Runs each scenario on evq, mio, polling and a raw C epoll loop, interleaved
(one sample of each loop per round), and prints a Markdown table.

scenarios: chain idle-poll sparse churn rearm waker echo register-threads (or all)

precision: how late a poll timeout and a timer fire (50 µs to 10 ms, many
trials, interleaved): median, p99, max and min overshoot per loop.

options:
  --rounds R              measured rounds per case (default 11), after one
                          discarded warm-up round
  --sample-ms MS          target duration of one sample (default 50)
  --smoke                 one round with few operations, no timing: checks
                          that everything runs and that all loops do the same
                          work (exit status 1 otherwise)
  --loops LIST            a subset of evq,mio,polling,raw-c (default all)
  --json PATH             also write the results as JSON
  --plot PATH             also draw the ratios to raw C as an SVG bar chart
  --syscalls              also count syscalls per operation with strace -c -f
  --allow-idle            let CPUs enter idle states while measuring (by
                          default the run holds /dev/cpu_dma_latency at 0,
                          when permitted: see BENCHMARKS.md)
  --chain-n LIST          S1 channel counts (default 100,1000,10000)
  --chain-a LIST          S1 active counts (default 1,100,1000; those > n skipped)
  --chain-kinds LIST      S1 channel kinds (default pipe,socketpair)
  --idle-n LIST           S2 idle fd counts (default 10,1000,10000)
  --sparse-n LIST         S3 fd counts (default 10,100,1000,10000,100000)
  --churn-background B    S4 idle fds registered meanwhile (default 1000)
  --echo-sizes LIST       S7 message sizes (default 64,512)
  --echo-connections LIST S7 connection counts (default 1,50)
  --echo-threads T        S7 client threads (default 2, at most one per connection)
  -h, --help              this text

`single` runs one case (its index in the scenario's table, from 0) on one
loop, once, with OPS operations, and prints `elapsed_ns ops`: for strace,
valgrind --tool=callgrind and the like. Fd counts above RLIMIT_NOFILE's hard
limit are capped, and the table says so.";

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run these scenarios.
    Run(Vec<String>),
    /// Run one case once.
    Single {
        /// The scenario.
        scenario: String,
        /// The case's index in the scenario.
        case: usize,
        /// The loop.
        kind: LoopKind,
        /// The operation count.
        ops: u64,
    },
    /// Print the usage.
    Help,
}

/// Everything the command line sets.
#[derive(Clone, Debug)]
pub struct Options {
    /// What to do.
    pub command: Command,
    /// Measured rounds per case.
    pub rounds: usize,
    /// Target duration of one sample, in milliseconds.
    pub sample_ms: u64,
    /// Smoke mode: one round, few operations.
    pub smoke: bool,
    /// The loops to run.
    pub loops: Vec<LoopKind>,
    /// Where to write JSON.
    pub json: Option<PathBuf>,
    /// Where to write the SVG chart.
    pub plot: Option<PathBuf>,
    /// Count syscalls with strace too.
    pub strace: bool,
    /// Do not hold the CPUs out of idle states.
    pub allow_idle: bool,
    /// S1 `n` values.
    pub chain_n: Vec<usize>,
    /// S1 `a` values.
    pub chain_a: Vec<usize>,
    /// S1 channel kinds.
    pub chain_kinds: Vec<ChannelKind>,
    /// S2 `N` values.
    pub idle_n: Vec<usize>,
    /// S3 `N` values.
    pub sparse_n: Vec<usize>,
    /// S4 background registrations.
    pub churn_background: usize,
    /// S7 message sizes.
    pub echo_sizes: Vec<usize>,
    /// S7 connection counts.
    pub echo_connections: Vec<usize>,
    /// S7 client threads.
    pub echo_client_threads: usize,
    /// The scenario-parameter flags as given, to pass on to `single`.
    pub param_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            command: Command::Run(scenarios::NAMES.iter().map(|s| s.to_string()).collect()),
            rounds: 11,
            sample_ms: 50,
            smoke: false,
            loops: LoopKind::ALL.to_vec(),
            json: None,
            plot: None,
            strace: false,
            allow_idle: false,
            chain_n: vec![100, 1000, 10000],
            chain_a: vec![1, 100, 1000],
            chain_kinds: vec![ChannelKind::Pipe, ChannelKind::SocketPair],
            idle_n: vec![10, 1000, 10000],
            sparse_n: vec![10, 100, 1000, 10000, 100000],
            churn_background: 1000,
            echo_sizes: vec![64, 512],
            echo_connections: vec![1, 50],
            echo_client_threads: 2,
            param_args: Vec::new(),
        }
    }
}

/// A loop's name on the command line (`raw-c` for the C loop).
pub fn loop_arg(kind: LoopKind) -> &'static str {
    match kind {
        LoopKind::RawC => "raw-c",
        LoopKind::EvqIoUring => "evq-io-uring",
        other => other.name(),
    }
}

fn parse_loop(name: &str) -> Result<LoopKind, String> {
    LoopKind::ALL
        .into_iter()
        .find(|&kind| loop_arg(kind) == name || kind.name() == name)
        .ok_or_else(|| format!("unknown loop {name:?} (evq, evq-io-uring, mio, polling, raw-c)"))
}

fn list<T>(value: &str, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(item)
        .collect()
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("not a number: {value:?}"))
}

fn positive(value: &str) -> Result<usize, String> {
    match number::<usize>(value)? {
        0 => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

fn channel_kind(value: &str) -> Result<ChannelKind, String> {
    match value {
        "pipe" => Ok(ChannelKind::Pipe),
        "socketpair" => Ok(ChannelKind::SocketPair),
        _ => Err(format!("unknown channel kind {value:?} (pipe, socketpair)")),
    }
}

impl Options {
    /// Parses the arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut options = Options::default();
        let mut words = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if !arg.starts_with('-') {
                words.push(arg);
                continue;
            }
            if arg == "-h" || arg == "--help" {
                options.command = Command::Help;
                return Ok(options);
            }
            if arg == "--smoke" {
                options.smoke = true;
                continue;
            }
            if arg == "--syscalls" {
                options.strace = true;
                continue;
            }
            if arg == "--allow-idle" {
                options.allow_idle = true;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            match arg.as_str() {
                "--rounds" => options.rounds = positive(&value)?,
                "--sample-ms" => options.sample_ms = positive(&value)? as u64,
                "--loops" => options.loops = list(&value, parse_loop)?,
                "--json" => options.json = Some(value.clone().into()),
                "--plot" => options.plot = Some(value.clone().into()),
                "--chain-n" => options.chain_n = list(&value, positive)?,
                "--chain-a" => options.chain_a = list(&value, positive)?,
                "--chain-kinds" => options.chain_kinds = list(&value, channel_kind)?,
                "--idle-n" => options.idle_n = list(&value, number)?,
                "--sparse-n" => options.sparse_n = list(&value, positive)?,
                "--churn-background" => options.churn_background = number(&value)?,
                "--echo-sizes" => options.echo_sizes = list(&value, positive)?,
                "--echo-connections" => options.echo_connections = list(&value, positive)?,
                "--echo-threads" => options.echo_client_threads = positive(&value)?,
                _ => return Err(format!("unknown option {arg}")),
            }
            if ["--chain-", "--idle-", "--sparse-", "--churn-", "--echo-"]
                .iter()
                .any(|p| arg.starts_with(p))
            {
                options.param_args.extend([arg, value]);
            }
        }
        options.loops.sort();
        options.loops.dedup();
        options.command = match words.first().map(String::as_str) {
            None | Some("all") if words.len() <= 1 => options.command,
            Some("single") => match &words[1..] {
                [scenario, case, kind, ops] => Command::Single {
                    scenario: known_scenario(scenario)?,
                    case: number(case)?,
                    kind: parse_loop(kind)?,
                    ops: number(ops)?,
                },
                _ => return Err("single needs SCENARIO CASE LOOP OPS".to_owned()),
            },
            _ => Command::Run(
                words
                    .iter()
                    .map(|w| known_scenario(w))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(options)
    }
}

fn known_scenario(name: &str) -> Result<String, String> {
    if scenarios::NAMES.contains(&name) {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "unknown scenario {name:?} ({})",
            scenarios::NAMES.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_run_everything() {
        let options = parse(&["all"]).unwrap();
        assert_eq!(
            options.command,
            Command::Run(scenarios::NAMES.iter().map(|s| s.to_string()).collect())
        );
        assert_eq!(options.loops, LoopKind::ALL);
    }

    #[test]
    fn scenarios_lists_and_single() {
        let options = parse(&[
            "chain",
            "echo",
            "--chain-n",
            "10,20",
            "--loops",
            "raw-c,evq",
        ])
        .unwrap();
        assert_eq!(
            options.command,
            Command::Run(vec!["chain".into(), "echo".into()])
        );
        assert_eq!(options.chain_n, [10, 20]);
        assert_eq!(options.loops, [LoopKind::Evq, LoopKind::RawC]);
        assert_eq!(options.param_args, ["--chain-n", "10,20"]);
        let single = parse(&["single", "sparse", "2", "mio", "1000"]).unwrap();
        assert_eq!(
            single.command,
            Command::Single {
                scenario: "sparse".into(),
                case: 2,
                kind: LoopKind::Mio,
                ops: 1000
            }
        );
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["--rounds", "0"]).is_err());
    }
}
