//! When and how often a ready source is reported.

/// How a registration reports readiness.
///
/// The choice decides what a program must do after each event:
///
/// | trigger | reports | after an event the program must |
/// |---|---|---|
/// | [`Edge`](Trigger::Edge) | each time readiness *appears* | drain the source until it returns `WouldBlock`, or no new event comes |
/// | [`Level`](Trigger::Level) | on every poll while the source is ready | nothing special; each poll repeats the event until the source is drained |
/// | [`Oneshot`](Trigger::Oneshot) | once, then nothing until re-armed | call [`reregister`](crate::Registry::reregister) to re-arm |
/// | [`EdgeOneshot`](Trigger::EdgeOneshot) | the next edge, then nothing until re-armed | drain, then `reregister` |
///
/// A disarmed oneshot source stays registered: `register` still reports
/// [`AlreadyRegistered`](crate::Error::AlreadyRegistered) and `deregister`
/// removes it.
///
/// On Linux these are `EPOLLET`, no flag, `EPOLLONESHOT` and
/// `EPOLLET | EPOLLONESHOT`; on kqueue `EV_CLEAR`, no flag, `EV_DISPATCH`
/// and `EV_CLEAR | EV_DISPATCH`. kqueue watches each direction with its own
/// filter, so there a oneshot registration for `READABLE | WRITABLE` can
/// report one event per direction (each with one flag) before it is
/// re-armed, where epoll reports one event with both.
///
/// # On Windows
///
/// The Windows backend learns readiness from `\Device\Afd` poll requests,
/// which report once each: `Level` submits the next request when the
/// following poll begins (so a drained source is not reported again), and
/// `Oneshot` and `EdgeOneshot` (the same there) submit none until
/// `reregister`. [`Edge`](Trigger::Edge) cannot see new data arrive while
/// old data is unread; it reports a condition (data to read, room to
/// write, a connection to accept, the peer's shutdown) once, and polls for
/// it again only after the program has used it up, which evq learns when
/// one of [`evq::net`](crate::net)'s I/O calls on that socket returns
/// `WouldBlock` (as mio's sockets do), or from `reregister`. So with
/// `evq::net` sockets, drain to `WouldBlock` after each event, as
/// everywhere; **a std socket registered with `Edge` gets one event per
/// condition until it is reregistered** (use `evq::net`'s types, or
/// `Level`, or re-arm with `reregister`). Conditions not reported stay
/// armed: a writable event does not stop a later readable one.
///
/// # Examples
///
/// ```
/// use evq::{Interest, Poll, Token, Trigger};
/// # fn main() -> evq::Result<()> {
/// let poll = Poll::new()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// listener.set_nonblocking(true).unwrap();
/// poll.registry()
///     .register_with(&listener, Token(1), Interest::READABLE, Trigger::Level)?;
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// Report each change to ready; the default, as in mio. On Windows,
    /// re-armed by `evq::net`'s `WouldBlock` (see above).
    #[default]
    Edge,
    /// Report on every poll while ready.
    Level,
    /// Level-triggered, but disarmed after one event until re-armed.
    Oneshot,
    /// Edge-triggered, but disarmed after one event until re-armed.
    EdgeOneshot,
}
