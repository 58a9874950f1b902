/*
 * The C declarations evq's `sys` module is generated from (see build.rs).
 * One branch per event-queue mechanism, then the socket and pipe calls that
 * `evq::net` makes on every Unix; build.rs allowlists exactly the items
 * each part uses, and those the fd helpers of the tests, the model and the
 * benchmark need (tests/util/fd.rs).
 *
 * EVQ_FORCE_KQUEUE (set by build.rs under `--cfg evq_force_kqueue`) selects
 * kqueue on Linux, through libkqueue's <sys/event.h>.
 */
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
#error "evq: no event queue backend for this OS (epoll on Linux/Android, kqueue on macOS and the BSDs)"
#endif

/* evq::net: sockets, addresses and pipes. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
