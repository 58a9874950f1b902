//! The kernel state of one source and its peer, and the readiness Linux
//! computes from it.
//!
//! Each rule below is the file type's `poll` function in Linux
//! (`pipe_poll`, `unix_poll`, `eventfd_poll`, `tcp_poll`, `timerfd_poll`,
//! `signalfd_poll`, `pidfd_poll`); the tests in
//! `tests/triggers.rs` show them against the real kernel. Where the kernel's
//! answer depends on timing or on details the model does not track, the
//! condition is `maybe`, never `sure`.
//!
//! The harness keeps the amounts small (see [`Flow::room`]) so that a
//! write never fills a buffer: then "ours is writable" holds throughout,
//! and writes never block.

use super::bits::{Bits, Readiness};
use super::op::Kind;

/// The most bytes in flight in one direction.
pub const CAPACITY: usize = 4096;
/// The most writes in flight in one direction: each is one buffer (an skb),
/// which costs the socket's send budget more than its bytes.
pub const MAX_WRITES: usize = 8;

/// One direction of a channel: what was written and not yet read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    /// Bytes (for an eventfd: the counter).
    pub bytes: usize,
    /// Writes.
    pub writes: usize,
}

impl Flow {
    /// How much of `len` fits (0: none, the write is skipped).
    pub fn room(&self, len: usize) -> usize {
        if self.writes >= MAX_WRITES {
            return 0;
        }
        len.min(CAPACITY - self.bytes)
    }

    fn add(&mut self, len: usize) {
        self.bytes += len;
        self.writes += 1;
    }
}

/// What happened to the error condition of a socket whose peer vanished
/// with data it had not read (`ECONNRESET`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reset {
    /// No reset.
    #[default]
    None,
    /// `EPOLLERR` holds until a read consumes the error.
    Pending,
    /// A read may or may not have consumed it.
    Unknown,
}

/// The kernel state of one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// What kind of source.
    pub kind: Kind,
    /// Toward ours: readable by ours.
    pub inbound: Flow,
    /// From ours: readable by the peer.
    pub outbound: Flow,
    /// The peer shut down its writing side.
    pub peer_shut: bool,
    /// The peer's end is closed.
    pub peer_closed: bool,
    /// A reset, and whether its error was seen.
    pub reset: Reset,
}

/// What an operation does to a channel, for [`Channel::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The peer writes (an eventfd: someone adds to the counter).
    PeerWrite(usize),
    /// Ours writes.
    OursWrite(usize),
    /// Ours reads everything.
    ReadAll,
    /// The peer reads everything.
    PeerReadAll,
    /// The peer shuts down writing.
    ShutdownPeer,
    /// The peer is closed.
    ClosePeer,
}

impl Channel {
    /// A fresh source of `kind`: nothing written, the peer open.
    pub fn new(kind: Kind) -> Channel {
        Channel {
            kind,
            inbound: Flow::default(),
            outbound: Flow::default(),
            peer_shut: false,
            peer_closed: false,
            reset: Reset::None,
        }
    }

    fn is_socket(&self) -> bool {
        matches!(self.kind, Kind::UnixStream | Kind::Tcp)
    }

    /// What `action` would really do, or `None` when the harness skips it
    /// (nothing to write to, a write that would not fit or would raise
    /// `SIGPIPE`, a socket call on a pipe...). A `Some` write carries the
    /// byte count actually written.
    pub fn effective(&self, action: Action) -> Option<Action> {
        let kind = self.kind;
        match action {
            // A signal sent (it stays one pending signal however often it
            // is sent: standard signals do not queue), or the child's exit
            // (once). Only reading applies besides.
            Action::PeerWrite(_) if kind == Kind::Signals => {
                (self.inbound.room(1) > 0).then_some(Action::PeerWrite(1))
            }
            Action::PeerWrite(_) if kind == Kind::Child => {
                (self.inbound.bytes == 0).then_some(Action::PeerWrite(1))
            }
            Action::ReadAll if matches!(kind, Kind::Signals | Kind::Child) => Some(action),
            _ if matches!(kind, Kind::Signals | Kind::Child) => None,
            // One more expiration (a timerfd counts them, 1 per expiry).
            Action::PeerWrite(_) if kind == Kind::Timer => {
                (self.inbound.room(1) > 0).then_some(Action::PeerWrite(1))
            }
            Action::PeerWrite(len) => {
                let possible = match kind {
                    Kind::PipeWriter => false,
                    Kind::EventFd => true,
                    _ => !self.peer_closed && !self.peer_shut,
                };
                let len = self.inbound.room(len);
                (possible && len > 0).then_some(Action::PeerWrite(len))
            }
            Action::OursWrite(len) if kind == Kind::EventFd => {
                self.effective(Action::PeerWrite(len))
            }
            // A timer has nothing to write to, and no peer.
            Action::OursWrite(_) | Action::PeerReadAll | Action::ClosePeer
                if kind == Kind::Timer =>
            {
                None
            }
            Action::OursWrite(len) => {
                let possible = kind != Kind::PipeReader && !self.peer_closed;
                let len = self.outbound.room(len);
                (possible && len > 0).then_some(Action::OursWrite(len))
            }
            Action::ReadAll => (kind != Kind::PipeWriter).then_some(action),
            Action::PeerReadAll => {
                let possible = !matches!(kind, Kind::PipeReader | Kind::EventFd);
                (possible && !self.peer_closed).then_some(action)
            }
            Action::ShutdownPeer => {
                (self.is_socket() && !self.peer_closed && !self.peer_shut).then_some(action)
            }
            Action::ClosePeer => (kind != Kind::EventFd && !self.peer_closed).then_some(action),
        }
    }

