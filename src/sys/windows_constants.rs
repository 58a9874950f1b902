//! The Windows constants `src/sys/include/evq_win32_constants.h` and
//! `evq_afd.h` declare for bindgen (the headers' own macros have casts or
//! call function-like macros, which bindgen drops): each equals the value
//! Microsoft documents, and the ones a call interprets do what they name
//! when passed to it.

use super::*;
use core::ptr;

#[test]
fn ntstatus_values_are_the_documented_ones() {
    // [MS-ERREF] 2.3.1, NTSTATUS values.
    assert_eq!(STATUS_SUCCESS, 0);
    assert_eq!(STATUS_PENDING, 0x0000_0103);
    assert_eq!(STATUS_CANCELLED as u32, 0xC000_0120);
    assert_eq!(STATUS_NOT_FOUND as u32, 0xC000_0225);
    assert_eq!(STATUS_INVALID_HANDLE as u32, 0xC000_0008);
}

#[test]
fn win32_error_values_are_the_documented_ones() {
    // [MS-ERREF] 2.2, Win32 error codes; WaitForSingleObject's WAIT_TIMEOUT.
    assert_eq!(ERROR_INVALID_HANDLE, 6);
    assert_eq!(ERROR_NOT_SUPPORTED, 50);
    assert_eq!(ERROR_INVALID_PARAMETER, 87);
    assert_eq!(WAIT_TIMEOUT, 258);
    assert_eq!(ERROR_OPERATION_ABORTED, 995);
    assert_eq!(ERROR_IO_PENDING, 997);
    assert_eq!(ERROR_NOT_FOUND, 1168);
    assert_eq!(SYNCHRONIZE, 0x0010_0000);
}

#[test]
fn invalid_handle_and_socket_are_all_ones() {
    assert_eq!(INVALID_HANDLE_VALUE, -1);
    assert_eq!(INVALID_HANDLE_VALUE as HANDLE, usize::MAX as HANDLE);
    assert_eq!(INVALID_SOCKET, !0);
}

#[test]
fn ioctl_codes_are_the_documented_ones() {
    // winsock2.h's _IOW('f', 126, u_long) and _IOR('f', 127, u_long), and
    // the SIO_* codes of the WSAIoctl documentation.
    assert_eq!(FIONBIO, 0x8004_667E);
    assert_eq!(FIONREAD, 0x4004_667F);
    assert_eq!(SIO_BSP_HANDLE, 0x4800_001B);
    assert_eq!(SIO_BSP_HANDLE_SELECT, 0x4800_001C);
    assert_eq!(SIO_BSP_HANDLE_POLL, 0x4800_001D);
    assert_eq!(SIO_BASE_HANDLE, 0x4800_0022);
    assert_eq!(SO_EXCLUSIVEADDRUSE, !(SO_REUSEADDR as i32));
    // AFD's _AFD_CONTROL_CODE(AFD_POLL = 9, METHOD_BUFFERED): the code
    // wepoll, mio and polling pass.
    assert_eq!(IOCTL_AFD_POLL, 0x0001_2024);
}

/// A fresh TCP socket, after WSAStartup, closed on drop.
struct Socket(SOCKET);

impl Socket {
    fn tcp() -> Socket {
        // SAFETY: WSADATA is plain data that WSAStartup fills; 0x0202 asks
        // for Winsock 2.2. Every WSAStartup is matched by WSACleanup in drop.
        let started = unsafe {
            let mut data: WSADATA = core::mem::zeroed();
            WSAStartup(0x0202, &mut data)
        };
        assert_eq!(started, 0, "WSAStartup");
        // SAFETY: no protocol info; the flags are WSASocketW's.
        let socket = unsafe {
            WSASocketW(
                AF_INET as i32,
                SOCK_STREAM as i32,
                IPPROTO_TCP as i32,
                ptr::null_mut(),
                0,
                WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
            )
        };
        assert_ne!(socket, INVALID_SOCKET, "WSASocketW: {}", last_error());
        Socket(socket)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: the socket is ours and closed once; WSAStartup was called.
        unsafe {
            closesocket(self.0);
            WSACleanup();
        }
    }
}

fn last_error() -> i32 {
    // SAFETY: reads this thread's last Winsock error.
    unsafe { WSAGetLastError() }
}

#[test]
fn fionbio_makes_a_socket_non_blocking() {
    let socket = Socket::tcp();
    let mut on: u_long = 1;
    // SAFETY: FIONBIO reads one u_long, which `on` is.
    let set = unsafe { ioctlsocket(socket.0, FIONBIO as i32, &mut on) };
    assert_eq!(set, 0, "ioctlsocket(FIONBIO): {}", last_error());
    // A non-blocking accept on a listener with no connection fails with
    // WSAEWOULDBLOCK instead of waiting.
    let mut address: sockaddr_in = Default::default();
    address.sin_family = AF_INET as i16;
    address.sin_addr.S_un.S_addr = u32::from_ne_bytes([127, 0, 0, 1]);
    let length = core::mem::size_of::<sockaddr_in>() as i32;
    // SAFETY: `address` is a sockaddr_in of `length` bytes.
    let bound = unsafe { bind(socket.0, ptr::addr_of!(address).cast(), length) };
    assert_eq!(bound, 0, "bind: {}", last_error());
    // SAFETY: a bound socket.
    let listening = unsafe { listen(socket.0, 1) };
    assert_eq!(listening, 0, "listen: {}", last_error());
    // SAFETY: no address is asked for.
    let accepted = unsafe { accept(socket.0, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(accepted, INVALID_SOCKET);
    assert_eq!(last_error(), WSAEWOULDBLOCK as i32);
}

#[test]
fn sio_base_handle_yields_a_socket() {
    let socket = Socket::tcp();
    let mut base: SOCKET = INVALID_SOCKET;
    let mut returned: DWORD = 0;
    // SAFETY: SIO_BASE_HANDLE writes one SOCKET into `base`, whose size is
    // passed; no overlapped I/O.
    let result = unsafe {
        WSAIoctl(
            socket.0,
            SIO_BASE_HANDLE,
            ptr::null_mut(),
            0,
            ptr::addr_of_mut!(base).cast(),
            core::mem::size_of::<SOCKET>() as DWORD,
            &mut returned,
            ptr::null_mut(),
            None,
        )
    };
    assert_eq!(result, 0, "WSAIoctl(SIO_BASE_HANDLE): {}", last_error());
    assert_eq!(returned as usize, core::mem::size_of::<SOCKET>());
    assert_ne!(base, INVALID_SOCKET);
}

#[test]
fn ntstatus_maps_to_its_win32_error() {
    // SAFETY: a pure function of its argument.
    let (cancelled, invalid) = unsafe {
        (
            RtlNtStatusToDosError(STATUS_CANCELLED),
            RtlNtStatusToDosError(STATUS_INVALID_HANDLE),
        )
    };
    assert_eq!(cancelled, ERROR_OPERATION_ABORTED);
    assert_eq!(invalid, ERROR_INVALID_HANDLE);
}
