//! Keeping the CPUs out of idle states while measuring.
//!
//! On this machine (a KVM guest with the haltpoll cpuidle driver) a CPU
//! that goes idle halts, and waking a thread on it takes tens of
//! microseconds of hypervisor latency, far more than any event loop spends:
//! the cross-thread scenarios (waker ping-pong, one-connection echo) then
//! measure the hypervisor, bimodally (~5 µs when the other CPU happens to
//! be busy, ~50 µs when it slept). Writing 0 to `/dev/cpu_dma_latency` (a
//! PM QoS request, held as long as the file stays open, root only) limits
//! idle to polling, as latency benchmarks (e.g. cyclictest) do. It applies
//! to all loops alike; `--allow-idle` measures without it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

/// The PM QoS request; released when dropped (the process exits).
#[derive(Debug)]
pub struct NoIdle {
    _request: File,
}

/// Asks for zero wake-up latency, if permitted.
pub fn hold() -> io::Result<NoIdle> {
    let mut request = OpenOptions::new()
        .write(true)
        .open("/dev/cpu_dma_latency")?;
    request.write_all(&0i32.to_ne_bytes())?;
    Ok(NoIdle { _request: request })
}
