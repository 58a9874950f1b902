//! What readiness a registration asks for.

bitflags::bitflags! {
    /// The readiness a registered source should be reported for.
    ///
    /// Combine flags with `|`. An interest with none of the flags below set
    /// is rejected with [`Error::InvalidInput`](crate::Error::InvalidInput),
    /// and bits outside them are ignored.
    ///
    /// On epoll, errors and hang-ups are always reported, whatever the
    /// interest (the kernel delivers `EPOLLERR` and `EPOLLHUP`
    /// unconditionally). On kqueue they arrive as `EV_EOF` and error flags
    /// on the events of the directions registered, so a `WRITABLE`-only
    /// registration does not learn that the reading side closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use evq::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert!(both.contains(Interest::READABLE));
    /// assert_eq!(both - Interest::WRITABLE, Interest::READABLE);
    /// ```
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
    pub struct Interest: u8 {
        /// Readable: data to read, a connection to accept, or the peer has
        /// shut down its writing side (`EPOLLIN | EPOLLRDHUP`;
        /// `EVFILT_READ`), the last reported by
        /// [`Event::is_read_closed`](crate::Event::is_read_closed).
        const READABLE = 1 << 0;
        /// Writable: room in the send buffer, or a connect that finished
        /// (`EPOLLOUT`; `EVFILT_WRITE`).
        const WRITABLE = 1 << 1;
        /// Priority data: TCP urgent data, or an exceptional condition on
        /// files such as `/proc/self/mounts` or a tty master (`EPOLLPRI`).
        ///
        /// Only the epoll backend watches it: the kqueue backend on Linux
        /// (`--cfg evq_force_kqueue`) rejects it with
        /// [`Error::InvalidInput`](crate::Error::InvalidInput).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
        const PRIORITY = 1 << 2;
    }
}
