//! What every `evq::net` type has in common, written once: it wraps the
//! std type of the same name, converts to and from it and the owned fd
//! (socket, on Windows), exposes its fd, and (streams and pipes) reads and
//! writes through it, telling the backend of each `WouldBlock`
//! (`would_block::note_would_block`).

/// For `$name`, a struct with one field `inner: $std`: `from_std`,
/// `From` both ways with `$std` and `OwnedFd`, `AsFd`, `AsRawFd`,
/// `FromRawFd`, `IntoRawFd` and `Debug` (std's); on Windows `OwnedSocket`,
/// `AsSocket`, `AsRawSocket`, `FromRawSocket` and `IntoRawSocket` instead
/// of the fd ones.
macro_rules! std_wrapper {
    ($name:ident, $std:ty) => {
        impl $name {
            #[doc = concat!(
                                "Wraps a [`", stringify!($std), "`], as it is.\n\n",
                                "The socket stays in the mode its owner set: this makes no ",
                                "system call. A socket that is still blocking (std's default) ",
                                "blocks the thread in I/O calls meant to return `WouldBlock`, ",
                                "stalling a whole event loop, so call its `set_nonblocking(true)` ",
                                "first. (evq's own constructors make non-blocking sockets.)"
                            )]
            pub fn from_std(inner: $std) -> Self {
                Self { inner }
            }
        }

        #[doc = concat!("Same as [`", stringify!($name), "::from_std`].")]
        impl From<$std> for $name {
            fn from(inner: $std) -> Self {
                Self { inner }
            }
        }

        /// The std type, for everything evq does not wrap; the descriptor
        /// keeps its mode (non-blocking, if evq created it).
        impl From<$name> for $std {
            fn from(wrapper: $name) -> Self {
                wrapper.inner
            }
        }

        #[cfg(unix)]
        /// Takes ownership of the descriptor, as it is: see `from_std` on
        /// the descriptor's mode.
        impl From<std::os::fd::OwnedFd> for $name {
            fn from(fd: std::os::fd::OwnedFd) -> Self {
                Self {
                    inner: <$std>::from(fd),
                }
            }
        }

        #[cfg(unix)]
        /// Gives up the wrapper, keeping the descriptor open.
        impl From<$name> for std::os::fd::OwnedFd {
            fn from(wrapper: $name) -> Self {
                wrapper.inner.into()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $name {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $name {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.as_raw_fd()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::IntoRawFd for $name {
            fn into_raw_fd(self) -> std::os::fd::RawFd {
                self.inner.into_raw_fd()
            }
        }

        #[cfg(unix)]
        #[allow(unsafe_code)]
        impl std::os::fd::FromRawFd for $name {
            /// Takes ownership of `fd`, as it is (see `from_std` on its
            /// mode).
            ///
            /// # Safety
            /// `fd` must be an open descriptor of the right kind that
            /// nothing else owns (it is closed on drop).
            unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> Self {
                Self {
                    // SAFETY: the caller's obligations are std's.
                    inner: unsafe { <$std>::from_raw_fd(fd) },
                }
            }
        }

        /// Takes ownership of the socket, as it is: see `from_std` on the
        /// socket's mode.
        #[cfg(windows)]
        impl From<std::os::windows::io::OwnedSocket> for $name {
            fn from(socket: std::os::windows::io::OwnedSocket) -> Self {
                Self {
                    inner: <$std>::from(socket),
                }
            }
        }

        /// Gives up the wrapper, keeping the socket open.
        #[cfg(windows)]
        impl From<$name> for std::os::windows::io::OwnedSocket {
            fn from(wrapper: $name) -> Self {
                wrapper.inner.into()
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsSocket for $name {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                self.inner.as_socket()
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsRawSocket for $name {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                self.inner.as_raw_socket()
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::IntoRawSocket for $name {
            fn into_raw_socket(self) -> std::os::windows::io::RawSocket {
                self.inner.into_raw_socket()
            }
        }

        #[cfg(windows)]
        #[allow(unsafe_code)]
        impl std::os::windows::io::FromRawSocket for $name {
            /// Takes ownership of `socket`, as it is (see `from_std` on its
            /// mode).
            ///
            /// # Safety
            /// `socket` must be an open socket of the right kind that
            /// nothing else owns (it is closed on drop).
            unsafe fn from_raw_socket(socket: std::os::windows::io::RawSocket) -> Self {
                Self {
                    // SAFETY: the caller's obligations are std's.
                    inner: unsafe { <$std>::from_raw_socket(socket) },
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.inner.fmt(f)
            }
        }
    };
}

/// `Read` for `$name` and `&$name`, through std's `inner`, noting each
/// `WouldBlock`.
macro_rules! read_through_inner {
    ($name:ident) => {
        impl std::io::Read for $name {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let result = (&self.inner).read(buf);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::READABLE,
                    result,
                )
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let result = (&self.inner).read_vectored(bufs);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::READABLE,
                    result,
                )
            }
        }

        impl std::io::Read for &$name {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let result = (&self.inner).read(buf);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::READABLE,
                    result,
                )
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let result = (&self.inner).read_vectored(bufs);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::READABLE,
                    result,
                )
            }
        }
    };
}

/// `Write` for `$name` and `&$name`, through std's `inner`, noting each
/// `WouldBlock`.
macro_rules! write_through_inner {
    ($name:ident) => {
        impl std::io::Write for $name {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let result = (&self.inner).write(buf);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::WRITABLE,
                    result,
                )
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let result = (&self.inner).write_vectored(bufs);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::WRITABLE,
                    result,
                )
            }

            fn flush(&mut self) -> std::io::Result<()> {
                (&self.inner).flush()
            }
        }

        impl std::io::Write for &$name {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let result = (&self.inner).write(buf);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::WRITABLE,
                    result,
                )
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let result = (&self.inner).write_vectored(bufs);
                $crate::net::would_block::note_would_block(
                    &self.inner,
                    $crate::Interest::WRITABLE,
                    result,
                )
            }

            fn flush(&mut self) -> std::io::Result<()> {
                (&self.inner).flush()
            }
        }
    };
}
