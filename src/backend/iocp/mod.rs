//! The Windows backend: an I/O completion port per `Poll`, and readiness
//! from `\Device\Afd` poll requests (the technique of wepoll, which mio and
//! polling use too).
//!
//! Windows has no readiness queue for sockets; it has completion ports.
//! Winsock's kernel driver, AFD, answers one request that reports
//! readiness: `IOCTL_AFD_POLL`, sent with `NtDeviceIoControlFile` to a
//! handle opened on `\Device\Afd` (`afd.rs`). The request names a socket's
//! *base* handle (`base_socket.rs`) and the `AFD_POLL_*` events wanted, and
//! completes, once, when one of them happens; because the AFD handle is
//! associated with the port, its completion is queued there, and
//! `GetQueuedCompletionStatusEx` collects it (`port.rs`). Each registration
//! therefore keeps one poll request in flight (`sock_state.rs`), submits a
//! new one after each completion, and turns completions into events
//! (`raw_event.rs`):
//!
//! - `Level`: after an event, the same poll again, submitted when the next
//!   `select` begins (submitted at once it would complete at once, before
//!   the program drained the socket, and report stale readiness): while
//!   the socket stays ready, every `Poll::poll` reports it. After a
//!   completion that reported nothing, the next request goes out at once.
//! - `Oneshot`, `EdgeOneshot`: after an event, nothing is armed until
//!   `reregister` (a poll for `AFD_POLL_LOCAL_CLOSE` alone stays in flight,
//!   to notice the socket being closed).
//! - `Edge`: after an event, the conditions it reported are not polled
//!   again until `evq::net`'s I/O on that socket returns `WouldBlock`
//!   (`edge.rs`: `io_would_block`) or until `reregister`; the rest stay
//!   armed. A std socket with `Edge` thus reports each condition once until
//!   `reregister`, as with mio's I/O wrappers.
//!
//! `AFD_POLL_ABORT` (reset) and `AFD_POLL_CONNECT_FAIL` are always asked
//! for, whatever the interest, as epoll always reports `EPOLLERR` and
//! `EPOLLHUP`; `AFD_POLL_LOCAL_CLOSE` too: a registered socket that is
//! closed without being deregistered leaves the record when that poll
//! completes, so its handle value can be registered again.
//!
//! Changing a registration from another thread while one thread is blocked
//! in `select` takes effect at once: the changing thread submits the new
//! poll itself, or, if a poll for other events is in flight, cancels it
//! (`NtCancelIoFileEx`), whose completion wakes the blocked thread, which
//! submits the new one and waits again.
//!
//! # Memory the kernel writes into
//!
//! A poll request gives the kernel two pointers into the registration's
//! state: its `IO_STATUS_BLOCK` and its `AFD_POLL_INFO` (the output
//! buffer), which the kernel writes when the request completes, at a time
//! of its choosing; and the state's address itself as the request's
//! context, which comes back in the completion's `lpOverlapped`. So the
//! state lives in an `Arc` (whose allocation never moves: pinned), and each
//! request in flight owns one strong count of it, made with `Arc::into_raw`
//! when the request is submitted and given back with `Arc::from_raw` only
//! when its completion has been dequeued (or when the submission failed
//! with an error status, in which case the kernel queues nothing and keeps
//! no pointer). Whatever else drops its `Arc` (`deregister`, a closed
//! socket, dropping the `Poll`), the buffers stay allocated while the
//! kernel may write them. The buffers sit in an `UnsafeCell` apart from the
//! state's mutex, and Rust touches them only while no request is in flight:
//! before a submission, and after its completion was dequeued.
//!
//! `deregister` marks the state deleted and cancels its request; the
//! completion that follows (or one already queued) finds the mark and is
//! dropped, so no later poll reports the socket. Dropping the last handle
//! of a `Poll` cancels every request in flight and dequeues their
//! completions before the port closes, which frees every state and the AFD
//! handle; should the kernel not complete a cancelled request within a
//! second, its state is leaked rather than freed under the kernel's
//! writes.
//!
//! # References
//! - [I/O completion ports](https://learn.microsoft.com/en-us/windows/win32/fileio/i-o-completion-ports)
//! - [`GetQueuedCompletionStatusEx`](https://learn.microsoft.com/en-us/windows/win32/fileio/getqueuedcompletionstatusex-func)
//! - [`NtDeviceIoControlFile`](https://learn.microsoft.com/en-us/windows/win32/api/winternl/nf-winternl-ntdeviceiocontrolfile)
//! - [`SIO_BASE_HANDLE`](https://learn.microsoft.com/en-us/windows/win32/winsock/winsock-ioctls)
//! - wepoll's `src/afd.c` and `src/sock.c`, the reference for the AFD poll
//!   interface (which no public header declares: see `src/sys/include`).

mod afd;
mod base_socket;
mod edge;
mod os_error;
mod port;
mod raw_event;
mod selector;
mod sock_state;
mod waker;

pub(crate) use self::edge::io_would_block;
pub(crate) use self::raw_event::{
    flag_names, is_error, is_priority, is_read_closed, is_readable, is_writable, is_write_closed,
    token, RawEvent, MAX_EVENTS,
};
pub(crate) use self::selector::Selector;
pub(crate) use self::waker::WakerFd;
