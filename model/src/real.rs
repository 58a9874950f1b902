//! The real sources behind the model's slots, and the operations on them.

use super::channel::{Action, Channel, Reset};
use super::op::Kind;
use super::signals_and_children as kernel_sources;
use super::{fd, os};
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the harness waits for TCP to deliver what was sent: only ever
/// that long when something is broken.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// One end of a source: a pipe end or eventfd (`File`), a socket, a
/// timer, a signal source, or a child process and its exit.
#[derive(Debug)]
pub enum End {
    /// A timer (a timerfd).
    Timer(evq::Timer),
    /// A signal source (a signalfd), and the one signal it watches.
    Signals(evq::Signals, i32),
    /// A child's exit (a pidfd).
    ChildExit(evq::ChildExit),
    /// The child process itself: a `ChildExit`'s peer.
    Process(std::process::Child),
    /// A pipe end or an eventfd.
    File(File),
    /// An `AF_UNIX` stream socket.
    Unix(UnixStream),
    /// A TCP socket.
    Tcp(TcpStream),
}

/// Miri emulates `read(2)` and `write(2)` on a socket pair, not the
/// `recv`/`send` that std's `UnixStream` uses: there, socket I/O goes
/// through a `File` for a duplicate of the socket.
#[cfg(miri)]
fn miri_file(socket: &UnixStream) -> File {
    File::from(socket.as_fd().try_clone_to_owned().expect("dup"))
}

impl End {
    fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            End::Timer(_) | End::Signals(..) | End::ChildExit(_) | End::Process(_) => {
                unreachable!("the model never writes to a timer, signals or a child")
            }
            End::File(file) => (&*file).write_all(bytes),
            #[cfg(miri)]
            End::Unix(socket) => (&miri_file(socket)).write_all(bytes),
            #[cfg(not(miri))]
            End::Unix(socket) => (&*socket).write_all(bytes),
            End::Tcp(socket) => (&*socket).write_all(bytes),
        }
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            End::Timer(_) | End::Signals(..) | End::ChildExit(_) | End::Process(_) => {
                unreachable!("drained by their own calls (`drain`)")
            }
            End::File(file) => (&*file).read(buf),
            #[cfg(miri)]
            End::Unix(socket) => (&miri_file(socket)).read(buf),
            #[cfg(not(miri))]
            End::Unix(socket) => (&*socket).read(buf),
            End::Tcp(socket) => (&*socket).read(buf),
        }
    }

    /// Reads until `WouldBlock`, end of file, or an error (a reset);
    /// returns the bytes read.
    pub fn drain(&self) -> usize {
        match self {
            End::Timer(timer) => return timer.read().expect("harness: Timer::read") as usize,
            End::Signals(signals, _) => return kernel_sources::drain_signals(signals),
            End::ChildExit(exit) => return kernel_sources::reap(exit),
            _ => {}
        }
        let mut total = 0;
        let mut buf = [0u8; 4096];
        loop {
            match self.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return total,
            }
        }
    }

    /// Writes `len` zero bytes, or (an eventfd) adds `len` to the counter.
    fn write(&self, len: usize, eventfd: bool) {
        let result = if eventfd {
            self.write_all(&(len as u64).to_ne_bytes())
        } else {
            self.write_all(&vec![0u8; len])
        };
        if let Err(error) = result {
            panic!("harness: writing {len} bytes failed: {error}");
        }
    }

    /// What is buffered for reading here, without reading it (TCP only).
    fn peek_len(&self) -> usize {
        match self {
            End::Tcp(socket) => {
                let mut buf = [0u8; 2 * super::channel::CAPACITY];
                socket.peek(&mut buf).unwrap_or(0)
            }
            _ => 0,
        }
    }
}

impl AsFd for End {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            End::Timer(timer) => timer.as_fd(),
            End::Signals(signals, _) => signals.as_fd(),
            End::ChildExit(exit) => exit.as_fd(),
            End::Process(_) => unreachable!("a child process is no descriptor"),
            End::File(file) => file.as_fd(),
            End::Unix(socket) => socket.as_fd(),
            End::Tcp(socket) => socket.as_fd(),
        }
    }
}

impl End {
    /// Its fd number: a child process's is that of the pipe to its input,
    /// while open.
    pub fn fd_number(&self) -> Option<std::os::fd::RawFd> {
        match self {
            End::Process(child) => child.stdin.as_ref().map(|stdin| stdin.as_raw_fd()),
            other => Some(other.as_raw_fd()),
        }
    }
}

