//! evq is a readiness event queue: the layer an async runtime or a network
//! server sits on, as mio is for tokio.
//!
//! A program registers file descriptors (sockets, pipes, eventfds, ...),
//! or [`Source`]s made of several, with a [`Registry`], each with a [`Token`] of its choosing and an
//! [`Interest`] (readable, writable), then blocks in [`Poll::poll`] until
//! the kernel reports some of them ready, as [`Event`]s in an [`Events`]
//! buffer. On Linux and Android the kernel side is epoll (or, with the
//! `io-uring` cargo feature, io_uring where the kernel allows it: see
//! [`Backend`]); on macOS and the BSDs it is kqueue; on Windows an I/O
//! completion port fed by `\Device\Afd` poll requests (sockets only; see
//! [`Trigger`] for what edge-triggering means there). [`net`] has the
//! sockets and pipes to register: std's types, created non-blocking and
//! close-on-exec.
//!
//! ```
//! use evq::{Events, Interest, Poll, Token};
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use std::time::Duration;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(64);
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let mut theirs = TcpStream::connect(listener.local_addr()?)?;
//! let (mut ours, _) = listener.accept()?;
//! ours.set_nonblocking(true)?;
//! poll.registry().register(&ours, Token(1), Interest::READABLE)?;
//!
//! theirs.write_all(b"hello")?;
//! poll.poll(&mut events, Some(Duration::from_secs(1)))?;
//!
//! for event in &events {
//!     assert_eq!(event.token(), Token(1));
//!     let mut buf = [0u8; 5];
//!     ours.read_exact(&mut buf)?;
//!     assert_eq!(&buf, b"hello");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Things every user of a readiness queue must know
//!
//! - **Edge vs level.** [`Registry::register`] is edge-triggered, like
//!   mio: an event means "readiness appeared", and no further event comes
//!   until you have used it up, so read (or write) until the source returns
//!   [`WouldBlock`](std::io::ErrorKind::WouldBlock). [`Trigger`] lists the
//!   alternatives (level, oneshot).
//! - **Events can be spurious.** Readiness is a hint; the non-blocking
//!   call's `WouldBlock` is the truth. Put sources in non-blocking mode.
//! - **Errors and hang-ups are always reported** on epoll, whatever the
//!   interest; on kqueue, on the directions registered.
//! - **Close with care**: on epoll a registration follows the open file,
//!   so closing one of several duplicated fds leaves it in place; see
//!   [`Registry`] on closing and duplicated descriptors.
//!
//! # Timers, signals and child processes
//!
//! Besides sockets and pipes, a poll on Unix watches three kernel sources
//! that evq wraps the same way on every Unix platform: a `Timer` (timerfd;
//! `EVFILT_TIMER`), a set of `Signals` (signalfd; `EVFILT_SIGNAL`; not on
//! NetBSD and OpenBSD) and a `ChildExit` (pidfd; `EVFILT_PROC`). Each is
//! a descriptor, registered like any other, and [`Poll::poll`]'s own
//! timeout is kept to the nanosecond (`epoll_pwait2`, or kqueue's
//! `timespec`). Windows has none of the three yet.
//!
//! # Layers
//!
//! [`sys`] is bindgen's output for the C headers, [`Poll`] and friends the
//! typed API; in between, one private backend file per kernel mechanism
//! turns each call into one system call (each method's docs name it, and
//! the rare cases that take two). Failures carry the call's name, the fd
//! and the errno: see [`Error`].

#![deny(missing_docs, unsafe_op_in_unsafe_fn, unsafe_code)]
#![warn(rust_2018_idioms, clippy::undocumented_unsafe_blocks)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(unix, windows)))]
compile_error!("evq supports Unix targets (epoll or kqueue) and Windows (IOCP) only");

#[allow(unsafe_code)]
mod backend;
mod backend_kind;
#[cfg(unix)]
mod child_exit;
mod error;
mod event;
mod events;
mod interest;
pub mod net;
mod poll;
mod registry;
// NetBSD and OpenBSD: see `Signals`.
#[cfg(all(unix, not(any(target_os = "netbsd", target_os = "openbsd"))))]
mod signals;
mod source;
#[cfg(unix)]
mod timer;
mod token;
mod trigger;
mod wake_gate;
mod waker;

#[allow(unsafe_code)]
pub mod sys;

pub use backend_kind::Backend;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use child_exit::ChildExit;
pub use error::{Error, Result};
pub use event::Event;
pub use events::{Events, Iter};
pub use interest::Interest;
pub use poll::Poll;
pub use registry::Registry;
#[cfg(all(unix, not(any(target_os = "netbsd", target_os = "openbsd"))))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(unix, not(any(target_os = "netbsd", target_os = "openbsd")))))
)]
pub use signals::Signals;
pub use source::{RawSource, Source};
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use timer::Timer;
pub use token::Token;
pub use trigger::Trigger;
pub use waker::Waker;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
