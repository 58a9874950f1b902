//! Builds and runs the examples as child processes (`cargo run --example`)
//! and checks what they do from the outside: the delay client's output, the
//! echo server's echoes.
//!
//! Nothing here sleeps to synchronise: the echo server's `listening on`
//! line says when to connect, and end of file on a child's stdout says it
//! has exited. Every wait has a timeout, so a broken example fails its test
//! instead of hanging it, and a child still running when a test fails is
//! killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a child may take to print a line or exit, including building
/// the example on a busy machine (the first `cargo run` compiles it).
const CHILD_PATIENCE: Duration = Duration::from_secs(300);

/// The read and write timeout of the echo clients' sockets.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// `cargo run --quiet --example NAME -- ARGS`, in this crate.
///
/// On Unix `cargo run` execs the example in its own process, so the child
/// is the example itself and killing it kills the example.
#[cfg(unix)]
fn example(name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", name]);
    // The features this test was built with, so cargo reuses the evq it
    // built (and `--cfg evq_force_kqueue`, inherited through RUSTFLAGS,
    // finds the bindgen feature it needs).
    if cfg!(feature = "bindgen") {
        command.args(["--features", "bindgen"]);
    }
    command
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

/// The example NAME with ARGS, run directly: the executable `cargo test`
/// built beside this test's own (`<target dir>/debug/examples/NAME.exe`,
/// this test being in `.../debug/deps`). Under wine, where CI runs the
/// Windows build, the `cargo` that built the test is a Linux program that
/// a Windows process cannot start; the examples are built with the tests
/// anyway. (Run the suite through `cargo test`, which builds them; `cargo
/// test --test examples` alone does not.)
#[cfg(windows)]
fn example(name: &str, args: &[&str]) -> Command {
    let test = std::env::current_exe().expect("this test's path");
    let profile_dir = test
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the test runs from <profile dir>/deps");
    let exe = profile_dir.join("examples").join(format!("{name}.exe"));
    assert!(
        exe.exists(),
        "{} is not built: run `cargo test`",
        exe.display()
    );
    let mut command = Command::new(exe);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

/// A running example: killed when dropped unless it has been waited for,
/// so a failing test never leaves it behind.
struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl Running {
    fn start(name: &str, args: &[&str]) -> Running {
        let mut child = example(name, args)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run cargo for example {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        // Read stdout on a thread, so waiting for a line can time out. The
        // channel disconnects at end of file: the child has exited.
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// The next line of stdout; `None` at end of file.
    fn next_line(&self, deadline: Instant) -> Option<String> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("timed out waiting for the example's output"),
        }
    }

    /// Every remaining line of stdout, then the exit status.
    fn finish(mut self) -> (Vec<String>, ExitStatus) {
        let deadline = Instant::now() + CHILD_PATIENCE;
        let mut lines = Vec::new();
        while let Some(line) = self.next_line(deadline) {
            lines.push(line);
        }
        // Its stdout is closed, so it has exited (or is about to).
        let status = self.child.wait().expect("wait for the example");
        (lines, status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Harmless if it has already exited and been waited for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn delay_client_prints_responses_in_reverse_order_then_finished() {
    // 500, 400, 300, 200, 100 ms: 100 ms between responses is plenty to
    // keep them in order on a loaded machine. Timings are not checked.
    let (lines, status) = Running::start("delay_client", &["--scale", "0.1"]).finish();
    assert!(
        status.success(),
        "delay_client failed: {status}; output: {lines:#?}"
    );

    let responses: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("response "))
        .collect();
    let numbers: Vec<u32> = responses
        .iter()
        .map(|line| {
            line["response ".len()..]
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no request number in {line:?}"))
        })
        .collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1], "output: {lines:#?}");
    for (line, number) in responses.iter().zip(&numbers) {
        let delay = 100 * (6 - number);
        assert!(
            line.contains(&format!("(delay {delay} ms)")),
            "wrong delay in {line:?}"
        );
        assert!(
            line.ends_with(&format!(": request-{number}")),
            "wrong body in {line:?}"
        );
    }
    assert_eq!(lines.len(), 6, "output: {lines:#?}");
    assert_eq!(lines.last().map(String::as_str), Some("FINISHED"));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn delay_client_reports_a_refused_connection() {
    // A port that was just free: nothing listens there now. The client's
    // non-blocking connects fail after returning, so the failure must come
    // from its events (take_error), and the client must still exit.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .to_string();
    // Bounded without a timeout here: the client gives up by itself
    // (GRACE) even if no event ever came.
    let output = example("delay_client", &["--server", &addr, "--scale", "0.1"])
        .stderr(Stdio::piped())
        .output()
        .expect("run delay_client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stdout.contains("FINISHED"), "stdout: {stdout}");
    assert_eq!(
        stderr.matches("connection failed").count(),
        5,
        "each of the five requests reports its failure; stderr: {stderr}"
    );
    // libkqueue reads SO_ERROR itself when it reports the error event,
    // which clears it: `take_error()` then has nothing to say why
    // (../shared/libkqueue/README.md). Real kernels keep it.
    #[cfg(not(evq_force_kqueue))]
    assert_eq!(
        stderr.matches("refused").count(),
        5,
        "each of the five requests reports the refusal; stderr: {stderr}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn delay_client_rejects_bad_arguments() {
    for args in [&["--scale", "fast"][..], &["--scale", "-1"], &["--bogus"]] {
        let (lines, status) = Running::start("delay_client", args).finish();
        assert_eq!(status.code(), Some(2), "args {args:?}: {status}");
        assert!(lines.is_empty(), "args {args:?} printed {lines:#?}");
    }
}

/// Runs the echo server with `args` and `clients` clients spread over
/// `threads` threads, and checks every echo and that the server exits.
fn echo_clients(args: &[&str], threads: usize, clients_per_thread: usize) {
    let clients = threads * clients_per_thread;
    let exit_after = clients.to_string();
    let mut all_args = vec!["--exit-after", &exit_after];
    all_args.extend_from_slice(args);
    let server = Running::start("echo_server", &all_args);

    let first = server
        .next_line(Instant::now() + CHILD_PATIENCE)
        .expect("echo_server exited before listening");
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on ADDR`, got {first:?}"))
        .to_owned();

    let workers: Vec<_> = (0..threads)
        .map(|thread_index| {
            let addr = addr.clone();
            thread::spawn(move || {
                for i in 0..clients_per_thread {
                    echo_client(&addr, (thread_index * clients_per_thread + i) as u64);
                }
            })
        })
        .collect();
    let mut failures = 0;
    for worker in workers {
        if worker.join().is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, 0, "{failures} client thread(s) failed ({args:?})");

    // All `--exit-after` clients are served: the server exits by itself.
    let (lines, status) = server.finish();
    assert!(status.success(), "echo_server {args:?} failed: {status}");
    assert_eq!(
        lines,
        [format!("served {clients} connections, exiting")],
        "echo_server {args:?} output"
    );
}

/// One client: a few small round trips, then 1 MiB written while reading
/// the echo (the server's socket buffers fill up, so it must keep unsent
/// bytes and wait for writability), then half-close and end of file.
fn echo_client(addr: &str, seed: u64) {
    let mut stream = TcpStream::connect(addr).expect("connect to echo_server");
    stream.set_read_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(SOCKET_TIMEOUT)).unwrap();

    for (round, len) in [1, 100, 5000].into_iter().enumerate() {
        let message = pattern(seed * 10 + round as u64, len);
        stream.write_all(&message).expect("send a small message");
        let mut echo = vec![0; len];
        stream.read_exact(&mut echo).expect("read a small echo");
        assert!(echo == message, "client {seed}: wrong echo of {len} bytes");
    }

    // Write on another thread: writing 1 MiB before reading any of it
    // would deadlock once both directions' buffers are full.
    let large = pattern(seed * 10 + 9, 1 << 20);
    let mut writer = stream.try_clone().unwrap();
    let to_send = large.clone();
    let sender = thread::spawn(move || {
        writer.write_all(&to_send).expect("send 1 MiB");
        // Half-close: the server must flush everything, then close.
        writer.shutdown(Shutdown::Write).expect("shutdown(Write)");
    });
    let mut echo = Vec::with_capacity(large.len());
    stream
        .read_to_end(&mut echo)
        .expect("read the echo up to end of file");
    sender.join().expect("the sending thread");
    assert_eq!(echo.len(), large.len(), "client {seed}: echo length");
    assert!(echo == large, "client {seed}: the 1 MiB echo differs");
}

/// `len` pseudo-random bytes (xorshift), different for each seed.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn echo_server_echoes_for_many_clients() {
    for trigger in ["edge", "level"] {
        echo_clients(&["--trigger", trigger], 4, 3);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn echo_server_with_max_connections_makes_clients_wait_their_turn() {
    // Four clients at a time against a limit of two: the listener is
    // paused and resumed as clients come and go.
    for trigger in ["edge", "level"] {
        echo_clients(&["--trigger", trigger, "--max-connections", "2"], 4, 2);
    }
}
