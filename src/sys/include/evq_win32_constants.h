/*
 * Win32 and NT constants whose header macros bindgen drops, re-declared in a
 * form it reads. bindgen evaluates macros with its own small C expression
 * parser, which knows no casts, no sizeof and no function-like macros, so
 * `#define STATUS_PENDING ((NTSTATUS)0x00000103)`, `INVALID_SOCKET
 * (SOCKET)(~0)`, `FIONBIO _IOW('f',126,u_long)`, `SIO_BASE_HANDLE
 * _WSAIOR(IOC_WS2,34)`, `INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)` and
 * `ERROR_IO_PENDING __MSABI_LONG(997)` produce nothing.
 *
 * For each, EVQ_KEEP(type, NAME) has clang evaluate the header's macro into
 * a `static const type evq_header_NAME`; the macro is then undefined and
 * EVQ_REDECLARE(type, NAME) declares `static const type NAME` with that
 * value, which bindgen turns into `pub const NAME: type = value;`. The value
 * is the header's own, computed by clang for the target (sizeof(u_long) in
 * FIONBIO, the width of SOCKET), never a copy; src/sys/mod.rs's tests check
 * the Rust constants against the values Microsoft documents.
 *
 * INVALID_HANDLE_VALUE is a pointer in C and bindgen emits no pointer
 * constants, so it is declared as the integer LONG_PTR (-1): cast it to
 * HANDLE to compare.
 *
 * Included last by wrapper.h: the macros are gone after it.
 */
#ifndef EVQ_WIN32_CONSTANTS_H
#define EVQ_WIN32_CONSTANTS_H

#define EVQ_KEEP(type, name) static const type evq_header_##name = (type)(name);
#define EVQ_REDECLARE(type, name) static const type name = evq_header_##name;

/* NTSTATUS values (ntstatus.h): the results of AFD polls and cancels. */
EVQ_KEEP(NTSTATUS, STATUS_SUCCESS)
EVQ_KEEP(NTSTATUS, STATUS_PENDING)
EVQ_KEEP(NTSTATUS, STATUS_CANCELLED)
EVQ_KEEP(NTSTATUS, STATUS_NOT_FOUND)
EVQ_KEEP(NTSTATUS, STATUS_INVALID_HANDLE)
#undef STATUS_SUCCESS
#undef STATUS_PENDING
#undef STATUS_CANCELLED
#undef STATUS_NOT_FOUND
#undef STATUS_INVALID_HANDLE
EVQ_REDECLARE(NTSTATUS, STATUS_SUCCESS)
EVQ_REDECLARE(NTSTATUS, STATUS_PENDING)
EVQ_REDECLARE(NTSTATUS, STATUS_CANCELLED)
EVQ_REDECLARE(NTSTATUS, STATUS_NOT_FOUND)
EVQ_REDECLARE(NTSTATUS, STATUS_INVALID_HANDLE)

/* Handles (handleapi.h). */
EVQ_KEEP(LONG_PTR, INVALID_HANDLE_VALUE)
#undef INVALID_HANDLE_VALUE
EVQ_REDECLARE(LONG_PTR, INVALID_HANDLE_VALUE)

/* Winsock (winsock2.h, mswsock.h): the invalid socket, the non-blocking
 * and bytes-to-read ioctls, and the base and provider handle queries. */
EVQ_KEEP(SOCKET, INVALID_SOCKET)
EVQ_KEEP(u_long, FIONBIO)
EVQ_KEEP(u_long, FIONREAD)
EVQ_KEEP(DWORD, SIO_BASE_HANDLE)
EVQ_KEEP(DWORD, SIO_BSP_HANDLE)
EVQ_KEEP(DWORD, SIO_BSP_HANDLE_SELECT)
EVQ_KEEP(DWORD, SIO_BSP_HANDLE_POLL)
#undef INVALID_SOCKET
#undef FIONBIO
#undef FIONREAD
#undef SIO_BASE_HANDLE
#undef SIO_BSP_HANDLE
#undef SIO_BSP_HANDLE_SELECT
#undef SIO_BSP_HANDLE_POLL
EVQ_REDECLARE(SOCKET, INVALID_SOCKET)
EVQ_REDECLARE(u_long, FIONBIO)
EVQ_REDECLARE(u_long, FIONREAD)
EVQ_REDECLARE(DWORD, SIO_BASE_HANDLE)
EVQ_REDECLARE(DWORD, SIO_BSP_HANDLE)
EVQ_REDECLARE(DWORD, SIO_BSP_HANDLE_SELECT)
EVQ_REDECLARE(DWORD, SIO_BSP_HANDLE_POLL)

EVQ_KEEP(int, SO_EXCLUSIVEADDRUSE)
#undef SO_EXCLUSIVEADDRUSE
EVQ_REDECLARE(int, SO_EXCLUSIVEADDRUSE)

/* Win32 error codes (winerror.h) and access rights (winnt.h), defined
 * through the function-like __MSABI_LONG(x): GetLastError's values the
 * backend tells apart, and the right NtCreateFile asks for on \Device\Afd. */
EVQ_KEEP(DWORD, ERROR_INVALID_HANDLE)
EVQ_KEEP(DWORD, ERROR_INVALID_PARAMETER)
EVQ_KEEP(DWORD, ERROR_NOT_SUPPORTED)
EVQ_KEEP(DWORD, ERROR_OPERATION_ABORTED)
EVQ_KEEP(DWORD, ERROR_IO_PENDING)
EVQ_KEEP(DWORD, ERROR_NOT_FOUND)
EVQ_KEEP(DWORD, WAIT_TIMEOUT)
EVQ_KEEP(ACCESS_MASK, SYNCHRONIZE)
#undef ERROR_INVALID_HANDLE
#undef ERROR_INVALID_PARAMETER
#undef ERROR_NOT_SUPPORTED
#undef ERROR_OPERATION_ABORTED
#undef ERROR_IO_PENDING
#undef ERROR_NOT_FOUND
#undef WAIT_TIMEOUT
#undef SYNCHRONIZE
EVQ_REDECLARE(DWORD, ERROR_INVALID_HANDLE)
EVQ_REDECLARE(DWORD, ERROR_INVALID_PARAMETER)
EVQ_REDECLARE(DWORD, ERROR_NOT_SUPPORTED)
EVQ_REDECLARE(DWORD, ERROR_OPERATION_ABORTED)
EVQ_REDECLARE(DWORD, ERROR_IO_PENDING)
EVQ_REDECLARE(DWORD, ERROR_NOT_FOUND)
EVQ_REDECLARE(DWORD, WAIT_TIMEOUT)
EVQ_REDECLARE(ACCESS_MASK, SYNCHRONIZE)

#undef EVQ_KEEP
#undef EVQ_REDECLARE

#endif
