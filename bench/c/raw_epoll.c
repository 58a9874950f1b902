/*
 * The raw C epoll loop: the floor evq, mio and polling are measured against.
 *
 * Plain C against <sys/epoll.h> and <sys/eventfd.h>, with the fewest system
 * calls the work allows:
 *   - a registration change is one epoll_ctl;
 *   - a wait is one epoll_wait (epoll_pwait2 for a nanosecond timeout),
 *     nothing before or after it;
 *   - a wake is at most one eventfd write, and none while a wake is already
 *     pending: the waker's `pending` flag is cleared by the waiting thread
 *     only when epoll_wait has handed it the waker's event, so every wake is
 *     either the one that wrote or is covered by an event not yet collected.
 *
 * The harness drives this loop through the same scenario code as the Rust
 * loops (see src/loops/raw_c.rs); the per-event work (reads, writes) is the
 * scenario's and identical for all four loops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evqb_waker {
    int efd;
    atomic_int pending;
    uint64_t token;
};

struct evqb_loop {
    int ep;
    int capacity;
    struct epoll_event *events;
    struct evqb_waker *waker;
};

/* A loop whose waits return at most `capacity` events; NULL on failure. */
struct evqb_loop *evqb_loop_new(int capacity) {
    struct evqb_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL) {
        return NULL;
    }
    loop->events = calloc((size_t)capacity, sizeof *loop->events);
    loop->ep = epoll_create1(EPOLL_CLOEXEC);
    if (loop->events == NULL || loop->ep < 0) {
        if (loop->ep >= 0) {
            close(loop->ep);
        }
        free(loop->events);
        free(loop);
        return NULL;
    }
    loop->capacity = capacity;
    return loop;
}

/* Closes the epoll fd and frees the loop (not its waker). */
void evqb_loop_free(struct evqb_loop *loop) {
    close(loop->ep);
    free(loop->events);
    free(loop);
}

/* The buffer evqb_wait fills. */
const struct epoll_event *evqb_loop_events(const struct evqb_loop *loop) {
    return loop->events;
}

/* One epoll_ctl; 0 or -1 with errno. */
int evqb_ctl(struct evqb_loop *loop, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(loop->ep, op, fd, &event);
}

/*
 * One epoll_wait (again only after EINTR); the number of events, or -1 with
 * errno. Clears the waker's pending flag when its event is among them.
 */
int evqb_wait(struct evqb_loop *loop, int timeout_ms) {
    int n;
    do {
        n = epoll_wait(loop->ep, loop->events, loop->capacity, timeout_ms);
    } while (n < 0 && errno == EINTR);
    struct evqb_waker *waker = loop->waker;
    if (waker != NULL) {
        for (int i = 0; i < n; i++) {
            if (loop->events[i].data.u64 == waker->token) {
                /* acq_rel: the caller sees what every coalesced waker did
                 * before its wake. */
                atomic_exchange_explicit(&waker->pending, 0, memory_order_acq_rel);
                break;
            }
        }
    }
    return n;
}

/*
 * One epoll_pwait2 with a nanosecond timeout (Linux 5.11, glibc 2.35): the
 * precision floor. The number of events, or -1 with errno.
 */
int evqb_wait_timespec(struct evqb_loop *loop, long sec, long nsec) {
    struct timespec timeout = {.tv_sec = sec, .tv_nsec = nsec};
    return epoll_pwait2(loop->ep, loop->events, loop->capacity, &timeout, NULL);
}

/* An eventfd registered edge-triggered with `loop` under `token`. */
struct evqb_waker *evqb_waker_new(struct evqb_loop *loop, uint64_t token) {
    struct evqb_waker *waker = calloc(1, sizeof *waker);
    if (waker == NULL) {
        return NULL;
    }
    waker->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    waker->token = token;
    atomic_init(&waker->pending, 0);
    if (waker->efd < 0 ||
        evqb_ctl(loop, EPOLL_CTL_ADD, waker->efd, EPOLLIN | EPOLLET, token) < 0) {
        if (waker->efd >= 0) {
            close(waker->efd);
        }
        free(waker);
        return NULL;
    }
    loop->waker = waker;
    return waker;
}

/* Closes and frees a waker; its loop must not be waited on again. */
void evqb_waker_free(struct evqb_waker *waker) {
    close(waker->efd);
    free(waker);
}

/* At most one write; none while a wake is pending. 0, or -1 with errno. */
int evqb_wake(struct evqb_waker *waker) {
    if (atomic_exchange_explicit(&waker->pending, 1, memory_order_acq_rel)) {
        return 0;
    }
    uint64_t one = 1;
    while (write(waker->efd, &one, sizeof one) < 0) {
        if (errno == EAGAIN) {
            /* The counter is full (after ~2^64 wakes): empty it, retry. */
            uint64_t count;
            if (read(waker->efd, &count, sizeof count) < 0 && errno != EAGAIN) {
                return -1;
            }
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}
