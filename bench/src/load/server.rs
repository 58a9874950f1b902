//! The server under load: a child process started from a command line,
//! its `listening on ADDR` line, what it logs, and what `/proc` says about
//! its memory and descriptors.

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, SocketAddrV4};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long the server may take to print its address.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// How many of the server's log lines the report quotes.
const QUOTED_LINES: usize = 3;

/// What the server wrote on stderr.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Lines written.
    pub lines: u64,
    /// The first few of them.
    pub first: Vec<String>,
}

/// Memory figures from `/proc/PID/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// Resident set size now (`VmRSS`).
    pub rss_kib: u64,
    /// The largest resident set size so far (`VmHWM`, kept by the kernel,
    /// so no peak between two samples is missed).
    pub peak_kib: u64,
}

/// A running server.
pub struct Server {
    child: Child,
    /// The address it listens on (loopback).
    pub addr: SocketAddrV4,
    log: Arc<Mutex<Log>>,
    /// Reads stderr until the server exits.
    logger: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts `command` (words split at whitespace, no shell: the child is
    /// the server itself, so `/proc/PID` is its) and waits for its
    /// `listening on ADDR` line on stdout. The child inherits this
    /// process's `RLIMIT_NOFILE`.
    pub fn spawn(command: &str) -> io::Result<Server> {
        let mut words = command.split_whitespace();
        let program = words
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "--server is empty"))?;
        let mut child = Command::new(program)
            .args(words)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {program}: {e}")))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let (found, address) = mpsc::channel();
        thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on ") {
                    if let Some(found) = found.take() {
                        let _ = found.send(addr.trim().to_owned());
                    }
                }
            }
        });
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = Arc::clone(&log);
        let logger = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.lines += 1;
                if log.first.len() < QUOTED_LINES {
                    log.first.push(line);
                }
            }
        });

        let text = match address.recv_timeout(STARTUP_LIMIT) {
            Ok(text) => text,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(io::Error::other(format!(
                    "{program} printed no `listening on ADDR` line ({status}); stderr: {:?}",
                    log.lock().unwrap().first
                )));
            }
        };
        let addr = match text.parse::<SocketAddr>() {
            Ok(SocketAddr::V4(addr)) if addr.ip().is_loopback() => addr,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "the server listens on {text:?}: the driver needs an IPv4 loopback address"
                )));
            }
        };
        Ok(Server {
            child,
            addr,
            log,
            logger: Some(logger),
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory now.
    pub fn memory(&self) -> io::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| io::Error::other(format!("no {name} in /proc/PID/status")))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }

    /// Its `RLIMIT_NOFILE`, soft and hard (`Max open files` in
    /// `/proc/PID/limits`).
    pub fn fd_limit(&self) -> io::Result<(String, String)> {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.pid()))?;
        let line = limits
            .lines()
            .find_map(|line| line.strip_prefix("Max open files"))
            .ok_or_else(|| io::Error::other("no `Max open files` in /proc/PID/limits"))?;
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some(soft), Some(hard)) => Ok((soft.to_owned(), hard.to_owned())),
            _ => Err(io::Error::other(format!("unexpected limits line {line:?}"))),
        }
    }

    /// How many descriptors it has open now (`/proc/PID/fd`).
    pub fn open_fds(&self) -> io::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/fd", self.pid()))?.count())
    }

    /// `Some(status)` if it has exited.
    pub fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// What it has logged so far.
    pub fn log(&self) -> Log {
        self.log.lock().unwrap().clone()
    }

    /// Stops it (SIGKILL), reaps it, and returns all it logged.
    pub fn stop(mut self) -> io::Result<Log> {
        if self.child.try_wait()?.is_none() {
            self.child.kill()?;
        }
        self.child.wait()?;
        if let Some(logger) = self.logger.take() {
            // Its stderr is closed now, so the reader ends.
            let _ = logger.join();
        }
        Ok(self.log())
    }
}

impl Drop for Server {
    /// A run that ends early on an error leaves no server behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