    /// Applies an action that [`effective`](Channel::effective) returned.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::PeerWrite(len) => self.inbound.add(len),
            Action::OursWrite(len) if self.kind == Kind::EventFd => self.inbound.add(len),
            Action::OursWrite(len) => self.outbound.add(len),
            // Reaping leaves the child exited.
            Action::ReadAll if self.kind == Kind::Child => {}
            Action::ReadAll => {
                self.inbound = Flow::default();
                if self.reset == Reset::Pending {
                    // The read returns the error once (then it is gone),
                    // unless end of file came first: a FIN before the reset.
                    self.reset = Reset::Unknown;
                }
            }
            Action::PeerReadAll => self.outbound = Flow::default(),
            Action::ShutdownPeer => self.peer_shut = true,
            Action::ClosePeer => {
                // A socket closed with data it never read resets the
                // connection: TCP sends an RST, AF_UNIX sets ECONNRESET on
                // ours (`unix_release_sock`).
                if self.is_socket() && self.outbound.bytes > 0 {
                    self.reset = Reset::Pending;
                }
                self.peer_closed = true;
                self.outbound = Flow::default();
            }
        }
    }

    /// The conditions Linux reports for ours, before any interest mask.
    pub fn readiness(&self) -> Readiness {
        let mut sure = Bits::NONE;
        let mut maybe = Bits::NONE;
        let mut add = |bits: Bits, on: bool| {
            if on {
                sure = sure | bits;
            }
        };
        let data = self.inbound.bytes > 0;
        let eof = self.peer_shut || self.peer_closed;
        match self.kind {
            // pipe_poll on a read end: EPOLLIN while data is buffered,
            // EPOLLHUP once no writer is left; never RDHUP or OUT.
            Kind::PipeReader => {
                add(Bits::IN, data);
                add(Bits::HUP, self.peer_closed);
            }
            // pipe_poll on a write end: EPOLLOUT while not full (always,
            // here), EPOLLERR once no reader is left.
            Kind::PipeWriter => {
                add(Bits::OUT, true);
                add(Bits::ERR, self.peer_closed);
            }
            // eventfd_poll: EPOLLIN while the counter is non-zero, EPOLLOUT
            // while another 1 fits.
            Kind::EventFd => {
                add(Bits::IN, data);
                add(Bits::OUT, true);
            }
            // timerfd_poll: EPOLLIN while expirations are unread; never
            // writable.
            Kind::Timer => add(Bits::IN, data),
            // signalfd_poll: EPOLLIN while a watched signal is pending.
            Kind::Signals => add(Bits::IN, data),
            // pidfd_poll: EPOLLIN once the child has exited, and from then
            // on; newer kernels add EPOLLHUP once it is reaped.
            Kind::Child => {
                add(Bits::IN, data);
                if data {
                    maybe = maybe | Bits::HUP;
                }
            }
            // unix_poll: RCV_SHUTDOWN is IN | RDHUP, both directions shut
            // (the peer closed) is HUP, writable even then.
            Kind::UnixStream => {
                add(Bits::IN, data || eof);
                add(Bits::RDHUP, eof);
                add(Bits::HUP, self.peer_closed);
                add(Bits::OUT, true);
            }
            // tcp_poll: a FIN is IN | RDHUP; a reset also closes ours
            // (TCP_CLOSE: HUP). Still OUT: a shut-down socket is "writable"
            // (the write fails at once).
            Kind::Tcp => {
                add(Bits::IN, data || eof);
                add(Bits::RDHUP, eof);
                add(Bits::HUP, self.reset != Reset::None);
                add(Bits::OUT, true);
            }
        }
        match self.reset {
            Reset::None => {}
            Reset::Pending => sure = sure | Bits::ERR,
            Reset::Unknown => maybe = maybe | Bits::ERR,
        }
        Readiness { sure, maybe }
    }
}
