//! The descriptors the `inputs` target throws at a registry: every kind
//! epoll accepts, every kind it refuses, and numbers that are closed or
//! get reused.

use super::{fd, os};
use arbitrary::Arbitrary;
use evq::Poll;
use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;

/// The fd number the `Numbered` target lives at: far above what the
/// lowest-free-number rule hands out, so nothing else takes it while it is
/// closed, yet below any sensible `RLIMIT_NOFILE`.
pub const NUMBERED: RawFd = 1000;

/// A number no descriptor can have (above `RLIMIT_NOFILE`).
pub const NEVER_OPEN: RawFd = i32::MAX;

/// Which descriptor an op passes.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// One end of a Unix socket pair.
    Socket,
    /// A pipe's read end.
    Pipe,
    /// An eventfd.
    EventFd,
    /// A TCP listener on 127.0.0.1.
    Listener,
    /// A UDP socket on 127.0.0.1.
    Udp,
    /// The accepted side of a TCP connection.
    Tcp,
    /// Another `Poll`'s epoll fd (epoll nests).
    OtherPoll,
    /// A regular file: epoll refuses it (`EPERM`).
    RegularFile,
    /// A directory (`EPERM`).
    Directory,
    /// `/dev/null` (`EPERM`).
    DevNull,
    /// An `O_PATH` descriptor: not usable for I/O at all (`EBADF`).
    PathOnly,
    /// The poll's own epoll fd (`EINVAL`).
    SelfPoll,
    /// A `Registry::try_clone`'s descriptor: the poll's own, shared (`EINVAL`).
    CloneOfSelf,
    /// The fd at [`NUMBERED`], which ops close and reopen.
    Numbered,
    /// [`NEVER_OPEN`] (`EBADF`).
    NeverOpen,
}

/// What epoll makes of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nature {
    /// It can be registered.
    Pollable,
    /// `epoll_ctl` fails with this errno whatever the op.
    Refused(i32),
}

/// A closed or unusable descriptor.
pub const EBADF: i32 = evq::sys::EBADF as i32;
/// Not pollable.
pub const EPERM: i32 = evq::sys::EPERM as i32;
/// The epoll itself.
pub const EINVAL: i32 = evq::sys::EINVAL as i32;

impl Target {
    /// Every target.
    pub const ALL: [Target; 15] = [
        Target::Socket,
        Target::Pipe,
        Target::EventFd,
        Target::Listener,
        Target::Udp,
        Target::Tcp,
        Target::OtherPoll,
        Target::RegularFile,
        Target::Directory,
        Target::DevNull,
        Target::PathOnly,
        Target::SelfPoll,
        Target::CloneOfSelf,
        Target::Numbered,
        Target::NeverOpen,
    ];

    /// What epoll makes of it (`Numbered` while open).
    pub fn nature(self) -> Nature {
        match self {
            Target::RegularFile | Target::Directory | Target::DevNull => Nature::Refused(EPERM),
            Target::PathOnly | Target::NeverOpen => Nature::Refused(EBADF),
            Target::SelfPoll | Target::CloneOfSelf => Nature::Refused(EINVAL),
            _ => Nature::Pollable,
        }
    }
}

/// All the targets' descriptors, and the peers that make them ready.
pub struct Targets {
    socket: (UnixStream, UnixStream),
    pipe: (File, File),
    eventfd: File,
    listener: TcpListener,
    udp: UdpSocket,
    /// (client, server): the server side is the target.
    tcp: (TcpStream, TcpStream),
    other_poll: Poll,
    regular: File,
    directory: File,
    dev_null: File,
    path_only: File,
    /// The file at [`NUMBERED`] (a socket), while open.
    numbered: Option<(OwnedFd, UnixStream)>,
    /// Writes made, to stay far from full buffers.
    writes: usize,
}

impl Targets {
    /// Opens everything (the other poll on `backend` too); `Numbered`
    /// starts closed.
    pub fn open(backend: evq::Backend) -> Targets {
        let exe = std::env::current_exe().expect("current_exe");
        let directory = std::env::temp_dir();
        let path_only = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(evq::sys::O_PATH as i32)
            .open(&directory)
            .expect("open O_PATH");
        // Non-blocking, as debug builds of `register` require of sockets.
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        udp.set_nonblocking(true).expect("set_nonblocking");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        listener.set_nonblocking(true).expect("set_nonblocking");
        Targets {
            socket: fd::socketpair(),
            pipe: fd::pipe(),
            eventfd: File::from(fd::eventfd()),
            listener,
            udp,
            tcp: fd::tcp_pair(),
            other_poll: crate::new_poll(backend),
            regular: File::open(exe).expect("open the test binary"),
            directory: File::open(directory).expect("open the temp dir"),
            dev_null: File::open("/dev/null").expect("open /dev/null"),
            path_only,
            numbered: None,
            writes: 0,
        }
    }

