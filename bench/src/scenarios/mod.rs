//! The eight scenarios, one module each. A scenario turns the command-line
//! parameters into [`Case`]s; the harness runs each case on every loop.

pub mod chain;
pub mod churn;
pub mod echo;
pub mod idle_poll;
pub mod rearm;
pub mod register_threads;
pub mod sparse;
pub mod waker;

use crate::cli::Options;
use crate::event_loop::LoopKind;
use crate::sample::Sample;
use std::io;

/// The most events one poll returns, for every loop in every scenario.
pub const CAPACITY: usize = 1024;

/// One parameter set of one scenario, runnable on any loop.
pub trait Case {
    /// The scenario's name (`chain`, `idle-poll`, ...).
    fn scenario(&self) -> &'static str;

    /// The parameters, e.g. `pipe n=1000 a=100`.
    fn label(&self) -> String;

    /// What one operation is, e.g. `event`, `call`, `round trip`.
    fn unit(&self) -> &'static str;

    /// Anything the reader must know about this case (e.g. a capped `N`).
    fn note(&self) -> Option<String> {
        None
    }

    /// Whether the report should also give operations per second (the
    /// inverse of the median), as for requests and wakes.
    fn throughput(&self) -> bool {
        false
    }

    /// Operations for a first, short calibration sample.
    fn initial_ops(&self) -> u64;

    /// Runs `ops` operations on `kind` and measures them; with `count`, also
    /// counts the system calls of the measured region.
    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample>;
}

/// The scenarios by name, in the order `all` runs them.
pub const NAMES: [&str; 8] = [
    "chain",
    "idle-poll",
    "sparse",
    "churn",
    "rearm",
    "waker",
    "echo",
    "register-threads",
];

/// The cases of scenario `name` for the given options.
pub fn cases(name: &str, options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    match name {
        "chain" => chain::cases(options),
        "idle-poll" => idle_poll::cases(options),
        "sparse" => sparse::cases(options),
        "churn" => churn::cases(options),
        "rearm" => rearm::cases(options),
        "waker" => waker::cases(options),
        "echo" => echo::cases(options),
        "register-threads" => register_threads::cases(options),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown scenario {name:?}"),
        )),
    }
}
