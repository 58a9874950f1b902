//! Socket addresses in the kernel's form: `std::net::SocketAddr` and Unix
//! paths to and from a `sockaddr_storage`, for the calls std cannot make
//! for us (`bind`, `connect` and `accept4` on a socket evq created). The
//! same structs on Windows (Winsock's are BSD's), but for the length's
//! type, the scope id's place and the absence of Unix paths.

use crate::sys;
use std::ffi::c_int;
use std::mem::{self, size_of};
use std::net::SocketAddr;
#[cfg(unix)]
use {
    std::ffi::OsStr,
    std::io,
    std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6},
    std::os::unix::ffi::OsStrExt,
    std::os::unix::net::SocketAddr as UnixSocketAddr,
    std::path::Path,
};

/// The type of an address length: `socklen_t`; Winsock takes an `int`.
#[cfg(unix)]
pub(crate) type SockLen = sys::socklen_t;

/// The type of an address length: `socklen_t`; Winsock takes an `int`.
#[cfg(windows)]
pub(crate) type SockLen = c_int;

// Every family's struct fits in (and is no more aligned than) the storage,
// so viewing the storage as one of them stays in bounds.
const _: () = {
    assert!(size_of::<sys::sockaddr_in>() <= size_of::<sys::sockaddr_storage>());
    assert!(size_of::<sys::sockaddr_in6>() <= size_of::<sys::sockaddr_storage>());
    #[cfg(unix)]
    assert!(size_of::<sys::sockaddr_un>() <= size_of::<sys::sockaddr_storage>());
    assert!(mem::align_of::<sys::sockaddr_in6>() <= mem::align_of::<sys::sockaddr_storage>());
    assert!(mem::align_of::<sys::sockaddr_in>() <= mem::align_of::<sys::sockaddr_storage>());
    #[cfg(unix)]
    assert!(mem::align_of::<sys::sockaddr_un>() <= mem::align_of::<sys::sockaddr_storage>());
};

/// A socket address as the kernel reads and writes it: a
/// `sockaddr_storage` and the length of the part in use.
pub(crate) struct SockAddr {
    storage: sys::sockaddr_storage,
    len: SockLen,
}

/// A `sockaddr_*` struct of the C headers: plain integers and arrays, for
/// which any bytes (all zeros in particular) are a valid value.
///
/// # Safety
/// Implement it only for such structs.
unsafe trait CSockAddr {}
// SAFETY: the bindgen structs below are integers, arrays of integers and
// (in_addr, in6_addr, Winsock's scope id) unions of integers and integer
// arrays.
unsafe impl CSockAddr for sys::sockaddr_in {}
// SAFETY: as above.
unsafe impl CSockAddr for sys::sockaddr_in6 {}
// SAFETY: as above.
#[cfg(unix)]
unsafe impl CSockAddr for sys::sockaddr_un {}

impl SockAddr {
    /// An all-zero address (family `AF_UNSPEC`) with room for any family,
    /// for the kernel to fill in.
    pub(crate) fn empty() -> SockAddr {
        SockAddr {
            // SAFETY: sockaddr_storage is integers and arrays of integers;
            // all zeros is a valid value (and what C code memsets it to).
            storage: unsafe { mem::zeroed() },
            len: size_of::<sys::sockaddr_storage>() as SockLen,
        }
    }

    /// The storage viewed as the family's struct `T`.
    #[cfg(unix)]
    fn view<T: CSockAddr>(&self) -> &T {
        // SAFETY: T fits in the storage and is no more aligned (asserted
        // above), and any bytes are a valid T (CSockAddr).
        unsafe { &*(&self.storage as *const sys::sockaddr_storage).cast::<T>() }
    }

    /// The storage viewed as the family's struct `T`, to fill in.
    fn view_mut<T: CSockAddr>(&mut self) -> &mut T {
        // SAFETY: as in `view`; any bytes written through T are valid
        // storage bytes too.
        unsafe { &mut *(&mut self.storage as *mut sys::sockaddr_storage).cast::<T>() }
    }