    /// The descriptor of `target`, given the poll and its clone.
    pub fn fd<'a>(
        &'a self,
        target: Target,
        poll: &'a Poll,
        clone: &'a evq::Registry,
    ) -> BorrowedFd<'a> {
        match target {
            Target::Socket => self.socket.0.as_fd(),
            Target::Pipe => self.pipe.0.as_fd(),
            Target::EventFd => self.eventfd.as_fd(),
            Target::Listener => self.listener.as_fd(),
            Target::Udp => self.udp.as_fd(),
            Target::Tcp => self.tcp.1.as_fd(),
            Target::OtherPoll => self.other_poll.as_fd(),
            Target::RegularFile => self.regular.as_fd(),
            Target::Directory => self.directory.as_fd(),
            Target::DevNull => self.dev_null.as_fd(),
            Target::PathOnly => self.path_only.as_fd(),
            Target::SelfPoll => poll.as_fd(),
            Target::CloneOfSelf => clone.as_fd(),
            // SAFETY: NUMBERED is open while `self.numbered` owns it. When it
            // is closed this breaks `borrow_raw`'s "must remain open" rule on
            // purpose, as the `inputs` target must: the borrow only carries
            // the number to epoll_ctl, which looks it up and fails with
            // EBADF; nothing reads, writes or closes through it.
            Target::Numbered => unsafe { BorrowedFd::borrow_raw(NUMBERED) },
            // SAFETY: as above: a number that is never open (above
            // RLIMIT_NOFILE), passed only to epoll_ctl, which answers EBADF.
            Target::NeverOpen => unsafe { BorrowedFd::borrow_raw(NEVER_OPEN) },
        }
    }

    /// Whether the `Numbered` target is open.
    pub fn numbered_open(&self) -> bool {
        self.numbered.is_some()
    }

    /// Puts a fresh socket at [`NUMBERED`], closing the file that was there
    /// (and with it, its registration) in the same step.
    pub fn reopen_numbered(&mut self) {
        let (socket, peer) = fd::socketpair();
        match &self.numbered {
            Some((owned, _)) => fd::reuse_number(&socket, owned.as_raw_fd()),
            None => {
                let placed = place_at(&socket, NUMBERED);
                self.numbered = Some((placed, peer));
                return;
            }
        }
        if let Some((_, old_peer)) = &mut self.numbered {
            *old_peer = peer;
        }
    }

    /// Closes [`NUMBERED`].
    pub fn close_numbered(&mut self) {
        self.numbered = None;
    }

    /// Makes `target` readable, if it has a peer; a few hundred writes at
    /// most, so no buffer ever fills.
    pub fn make_ready(&mut self, target: Target) {
        if self.writes >= 256 {
            return;
        }
        self.writes += 1;
        let byte = [1u8; 8];
        let result = match target {
            Target::Socket => (&self.socket.1).write_all(&byte[..1]),
            Target::Pipe => (&self.pipe.1).write_all(&byte[..1]),
            Target::EventFd => (&self.eventfd).write_all(&byte),
            Target::Tcp => (&self.tcp.0).write_all(&byte[..1]),
            Target::Numbered => match &self.numbered {
                Some((_, peer)) => (&*peer).write_all(&byte[..1]),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        result.expect("make a target readable");
    }
}

impl Drop for Targets {
    fn drop(&mut self) {
        os::reset_on_close(&self.tcp.0);
        os::reset_on_close(&self.tcp.1);
    }
}

/// A new fd at exactly `number` for `source`'s file (`dup2` onto a number
/// nothing has open).
fn place_at(source: &impl AsRawFd, number: RawFd) -> OwnedFd {
    let path = format!("/proc/self/fd/{number}");
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "fd {number} is already open: the inputs target needs it free"
    );
    fd::reuse_number(source, number);
    // SAFETY: dup2 just made `number` a descriptor that nothing else owns.
    unsafe { std::os::fd::FromRawFd::from_raw_fd(number) }
}
