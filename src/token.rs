//! The caller's name for a registration.

/// Identifies a registered source in the events [`Poll::poll`] returns.
///
/// evq stores the token in the kernel's registration (`epoll_event.data`,
/// `kevent.udata`) and hands it back untouched with every event for that
/// source; it never interprets it. Any value is valid, `usize::MAX`
/// included: a typical choice is an index into a slab of connections.
///
/// [`Poll::poll`]: crate::Poll::poll
///
/// # Examples
///
/// ```
/// use evq::Token;
///
/// let listener = Token(0);
/// assert_eq!(usize::from(listener), 0);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

impl From<Token> for usize {
    fn from(token: Token) -> usize {
        token.0
    }
}

impl From<usize> for Token {
    fn from(value: usize) -> Token {
        Token(value)
    }
}