    /// The kernel's form of an IPv4 or IPv6 address.
    pub(crate) fn from_inet(addr: SocketAddr) -> SockAddr {
        let mut out = SockAddr::empty();
        match addr {
            SocketAddr::V4(v4) => {
                let sin: &mut sys::sockaddr_in = out.view_mut();
                sin.sin_family = sys::AF_INET as _;
                sin.sin_port = v4.port().to_be();
                // Network byte order in memory, which `octets` already is.
                sin.sin_addr = in_addr_from(v4.ip().octets());
                out.len = size_of::<sys::sockaddr_in>() as SockLen;
                #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
                {
                    out.view_mut::<sys::sockaddr_in>().sin_len = out.len as u8;
                }
            }
            SocketAddr::V6(v6) => {
                let sin6: &mut sys::sockaddr_in6 = out.view_mut();
                sin6.sin6_family = sys::AF_INET6 as _;
                sin6.sin6_port = v6.port().to_be();
                sin6.sin6_flowinfo = v6.flowinfo();
                set_scope_id(sin6, v6.scope_id());
                sin6.sin6_addr = in6_addr_from(v6.ip().octets());
                out.len = size_of::<sys::sockaddr_in6>() as SockLen;
                #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
                {
                    out.view_mut::<sys::sockaddr_in6>().sin6_len = out.len as u8;
                }
            }
        }
        out
    }

    /// The kernel's form of a Unix socket path. Fails with `InvalidInput`
    /// if the path holds a NUL byte or is too long for `sun_path` (108
    /// bytes on Linux, 104 on macOS and the BSDs, including the final NUL).
    #[cfg(unix)]
    pub(crate) fn from_path(path: &Path) -> io::Result<SockAddr> {
        let bytes = path.as_os_str().as_bytes();
        let mut out = SockAddr::empty();
        let sun: &mut sys::sockaddr_un = out.view_mut();
        if bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Unix socket path must not contain NUL bytes",
            ));
        }
        if bytes.len() >= sun.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "Unix socket path is {} bytes long; the limit here is {} \
                     (sun_path holds {} bytes with the final NUL)",
                    bytes.len(),
                    sun.sun_path.len() - 1,
                    sun.sun_path.len()
                ),
            ));
        }
        sun.sun_family = sys::AF_UNIX as _;
        for (dst, &src) in sun.sun_path.iter_mut().zip(bytes) {
            *dst = src as _;
        }
        // The path and its NUL terminator.
        out.len = (sun_path_offset() + bytes.len() + 1) as SockLen;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            out.view_mut::<sys::sockaddr_un>().sun_len = out.len as u8;
        }
        Ok(out)
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    #[cfg(unix)]
    pub(crate) fn family(&self) -> c_int {
        c_int::from(self.storage.ss_family)
    }

    /// The address as `std` has it, if it is IPv4 or IPv6.
    #[cfg(unix)]
    pub(crate) fn to_inet(&self) -> io::Result<SocketAddr> {
        match self.family() as u32 {
            sys::AF_INET => {
                let sin: &sys::sockaddr_in = self.view();
                let ip = Ipv4Addr::from(in_addr_octets(sin.sin_addr));
                Ok(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
            }
            sys::AF_INET6 => {
                let sin6: &sys::sockaddr_in6 = self.view();
                let ip = Ipv6Addr::from(in6_addr_octets(sin6.sin6_addr));
                let port = u16::from_be(sin6.sin6_port);
                Ok(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, scope_id(sin6)).into())
            }
            family => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected an IPv4 or IPv6 address, the kernel gave family {family}"),
            )),
        }
    }

    /// The address as `std` has it, if it is a Unix socket address: a
    /// path, unnamed (an unbound peer), or on Linux an abstract name.
    #[cfg(unix)]
    pub(crate) fn to_unix(&self) -> io::Result<UnixSocketAddr> {
        let sun: &sys::sockaddr_un = self.view();
        let offset = sun_path_offset();
        let path_len = (self.len as usize)
            .saturating_sub(offset)
            .min(sun.sun_path.len());
        // `c_char` is `i8` on some targets, `u8` on others.
        #[allow(clippy::unnecessary_cast)]
        let bytes: Vec<u8> = sun.sun_path[..path_len].iter().map(|&c| c as u8).collect();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let [0, name @ ..] = bytes.as_slice() {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            return UnixSocketAddr::from_abstract_name(name);
        }
        // Up to the NUL terminator; macOS and the BSDs report an unnamed
        // peer with a nonzero length but an all-zero path. The empty path
        // makes std's unnamed address.
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        UnixSocketAddr::from_pathname(Path::new(OsStr::from_bytes(&bytes[..end])))
    }

    /// A pointer to the address, for `bind` and `connect`.
    pub(crate) fn as_ptr(&self) -> *const sys::sockaddr {
        (&self.storage as *const sys::sockaddr_storage).cast()
    }

    /// A pointer to the storage and its length, for the kernel to fill in
    /// (`accept4`): the length goes in as the room there is and comes back
    /// as the length used.
    #[cfg(unix)]
    pub(crate) fn as_mut_parts(&mut self) -> (*mut sys::sockaddr, &mut SockLen) {
        (
            (&mut self.storage as *mut sys::sockaddr_storage).cast(),
            &mut self.len,
        )
    }

    /// The length in use, for `bind` and `connect`.
    pub(crate) fn len(&self) -> SockLen {
        self.len
    }
}

