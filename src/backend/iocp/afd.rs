//! A handle on `\Device\Afd`, Winsock's kernel driver, through which a
//! `Poll` sends its sockets' `IOCTL_AFD_POLL` requests.
//!
//! The handle is associated with the poll's completion port (key
//! `AFD_KEY`), so every poll request sent through it completes there. It
//! is opened with `NtCreateFile`, as no Win32 call opens a device by its NT
//! name; the name after `\Device\Afd\` is free (AFD opens an endpoint that
//! is never bound), evq uses `Evq`.

use super::os_error::{is_nt_error, last_error, nt_error};
use super::port::{CompletionPort, AFD_KEY};
use crate::{sys, Result};
use std::ffi::c_void;
use std::mem::{self, MaybeUninit};
use std::os::windows::io::{AsHandle, AsRawHandle, FromRawHandle, OwnedHandle, RawSocket};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The buffers of one poll request, which the kernel writes when the
/// request completes: its status block and its output (the same
/// `AFD_POLL_INFO` as the input, as AFD uses it).
#[repr(C)]
pub(super) struct PollBuffers {
    pub(super) iosb: sys::IO_STATUS_BLOCK,
    pub(super) info: sys::AFD_POLL_INFO,
}

impl PollBuffers {
    pub(super) fn new() -> PollBuffers {
        PollBuffers {
            iosb: status_block(sys::STATUS_SUCCESS),
            info: poll_info(0, 0),
        }
    }

    /// The events a completed request reports, or `None` if it was
    /// cancelled or reported nothing; a failed request reports
    /// `AFD_POLL_CONNECT_FAIL`, as wepoll and mio do (the socket's own next
    /// call then says what went wrong).
    pub(super) fn completed_events(&self) -> Option<u32> {
        // SAFETY: every IO_STATUS_BLOCK this backend hands the kernel has
        // `Status` as its active member (`status_block`), and the kernel
        // writes an NTSTATUS there; both members are plain data.
        let status = unsafe { self.iosb.__bindgen_anon_1.Status };
        if status == sys::STATUS_CANCELLED {
            None
        } else if status < 0 {
            Some(sys::AFD_POLL_CONNECT_FAIL)
        } else if self.info.NumberOfHandles < 1 {
            None
        } else {
            Some(self.info.Handles[0].Events)
        }
    }
}

/// An open `\Device\Afd` handle, associated with a completion port.
#[derive(Debug)]
pub(super) struct Afd {
    handle: OwnedHandle,
    /// Poll requests sent through this handle whose completion has not
    /// been dequeued yet: each holds a strong count of its state, which the
    /// port's last owner must collect before the memory can be freed.
    in_flight: AtomicUsize,
}

impl Afd {
    /// `NtCreateFile(\Device\Afd\Evq)`, associated with `port` (one
    /// `CreateIoCompletionPort`) and with `FILE_SKIP_SET_EVENT_ON_HANDLE`
    /// (one `SetFileCompletionNotificationModes`: completions need not
    /// signal the handle, which nobody waits on).
    pub(super) fn open(port: &CompletionPort) -> Result<Afd> {
        let name: Vec<u16> = r"\Device\Afd\Evq".encode_utf16().collect();
        let bytes = (name.len() * mem::size_of::<u16>()) as u16;
        let mut unicode = sys::UNICODE_STRING {
            Length: bytes,
            MaximumLength: bytes,
            Buffer: name.as_ptr() as *mut u16,
        };
        // SAFETY: OBJECT_ATTRIBUTES is a C struct of integers and pointers,
        // for which all zeroes is valid (null pointers, no attributes).
        let mut attributes: sys::OBJECT_ATTRIBUTES = unsafe { MaybeUninit::zeroed().assume_init() };
        attributes.Length = mem::size_of::<sys::OBJECT_ATTRIBUTES>() as sys::ULONG;
        attributes.ObjectName = &mut unicode;
        let mut handle: sys::HANDLE = ptr::null_mut();
        let mut iosb = status_block(sys::STATUS_SUCCESS);
        // SAFETY: every pointer is to a live local that outlives the call
        // (`name` backs `unicode`, which `attributes` points to); the
        // kernel writes only `handle` and `iosb`. A synchronous open (no
        // FILE_FLAG_OVERLAPPED analogue is asked for) completes before the
        // call returns. No attributes: the handle is not inheritable.
        let status = unsafe {
            sys::NtCreateFile(
                &mut handle,
                sys::SYNCHRONIZE,
                &mut attributes,
                &mut iosb,
                ptr::null_mut(),
                0,
                sys::FILE_SHARE_READ | sys::FILE_SHARE_WRITE,
                sys::FILE_OPEN,
                0,
                ptr::null_mut(),
                0,
            )
        };
        if status != sys::STATUS_SUCCESS {
            return Err(nt_error(status, r"NtCreateFile(\Device\Afd\Evq)", None));
        }
        // SAFETY: NtCreateFile succeeded, so `handle` is a new handle that
        // nothing else owns; OwnedHandle closes it once.
        let handle = unsafe { OwnedHandle::from_raw_handle(handle) };
        port.associate(handle.as_handle(), AFD_KEY)?;
        // SAFETY: the handle is open; the call takes no pointers.
        let ok = unsafe {
            sys::SetFileCompletionNotificationModes(
                handle.as_raw_handle(),
                sys::FILE_SKIP_SET_EVENT_ON_HANDLE as sys::UCHAR,
            )
        };
        if ok == 0 {
            return Err(last_error("SetFileCompletionNotificationModes", None));
        }
        Ok(Afd {
            handle,
            in_flight: AtomicUsize::new(0),
        })
    }

