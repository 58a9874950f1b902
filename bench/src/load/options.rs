//! `evq-bench load`'s command line.

use std::time::Duration;

/// The usage text.
pub const USAGE: &str = "\
usage: evq-bench load --server \"COMMAND\" [OPTIONS]

Starts COMMAND (split at whitespace, no shell), reads its `listening on ADDR`
line (an IPv4 loopback address), and loads it from one evq Poll thread:
short connections one after another (with resets spread among them), then
many connections held open at once, each echoing a random payload checked
byte for byte, while never-reading and dribbling clients misbehave. It
samples the server's VmRSS, VmHWM and open fds from /proc, prints PASS or
FAIL for each bound, a Markdown row of the numbers, and exits with status 1
if any bound failed. Both ends run with RLIMIT_NOFILE's soft limit raised
to the hard limit (the server inherits it).

options (full-size defaults; --smoke sets the small ones in brackets):
  --server COMMAND            the server to start (required)
  --smoke                     a run of seconds, for CI
  --connections N             connections held open at once (9000) [200]
  --max-payload BYTES         held payloads are 1..=BYTES (65536)
  --short N                   short connections (50000) [500]
  --short-parallel N          short connections open at once (1)
  --short-max-payload BYTES   short payloads are 1..=BYTES (256)
  --resets N                  connections reset once connected (1000) [20]
  --never-readers N           clients that write and never read (4) [2]
  --never-read-mib MIB        what each tries to write (256) [64]
  --dribblers N               1-byte writers open at once (16) [4]
  --dribble-bytes N           bytes per dribbler (32) [8]
  --dribble-pause-ms MS       pause between its writes (10)
  --connect-window N          connections opened but not echoing yet (64)
  --sources N                 source addresses 127.0.0.1..N, in turn (8)
  --seed N                    payload sizes and contents (1)
  --time-limit-s S            the whole run must end within S (600) [120]
  --rss-slack-mib M           allowed server RSS growth over its idle RSS
                              without held connections (32)
  --rss-per-connection-kib K  and per held connection on top (160)
  --leak-slack-mib M          allowed RSS growth over the last 90% of the
                              short connections (4)";

/// Everything `load` takes.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// The server command.
    pub server: String,
    /// Held connections.
    pub connections: usize,
    /// Largest held payload.
    pub max_payload: u64,
    /// Short connections.
    pub short: usize,
    /// Short connections at once.
    pub short_parallel: usize,
    /// Largest short payload.
    pub short_max_payload: u64,
    /// Resets.
    pub resets: usize,
    /// Never-readers.
    pub never_readers: usize,
    /// What each never-reader tries to write, in MiB.
    pub never_read_mib: u64,
    /// Dribblers at once.
    pub dribblers: usize,
    /// Bytes per dribbler.
    pub dribble_bytes: u64,
    /// Pause between dribbled bytes.
    pub dribble_pause: Duration,
    /// Connections not yet echoing, at most.
    pub connect_window: usize,
    /// Source addresses.
    pub sources: usize,
    /// Seed.
    pub seed: u64,
    /// Time limit of the run.
    pub time_limit: Duration,
    /// RSS growth allowed without held connections, MiB.
    pub rss_slack_mib: u64,
    /// RSS allowed per held connection, KiB.
    pub rss_per_connection_kib: u64,
    /// RSS growth allowed over most short connections, MiB.
    pub leak_slack_mib: u64,
    /// `--help` was asked for.
    pub help: bool,
}

impl LoadOptions {
    fn full() -> LoadOptions {
        LoadOptions {
            server: String::new(),
            connections: 9000,
            max_payload: 64 * 1024,
            short: 50_000,
            short_parallel: 1,
            short_max_payload: 256,
            resets: 1000,
            never_readers: 4,
            never_read_mib: 256,
            dribblers: 16,
            dribble_bytes: 32,
            dribble_pause: Duration::from_millis(10),
            connect_window: 64,
            sources: 8,
            seed: 1,
            time_limit: Duration::from_secs(600),
            rss_slack_mib: 32,
            rss_per_connection_kib: 160,
            leak_slack_mib: 4,
            help: false,
        }
    }

    fn smoke(mut self) -> LoadOptions {
        self.connections = 200;
        self.short = 500;
        self.resets = 20;
        self.never_readers = 2;
        self.never_read_mib = 64;
        self.dribblers = 4;
        self.dribble_bytes = 8;
        self.time_limit = Duration::from_secs(120);
        self
    }

    /// Parses the arguments after `load`. `--smoke` sets its defaults
    /// first, wherever it stands, so other options override them.
    pub fn parse(args: &[String]) -> Result<LoadOptions, String> {
        let mut options = LoadOptions::full();
        if args.iter().any(|a| a == "--smoke") {
            options = options.smoke();
        }
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => {
                    options.help = true;
                    return Ok(options);
                }
                "--smoke" => continue,
                _ => {}
            }
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            let count = || -> Result<u64, String> {
                value
                    .parse()
                    .map_err(|_| format!("{arg}: not a whole number: {value:?}"))
            };
            let positive = || match count()? {
                0 => Err(format!("{arg} must be at least 1")),
                n => Ok(n),
            };
            match arg.as_str() {
                "--server" => options.server = value.clone(),
                "--connections" => options.connections = count()? as usize,
                "--max-payload" => options.max_payload = positive()?,
                "--short" => options.short = count()? as usize,
                "--short-parallel" => options.short_parallel = positive()? as usize,
                "--short-max-payload" => options.short_max_payload = positive()?,
                "--resets" => options.resets = count()? as usize,
                "--never-readers" => options.never_readers = count()? as usize,
                "--never-read-mib" => options.never_read_mib = positive()?,
                "--dribblers" => options.dribblers = count()? as usize,
                "--dribble-bytes" => options.dribble_bytes = positive()?,
                "--dribble-pause-ms" => options.dribble_pause = Duration::from_millis(count()?),
                "--connect-window" => options.connect_window = positive()? as usize,
                "--sources" => options.sources = positive()?.min(254) as usize,
                "--seed" => options.seed = count()?,
                "--time-limit-s" => options.time_limit = Duration::from_secs(positive()?),
                "--rss-slack-mib" => options.rss_slack_mib = count()?,
                "--rss-per-connection-kib" => options.rss_per_connection_kib = count()?,
                "--leak-slack-mib" => options.leak_slack_mib = count()?,
                _ => return Err(format!("unknown load option {arg}")),
            }
        }
        if options.server.trim().is_empty() {
            return Err("load needs --server \"COMMAND\"".to_owned());
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<LoadOptions, String> {
        LoadOptions::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn smoke_sets_small_defaults_that_options_override() {
        let options = parse(&["--connections", "50", "--smoke", "--server", "x --y"]).unwrap();
        assert_eq!(options.server, "x --y");
        assert_eq!(options.connections, 50);
        assert_eq!(options.short, 500);
        let full = parse(&["--server", "x"]).unwrap();
        assert_eq!((full.connections, full.short), (9000, 50_000));
        assert!(parse(&[]).is_err());
        assert!(parse(&["--server", "x", "--short-parallel", "0"]).is_err());
        assert!(parse(&["--server", "x", "--bogus", "1"]).is_err());
        assert!(parse(&["--help"]).unwrap().help);
    }
}