/// `in6_addr` (a union whose field names differ between C libraries) from
/// its 16 bytes in network order.
fn in6_addr_from(octets: [u8; 16]) -> sys::in6_addr {
    // SAFETY: in6_addr is 16 bytes of address (transmute checks the size)
    // and any bytes are a valid value.
    unsafe { mem::transmute::<[u8; 16], sys::in6_addr>(octets) }
}

/// The 16 bytes of an `in6_addr`, in network order.
#[cfg(unix)]
fn in6_addr_octets(addr: sys::in6_addr) -> [u8; 16] {
    // SAFETY: as in `in6_addr_from`; any 16 bytes are a valid array.
    unsafe { mem::transmute::<sys::in6_addr, [u8; 16]>(addr) }
}

/// `in_addr` (a struct on Unix, a union in a struct on Windows) from its 4
/// bytes in network order.
fn in_addr_from(octets: [u8; 4]) -> sys::in_addr {
    // SAFETY: in_addr is the 4 bytes of the address (transmute checks the
    // size) and any bytes are a valid value.
    unsafe { mem::transmute::<[u8; 4], sys::in_addr>(octets) }
}

/// The 4 bytes of an `in_addr`, in network order.
#[cfg(unix)]
fn in_addr_octets(addr: sys::in_addr) -> [u8; 4] {
    // SAFETY: as in `in_addr_from`; any 4 bytes are a valid array.
    unsafe { mem::transmute::<sys::in_addr, [u8; 4]>(addr) }
}

/// Sets `sin6_scope_id`.
#[cfg(unix)]
fn set_scope_id(sin6: &mut sys::sockaddr_in6, id: u32) {
    sin6.sin6_scope_id = id;
}

/// `sin6_scope_id`.
#[cfg(unix)]
fn scope_id(sin6: &sys::sockaddr_in6) -> u32 {
    sin6.sin6_scope_id
}

/// Sets `sin6_scope_id`, which Winsock puts in an anonymous union with
/// `sin6_scope_struct` (a `SCOPE_ID`, the same 32 bits split in fields).
/// (Reading addresses back is std's business on Windows.)
#[cfg(windows)]
fn set_scope_id(sin6: &mut sys::sockaddr_in6, id: u32) {
    sin6.__bindgen_anon_1.sin6_scope_id = id;
}

/// Where `sun_path` starts in a `sockaddr_un` (`offset_of!` is newer than
/// evq's MSRV, 1.71).
#[cfg(unix)]
fn sun_path_offset() -> usize {
    let sun = mem::MaybeUninit::<sys::sockaddr_un>::uninit();
    let base = sun.as_ptr();
    // SAFETY: `addr_of!` computes the field's address inside the local
    // `sun` without reading it or making a reference to uninitialised
    // memory.
    let path = unsafe { std::ptr::addr_of!((*base).sun_path) };
    path as usize - base as usize
}
