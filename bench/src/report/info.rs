//! What the reader needs to know about the run itself.

use std::fs;

/// The machine and the settings of a run.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The command line.
    pub command: String,
    /// The CPU model and count, from /proc/cpuinfo.
    pub cpu: String,
    /// The kernel release.
    pub kernel: String,
    /// /proc/loadavg when the run began.
    pub load_before: String,
    /// /proc/loadavg when it ended.
    pub load_after: String,
    /// Measured rounds per case.
    pub rounds: usize,
    /// Target sample duration, ms.
    pub sample_ms: u64,
    /// Whether syscalls were counted in-process.
    pub counters: bool,
    /// Whether CPU idle states were held off (`/dev/cpu_dma_latency` = 0).
    pub no_idle: bool,
    /// The open-files limit (soft, hard).
    pub fd_limit: (u64, u64),
    /// Wall-clock seconds the run took.
    pub seconds: f64,
}

/// The CPU model and the number of logical CPUs.
pub fn cpu() -> String {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let count = info
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    format!("{model} × {count}")
}

/// The kernel release.
pub fn kernel() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The 1, 5 and 15 minute load averages.
pub fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
