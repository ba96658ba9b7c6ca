/* io/io_impl.h: what the io/ files share among themselves (internal to io/).
 *
 * struct rf_io is one worker's backend: either an io_uring (uring.c) or an epoll
 * instance with its fd table (epoll.c), chosen once per process (choose.c). It is
 * created on its worker's thread and, apart from wake_fd (and ring.ring_fd, read by MSG_RING
 * senders), touched only by that thread; rf_io_self() finds it from a fiber running there.
 *
 * A fiber's I/O request waits on an rf_waiter (runtime/wait.h): the backend claims and
 * completes it with the result (w.result) from inside rf_io_poll() on the same worker,
 * or, for work handed to the blocking pool (pool.c), from a pool thread.
 */
#ifndef RF_IO_IMPL_H
#define RF_IO_IMPL_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdint.h>

#include "io/backend.h"
#include "runtime/wait.h"

struct rf_fd_slot; /* epoll.c */

struct rf_io {
	rf_io_backend kind;
	int worker;
	int wake_fd; /* eventfd; written by any thread */
	/* io_uring backend (owner only) */
	struct io_uring ring;
	uint64_t wake_buf; /* target of the armed eventfd read */
	bool msg_ring;     /* wake other rings with IORING_OP_MSG_RING */
	/* epoll backend (owner only) */
	int epfd;
	struct rf_fd_slot *fds; /* indexed by fd */
	int nfds;
};

/* The calling thread's rf_io (set by rf_io_create on a worker thread), or NULL. */
rf_io *rf_io_self(void);

/* choose.c: whether the probe found IORING_OP_MSG_RING. */
bool rf_uring_has_msg_ring(void);

/* choose.c: io_uring setup flags the probe found the kernel accepts (valid once
 * rf_io_choose decided io_uring). */
unsigned rf_uring_setup_flags(void);

/* uring.c */
int rf_uring_create(rf_io *io);
void rf_uring_destroy(rf_io *io);
int rf_uring_poll(rf_io *io, uint64_t deadline_ns);
/* Wake `to`'s owner by posting a CQE into its ring from `self`'s ring (MSG_RING).
 * Owner of self only. */
void rf_uring_msg_wake(rf_io *self, rf_io *to);
/* Queue a cancellation of every request on fd in this ring, hard-linked to the SQE the
 * caller prepares next (which runs whatever the cancellation finds). Owner only. */
void rf_uring_cancel_fd(rf_io *io, int fd);
/* A free SQE on the owner's ring (submits queued ones to make room). Owner only. */
struct io_uring_sqe *rf_uring_sqe(rf_io *io);
/* Submit `sqe` (already prepared; its user_data is set here), linked to a timeout at
 * deadline_ns unless RF_NO_DEADLINE, and park until its completion. Returns the CQE's
 * res; -ETIMEDOUT when the timeout cancelled it, -EBADF when rf_uring_cancel_fd did.
 * Owner's fiber only. */
int rf_uring_wait(rf_io *io, struct io_uring_sqe *sqe, uint64_t deadline_ns);

/* epoll.c */
int rf_epoll_create(rf_io *io);
void rf_epoll_destroy(rf_io *io);
int rf_epoll_poll(rf_io *io, uint64_t deadline_ns);
/* Park until fd shows one of `events` (EPOLLIN/EPOLLOUT/...) or the deadline. Returns
 * the events seen (>0), -ETIMEDOUT, -EPERM (fd not pollable: a regular file), -EBADF
 * (bad fd, or closed by rf_io_close meanwhile). Owner's fiber only. */
int rf_epoll_wait_fd(rf_io *io, int fd, uint32_t events, uint64_t deadline_ns);
/* Forget fd (before it is closed): its waiters get -EBADF. Owner only. */
void rf_epoll_forget_fd(rf_io *io, int fd);

/* pool.c: run fn(arg) on the blocking pool and park the calling fiber until it
 * returns; returns what fn returned. Fiber only (threads call fn themselves). Never
 * loses the job: if no pool thread exists and none can be started, fn runs right
 * here (blocking the worker rather than failing). */
long rf_pool_run(long (*fn)(void *arg), void *arg);

#endif