impl AsRawFd for End {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// The real source in one slot: ours, and the peer until it is closed.
#[derive(Debug)]
pub struct Source {
    /// What kind.
    pub kind: Kind,
    /// The end that gets registered.
    pub ours: End,
    /// The other end, if it has one and it is open.
    pub peer: Option<End>,
}

impl Source {
    /// Opens a fresh source of `kind` for slot `slot` (a `Signals` watches
    /// the slot's own signal).
    pub fn open(kind: Kind, slot: usize) -> Source {
        let (ours, peer) = match kind {
            Kind::PipeReader => {
                let (reader, writer) = fd::pipe();
                (End::File(reader), Some(End::File(writer)))
            }
            Kind::PipeWriter => {
                let (reader, writer) = fd::pipe();
                (End::File(writer), Some(End::File(reader)))
            }
            Kind::UnixStream => {
                let (a, b) = fd::socketpair();
                (End::Unix(a), Some(End::Unix(b)))
            }
            Kind::EventFd => (End::File(File::from(fd::eventfd())), None),
            Kind::Timer => {
                let timer = evq::Timer::new().expect("harness: Timer::new");
                (End::Timer(timer), None)
            }
            Kind::Tcp => {
                let (client, server) = fd::tcp_pair();
                (End::Tcp(server), Some(End::Tcp(client)))
            }
            Kind::Signals => {
                let signals = kernel_sources::open_signals(slot);
                (End::Signals(signals, kernel_sources::signal_of(slot)), None)
            }
            Kind::Child => {
                let (exit, child) = kernel_sources::open_child();
                (End::ChildExit(exit), Some(End::Process(child)))
            }
        };
        Source { kind, ours, peer }
    }

    fn peer(&self) -> &End {
        self.peer
            .as_ref()
            .expect("harness: the model acts on a closed peer")
    }

    /// Performs an action the model said is possible.
    pub fn apply(&mut self, action: Action) {
        let eventfd = self.kind == Kind::EventFd;
        match action {
            Action::PeerWrite(_) if self.kind == Kind::Timer => {
                let End::Timer(timer) = &self.ours else {
                    unreachable!("a timer slot holds a timer")
                };
                timer
                    .set_timeout(Duration::ZERO)
                    .expect("harness: Timer::set_timeout");
                // The hrtimer fires a moment later: wait for it, so that the
                // expiration the model counts is there for the next poll.
                let readable = super::bits::Bits::IN.0;
                let expired = crate::os::wait_until(timer.as_raw_fd(), readable, PATIENCE, || true);
                assert!(expired, "harness: a zero timeout never expired");
            }
            Action::PeerWrite(_) if self.kind == Kind::Signals => {
                let End::Signals(_, signal) = self.ours else {
                    unreachable!("a Signals slot holds a Signals")
                };
                kernel_sources::raise(signal);
            }
            Action::PeerWrite(_) if self.kind == Kind::Child => {
                let (End::ChildExit(exit), Some(End::Process(child))) =
                    (&self.ours, &mut self.peer)
                else {
                    unreachable!("a Child slot holds a ChildExit and its child")
                };
                kernel_sources::end_child(exit, child, PATIENCE);
            }
            Action::PeerWrite(len) if eventfd => self.ours.write(len, true),
            Action::PeerWrite(len) => self.peer().write(len, false),
            Action::OursWrite(len) => self.ours.write(len, eventfd),
            Action::ReadAll => {
                self.ours.drain();
            }
            Action::PeerReadAll => {
                self.peer().drain();
            }
            Action::ShutdownPeer => {
                let result = match self.peer() {
                    End::Unix(socket) => socket.shutdown(Shutdown::Write),
                    End::Tcp(socket) => socket.shutdown(Shutdown::Write),
                    _ => Ok(()),
                };
                result.expect("harness: shutdown(Write) of the peer");
            }
            Action::ClosePeer => self.peer = None,
        }
    }

    /// For TCP: waits until the kernel shows the state the model expects
    /// (data delivered, a FIN or a reset processed), so that the next poll
    /// sees it. Other kinds are synchronous (a timer's `apply` waits for
    /// its expiration). Returns what did not arrive.
    pub fn settle(&self, channel: &Channel) -> Result<(), String> {
        if self.kind != Kind::Tcp {
            return Ok(());
        }
        let want = channel.readiness().sure.0;
        let inbound = channel.inbound.bytes;
        let ours_ok = os::wait_until(self.ours.as_raw_fd(), want, PATIENCE, || {
            channel.reset != Reset::None || self.ours.peek_len() >= inbound
        });
        if !ours_ok {
            return Err(format!(
                "TCP: ours never showed {:?} and {inbound} bytes",
                channel.readiness().sure
            ));
        }
        if let Some(peer) = &self.peer {
            let outbound = channel.outbound.bytes;
            let peer_ok = os::wait_until(peer.as_raw_fd(), 0, PATIENCE, || {
                peer.peek_len() >= outbound
            });
            if !peer_ok {
                return Err(format!("TCP: the peer never received {outbound} bytes"));
            }
        }
        Ok(())
    }
}

impl Drop for Source {
    /// Closes TCP connections with an RST (`reset_on_close`);
    /// a peer closed on its own before ([`Action::ClosePeer`]) sent its FIN
    /// the usual way.
    /// Drains a `Signals` (no signal stays pending in the thread) and ends
    /// and reaps a child.
    fn drop(&mut self) {
        for end in [Some(&self.ours), self.peer.as_ref()].into_iter().flatten() {
            if let End::Tcp(socket) = end {
                os::reset_on_close(socket);
            }
        }
        match (&self.ours, &mut self.peer) {
            (End::Signals(signals, _), _) => {
                kernel_sources::drain_signals(signals);
            }
            (End::ChildExit(exit), Some(End::Process(child))) => {
                kernel_sources::dispose_child(exit, child);
            }
            _ => {}
        }
    }
}
