//! `mio_echo`: the mio echo server `evq-bench load` compares evq's
//! `echo_server` example with (the server itself is `src/mio_echo.rs`).
//! Linux only, like the rest of the benchmark.

use std::process::ExitCode;

#[cfg(target_os = "linux")]
#[path = "../mio_echo.rs"]
mod server;

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    server::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("mio_echo: Linux only (the benchmark compares against epoll loops)");
    ExitCode::FAILURE
}
