/*
 * The C declarations evq's `sys` module is generated from (see build.rs).
 * One branch per event-queue mechanism; build.rs allowlists exactly the
 * items the backend for that mechanism uses, and those the fd helpers of
 * the tests, the model and the benchmark need (tests/util/fd.rs).
 *
 * EVQ_FORCE_KQUEUE (set by build.rs under `--cfg evq_force_kqueue`) selects
 * kqueue on Linux, through libkqueue's <sys/event.h>.
 */
#if defined(__linux__) && !defined(EVQ_FORCE_KQUEUE)
/* pipe2, O_PATH, POLLRDHUP */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
/* For the fd helpers of the tests, the model and the benchmark. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__) || defined(EVQ_FORCE_KQUEUE)
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>
#else
#error "evq: no event queue backend for this OS (epoll on Linux/Android, kqueue on macOS and the BSDs)"
#endif
