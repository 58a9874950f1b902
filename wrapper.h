/*
 * The C declarations evq's `sys` module is generated from (see build.rs).
 * Windows first (one branch: the completion port, AFD and Winsock), then
 * one branch per Unix event-queue mechanism, then the socket and pipe calls
 * that `evq::net` makes on every Unix; build.rs allowlists exactly the items
 * each part uses, and those the fd helpers of the tests, the model and the
 * benchmark need (tests/util/fd.rs).
 *
 * EVQ_FORCE_KQUEUE (set by build.rs under `--cfg evq_force_kqueue`) selects
 * kqueue on Linux, through libkqueue's <sys/event.h>.
 */
#if defined(_WIN32)
/* mingw-w64's headers (also for the MSVC targets: the items are the
 * Windows ABI, which both toolchains share). winsock2.h must come before
 * windows.h, which would otherwise include the old winsock.h; the NTSTATUS
 * values come from ntstatus.h, so winnt.h's few are suppressed. */
#define WIN32_LEAN_AND_MEAN
#define WIN32_NO_STATUS
/* evq::net: sockets and addresses; the base socket queries (SIO_*) */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
/* Poll, Waker: the completion port, handles, Win32 errors */
#include <windows.h>
#undef WIN32_NO_STATUS
#include <ntstatus.h>
/* The AFD readiness polls: ntdll's NtCreateFile and NtDeviceIoControlFile,
 * then what no public header declares (ours) */
#include <winternl.h>
#include "src/sys/include/evq_afd.h"
/* Last: macros bindgen cannot evaluate, re-declared as constants */
#include "src/sys/include/evq_win32_constants.h"
#else

#if defined(__linux__) && !defined(_GNU_SOURCE)
/* glibc declares accept4, pipe2, O_PATH and POLLRDHUP only for _GNU_SOURCE (build.rs passes
 * it on the command line too, in case a header is -include'd first). */
#define _GNU_SOURCE 1
#endif

#if defined(__linux__) && !defined(EVQ_FORCE_KQUEUE)
/* Poll, Waker */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
/* The io_uring backend (cargo feature `io-uring`): the ring ABI, the raw
 * system call numbers (glibc wraps none of the io_uring calls), mmap and
 * the errno values its completions carry. */
#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
/* For the fd helpers of the tests, the model and the benchmark. */
#include <poll.h>
/* epoll_pwait2 and pidfd_open, called by number: struct __kernel_timespec
 * and the SYS_ numbers are the kernel's ABI, whatever the libc version */
/* Timer */
#include <sys/timerfd.h>
#include <time.h>
/* Signals */
#include <signal.h>
#include <sys/signalfd.h>
/* ChildExit */
#include <sys/wait.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__) || defined(EVQ_FORCE_KQUEUE)
/* Poll, Waker */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
/* Signals */
#include <signal.h>
/* ChildExit */
#include <sys/wait.h>
#else
#error "evq: no event queue backend for this OS (epoll on Linux/Android, kqueue on macOS and the BSDs, IOCP on Windows)"
#endif

/* evq::net: sockets, addresses and pipes. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif /* _WIN32 */
