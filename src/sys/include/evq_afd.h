/*
 * What the Windows backend needs from the AFD driver (\Device\Afd, the
 * kernel side of Winsock) and ntdll that no public header declares. This is
 * the interface wepoll, mio and polling use for readiness: a socket's base
 * handle is polled with one IOCTL_AFD_POLL on an AFD handle associated with
 * the completion port, and the poll completes there when an event it asks
 * for happens.
 *
 * The layouts and values are the driver's (as documented by ReactOS's
 * drivers/network/afd and used by every implementation since); bindgen's
 * layout tests check what clang computes for each target (AFD_POLL_INFO
 * with one handle is 32 bytes on 64-bit and 32-bit Windows alike: the
 * handle entry is 16 or 12 bytes, and LARGE_INTEGER aligns the struct to 8).
 *
 * Included by wrapper.h after <windows.h> and <winternl.h>.
 */
#ifndef EVQ_AFD_H
#define EVQ_AFD_H

#include <winioctl.h> /* FILE_DEVICE_NETWORK, METHOD_BUFFERED */

/* One socket in an IOCTL_AFD_POLL request: its base handle (SIO_BASE_HANDLE)
 * and the AFD_POLL_* events asked for; on completion, the events that
 * happened and a status. */
typedef struct _AFD_POLL_HANDLE_INFO {
    HANDLE Handle;
    ULONG Events;
    NTSTATUS Status;
} AFD_POLL_HANDLE_INFO, *PAFD_POLL_HANDLE_INFO;

/* The input and output buffer of IOCTL_AFD_POLL. Timeout is an NT time
 * (negative: relative, in 100 ns units; INT64_MAX: none). NumberOfHandles
 * counts Handles (evq polls one socket per request); Exclusive set cancels
 * other exclusive polls of the same sockets. */
typedef struct _AFD_POLL_INFO {
    LARGE_INTEGER Timeout;
    ULONG NumberOfHandles;
    ULONG Exclusive;
    AFD_POLL_HANDLE_INFO Handles[1];
} AFD_POLL_INFO, *PAFD_POLL_INFO;

/* The AFD poll events (the bit numbers of AFD_POLL_*_BIT in ReactOS). */
#define AFD_POLL_RECEIVE 0x0001           /* data to read (UDP: a datagram) */
#define AFD_POLL_RECEIVE_EXPEDITED 0x0002 /* out-of-band data */
#define AFD_POLL_SEND 0x0004              /* room to write, or a connect completed */
#define AFD_POLL_DISCONNECT 0x0008        /* the peer shut down its sending side */
#define AFD_POLL_ABORT 0x0010             /* the connection was reset */
#define AFD_POLL_LOCAL_CLOSE 0x0020       /* this socket was closed */
#define AFD_POLL_ACCEPT 0x0080            /* a listener has a connection to accept */
#define AFD_POLL_CONNECT_FAIL 0x0100      /* a non-blocking connect failed */

/* The control code of the poll request: AFD's _AFD_CONTROL_CODE(AFD_POLL,
 * METHOD_BUFFERED), with AFD's device type FILE_DEVICE_NETWORK and its
 * operation number 9 for polls. A shift expression without casts, so
 * bindgen evaluates it. */
#define EVQ_AFD_OPERATION_POLL 9
#define IOCTL_AFD_POLL ((FILE_DEVICE_NETWORK << 12) | (EVQ_AFD_OPERATION_POLL << 2) | METHOD_BUFFERED)

/* Cancels one pending I/O request (IoRequestToCancel) on FileHandle, or all
 * of them if it is NULL; exported by ntdll since Windows Vista but declared
 * only in the DDK. Its status is STATUS_NOT_FOUND if the request already
 * completed. */
NTSTATUS NTAPI NtCancelIoFileEx(HANDLE FileHandle, PIO_STATUS_BLOCK IoRequestToCancel,
                                PIO_STATUS_BLOCK IoStatusBlock);

#endif