    /// Sends `IOCTL_AFD_POLL` for `events` of `base_socket`
    /// (`NtDeviceIoControlFile`), with `context` as the request's context
    /// (the completion's `lpOverlapped`). On `Ok` the request is in flight:
    /// its completion will be queued to the port, even if it completed at
    /// once. On `Err` (an error status: the socket is not one, or closed)
    /// nothing is queued and the kernel keeps no pointer.
    ///
    /// # Safety
    ///
    /// `buffers` must be valid for writes, not be accessed by anything else,
    /// and stay allocated at the same address, from this call until the
    /// request's completion has been dequeued from the port (on `Ok`).
    pub(super) unsafe fn poll(
        &self,
        buffers: *mut PollBuffers,
        base_socket: RawSocket,
        events: u32,
        context: *const c_void,
    ) -> Result<()> {
        let size = mem::size_of::<sys::AFD_POLL_INFO>() as sys::ULONG;
        // SAFETY: the caller guarantees `buffers` is valid and unshared.
        let (iosb, info) = unsafe {
            ptr::write(
                buffers,
                PollBuffers {
                    iosb: status_block(sys::STATUS_PENDING),
                    info: poll_info(base_socket, events),
                },
            );
            (
                ptr::addr_of_mut!((*buffers).iosb),
                ptr::addr_of_mut!((*buffers).info),
            )
        };
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the AFD handle is open; `info` is a valid AFD_POLL_INFO
        // for one handle, used as input and output (METHOD_BUFFERED copies
        // the input before the call returns, and writes the output and the
        // status block at completion); both stay valid until the completion
        // is dequeued (the caller's promise). `context` is only carried.
        let status = unsafe {
            sys::NtDeviceIoControlFile(
                self.handle.as_raw_handle(),
                ptr::null_mut(),
                None,
                context as *mut c_void,
                iosb,
                sys::IOCTL_AFD_POLL,
                info.cast(),
                size,
                info.cast(),
                size,
            )
        };
        if is_nt_error(status) {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            return Err(nt_error(
                status,
                "NtDeviceIoControlFile(IOCTL_AFD_POLL)",
                Some(base_socket),
            ));
        }
        Ok(())
    }

    /// Cancels the request whose status block is `iosb`
    /// (`NtCancelIoFileEx`). Its completion still comes, with
    /// `STATUS_CANCELLED` (or its events, if it completed first).
    ///
    /// # Safety
    ///
    /// `iosb` must be the status block of a request sent through this
    /// handle whose completion has not been dequeued (the kernel compares
    /// the address only).
    pub(super) unsafe fn cancel(&self, iosb: *mut sys::IO_STATUS_BLOCK) -> Result<()> {
        let mut cancel_iosb = status_block(sys::STATUS_SUCCESS);
        // SAFETY: the handle is open; `iosb` identifies a request (compared,
        // not written: the caller's promise); `cancel_iosb` is a writable
        // local, written before the call returns.
        let status =
            unsafe { sys::NtCancelIoFileEx(self.handle.as_raw_handle(), iosb, &mut cancel_iosb) };
        // Not found: it completed meanwhile, and its completion is queued.
        if status == sys::STATUS_SUCCESS || status == sys::STATUS_NOT_FOUND {
            Ok(())
        } else {
            Err(nt_error(status, "NtCancelIoFileEx", None))
        }
    }

    /// A request's completion was dequeued.
    pub(super) fn completed(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Requests whose completion has not been dequeued.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

fn status_block(status: sys::NTSTATUS) -> sys::IO_STATUS_BLOCK {
    sys::IO_STATUS_BLOCK {
        __bindgen_anon_1: sys::_IO_STATUS_BLOCK__bindgen_ty_1 { Status: status },
        Information: 0,
    }
}

/// A poll of one socket for `events`, with no timeout.
fn poll_info(base_socket: RawSocket, events: u32) -> sys::AFD_POLL_INFO {
    sys::AFD_POLL_INFO {
        Timeout: sys::LARGE_INTEGER { QuadPart: i64::MAX },
        NumberOfHandles: 1,
        Exclusive: 0,
        Handles: [sys::AFD_POLL_HANDLE_INFO {
            Handle: base_socket as sys::HANDLE,
            Events: events,
            Status: 0,
        }],
    }
}
