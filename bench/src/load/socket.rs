//! The client's sockets: a non-blocking connect from a chosen loopback
//! source address, and an abortive close. std has neither (its connect
//! blocks; `set_linger` is unstable), so these make the calls themselves.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};

/// Checks a C-style return value: `-1` becomes the thread's `errno`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn sockaddr(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn set_int_option(
    stream: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a valid c_int for the call and its size is passed.
    check(unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Starts a non-blocking connect from `source` (port chosen by the kernel)
/// to `server`. The stream becomes writable when the connect has finished;
/// `take_error` then says whether it failed.
///
/// `IP_BIND_ADDRESS_NO_PORT` defers the port choice to `connect`, which then
/// needs only the 4-tuple to be unused (see ip(7)): every source address
/// brings its own range of ephemeral ports.
pub fn connect_from(source: Ipv4Addr, server: SocketAddrV4) -> io::Result<TcpStream> {
    let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket takes no pointers.
    let fd = check(unsafe { libc::socket(libc::AF_INET, kind, 0) })?;
    // SAFETY: a fresh descriptor that nothing else owns; the stream closes
    // it on every path below.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    if source != Ipv4Addr::LOCALHOST {
        set_int_option(&stream, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1)?;
        let local = sockaddr(SocketAddrV4::new(source, 0));
        // SAFETY: `local` is a valid sockaddr_in and its size is passed.
        check(unsafe {
            libc::bind(
                fd,
                (&local as *const libc::sockaddr_in).cast(),
                mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })?;
    }
    let remote = sockaddr(server);
    // SAFETY: `remote` is a valid sockaddr_in and its size is passed.
    let ret = unsafe {
        libc::connect(
            fd,
            (&remote as *const libc::sockaddr_in).cast(),
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    match check(ret) {
        Ok(_) => Ok(stream),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(stream),
        Err(e) => Err(e),
    }
}

/// Closes `stream` with a reset instead of a FIN: `SO_LINGER` with a zero
/// timeout makes `close` discard unsent data and send RST (socket(7)).
pub fn reset(stream: TcpStream) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a valid struct linger and its size is passed.
    check(unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })?;
    drop(stream);
    Ok(())
}
