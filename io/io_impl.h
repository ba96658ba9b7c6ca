/* io/io_impl.h: what the io/ files share among themselves (internal to io/).
 *
 * struct io_poller is one worker's backend: either an io_uring (uring.c) or an epoll
 * instance with its fd table (epoll.c), chosen once per process (choose.c). It is
 * created on its worker's thread and, apart from wake_fd (and ring.ring_fd, read by MSG_RING
 * senders), touched only by that thread; io_self() finds it from a fiber running there.
 *
 * A fiber's I/O request waits on an waiter (runtime/sched/wait.h): the backend claims and
 * completes it with the result (w.result) from inside io_poll() on the same worker,
 * or, for work handed to the blocking pool (pool.c), from a pool thread.
 */
#ifndef RF_IO_IMPL_H
#define RF_IO_IMPL_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "io/backend.h"
#include "runtime/sched/wait.h"

struct ep_fd_slot;   /* epoll.c */
struct rf_io_cancel; /* cancel.c */

struct io_poller {
	rf_io_backend kind;
	int worker;
	int wake_fd; /* eventfd; written by any thread */
	/* io_uring backend (owner only) */
	struct io_uring ring;
	uint64_t wake_buf; /* target of the armed eventfd read */
	bool msg_ring;     /* wake other rings with IORING_OP_MSG_RING */
	int handlers;      /* multishot requests armed (uring_handler.multishot) */
	pid_t pid;         /* the process that set the ring up (a forked child must not use it) */
	/* epoll backend (owner only) */
	int epfd;
	struct ep_fd_slot *fds; /* indexed by fd */
	int nfds;
};

/* The calling thread's io_poller (set by io_create on a worker thread), or NULL. */
io_poller *io_self(void);

/* choose.c: whether the probe found IORING_OP_MSG_RING. */
bool uring_has_msg_ring(void);

/* choose.c: io_uring setup flags the probe found the kernel accepts (valid once
 * io_choose decided io_uring). */
unsigned uring_setup_flags(void);

/* Optional io_uring features. Available where the probe found the kernel new enough (the
 * SEND_ZC opcode, Linux 6.0, stands witness for multishot accept, multishot recv and
 * buffer rings) and neither io_test_uring_off nor a kernel's refusal at run time
 * (uring_feature_lost) turned them off. */
enum {
	URF_MS_ACCEPT = 1u, /* multishot accept */
	URF_BUF_RING = 2u,  /* provided buffer rings and multishot recv */
	URF_SEND_ZC = 4u,   /* IORING_OP_SEND_ZC */
	URF_RING_FD = 8u,   /* io_uring_register_ring_fd */
};
bool uring_feature(unsigned f);
void uring_feature_lost(unsigned f);
/* Bytes from which rf_io_send uses SEND_ZC (see io_set_zc_min). */
size_t uring_zc_min(void);

/* A request whose CQEs are handled by an object rather than by completing a waiter:
 * multishot requests (one SQE, many CQEs) and SEND_ZC (a result, then a notification).
 * Its user_data is the object's address with bit 0 set (uring_handler_ud); cqe() runs
 * on the ring's owner thread, inside io_poll, for every CQE that carries it, and
 * returns how many fibers it completed. */
struct uring_handler {
	int (*cqe)(struct uring_handler *h, const struct io_uring_cqe *cqe);
	bool multishot; /* counted in io->handlers while armed (the armer adds one; a CQE
	                 * without IORING_CQE_F_MORE takes it off) */
};
static inline uint64_t uring_handler_ud(struct uring_handler *h)
{
	return (uint64_t)(uintptr_t)h | 1u;
}

/* uring.c */
int uring_create(io_poller *io);
void uring_destroy(io_poller *io);
int uring_poll(io_poller *io, uint64_t deadline_ns);
/* Completions wait in the ring, or task work that would post them (IORING_SQ_TASKRUN,
 * where the ring was set up with TASKRUN_FLAG). No syscall. Owner only. */
bool uring_pending(io_poller *io);
/* Wake `to`'s owner by posting a CQE into its ring from `self`'s ring (MSG_RING).
 * Owner of self only. */
void uring_msg_wake(io_poller *self, io_poller *to);
/* Queue a cancellation of every request on fd in this ring, hard-linked to the SQE the
 * caller prepares next (which runs whatever the cancellation finds). Owner only. */
void uring_cancel_fd(io_poller *io, int fd);
/* Before the ring goes: cancel and reap its multishot requests, so that their owners
 * hear their last CQE (and drop what they hold for the kernel); bounded to a second.
 * Owner only, in the process that set the ring up. */
void uring_drain(io_poller *io);
/* Shutdown: cancel every request in flight on the ring; the fibers waiting on them get
 * RF_ESHUTDOWN. Owner only. */
void uring_cancel_all(io_poller *io);
/* Queue an ASYNC_CANCEL of the request whose user_data is ud. Owner only. */
void uring_cancel_addr(io_poller *io, uint64_t ud);
/* A free SQE on the owner's ring (submits queued ones to make room). Owner only. */
struct io_uring_sqe *uring_sqe(io_poller *io);
/* Submit `sqe` (already prepared; its user_data is set here), linked to a timeout at
 * deadline_ns unless DEADLINE_NONE, and park until its completion. Returns the CQE's
 * res; -ETIMEDOUT when the timeout cancelled it, -EBADF when uring_cancel_fd did,
 * RF_ESHUTDOWN when shutdown did (or the worker was already unwinding: not sent);
 * when `cancellable`, -ECANCELED if the context's cancel token fires (or had fired: not
 * sent). Owner's fiber only. */
int uring_wait(io_poller *io, struct io_uring_sqe *sqe, uint64_t deadline_ns, bool cancellable);
/* uring_wait for a request that completes waiter w (initialised by the caller) through
 * a handler: the SQE carries `ud`, which the kernel holds until the last CQE. */
int uring_wait_as(io_poller *io, struct io_uring_sqe *sqe, uint64_t deadline_ns, bool cancellable,
                  waiter *w, uint64_t ud);
/* Send with SEND_ZC and park until the kernel is done with buf (its notification CQE):
 * the result as uring_wait's. -EOPNOTSUPP: the socket cannot (AF_UNIX); send plainly. */
int uring_send_zc(io_poller *io, int fd, const void *buf, size_t len, int flags,
                  uint64_t deadline_ns);
/* Queue an ASYNC_CANCEL of every request carrying ud on io's ring: right here when the
 * caller is io's owner, else from a fiber pinned to io's worker, which first asks
 * still(arg) (on that worker) whether the request is in flight there, then calls
 * done(arg) (also the local path's last step). 0, or a spawn error (done is still
 * called, at once). Any. */
int uring_cancel_ud(io_poller *io, uint64_t ud, bool (*still)(void *arg, io_poller *io),
                    void (*done)(void *arg), void *arg);

/* epoll.c */
int ep_create(io_poller *io);
void ep_destroy(io_poller *io);
int ep_poll(io_poller *io, uint64_t deadline_ns);
/* Park until fd shows one of `events` (EPOLLIN/EPOLLOUT/...) or the deadline. Returns
 * the events seen (>0), -ETIMEDOUT, RF_ESHUTDOWN, -EPERM (fd not pollable: a regular file), -EBADF
 * (bad fd, or closed by rf_io_close meanwhile). Owner's fiber only. */
int ep_wait_fd(io_poller *io, int fd, uint32_t events, uint64_t deadline_ns);
/* ep_wait_fd that a second cancel token (`also`, may be NULL) ends too, with -ECANCELED. */
int ep_wait_fd_also(io_poller *io, int fd, uint32_t events, uint64_t deadline_ns,
                    struct rf_io_cancel *also);
/* Whether this worker's last attempt on fd in the direction(s) of `events` got EAGAIN
 * and no edge has come since: a call now would get EAGAIN again, so park first. No
 * syscall. Owner only. */
bool ep_unready(io_poller *io, int fd, uint32_t events);
/* A read or recv on fd returned less than asked (and more than 0): a stream socket is
 * drained, so mark it unready for input. Owner only. */
void ep_short_read(io_poller *io, int fd);
/* fd is about to be closed by rf_io_close: every worker's slot for it starts afresh.
 * Any thread; one atomic increment. */
void ep_closing(int fd);
/* Forget fd (before it is closed): its waiters get -EBADF. Owner only. */
void ep_forget_fd(io_poller *io, int fd);

/* cancel.c: tokens that end the I/O waits of the contexts they are attached to (see the
 * top of cancel.c). A record lives on the waiting fiber's stack from enter to leave. */
struct rf_io_cancel;
struct io_cancel_rec {
	struct rf_io_cancel *token; /* NULL: the context has none */
	struct io_cancel_rec *next, *prev;
	waiter *w;
	io_poller *io;
	uint64_t ud; /* the request's user_data (uring) */
	bool uring;  /* end it with ASYNC_CANCEL of ud on io's ring (else: complete w) */
	bool sent;
};
int io_cancel_new(struct rf_io_cancel **out);
void io_cancel_unref(struct rf_io_cancel *c);
/* The calling context's token was triggered. */
bool io_cancel_triggered(void);
/* Before parking on w: list the wait in the context's token. False (nothing listed) if
 * the token was triggered already: fail with -ECANCELED without waiting. */
bool io_cancel_enter(struct io_cancel_rec *r, waiter *w, io_poller *io, bool uring);
/* io_cancel_enter for a given token (NULL: none) rather than the context's; for a uring
 * wait, ud is the request's user_data. */
bool io_cancel_enter_token(struct io_cancel_rec *r, struct rf_io_cancel *c, waiter *w,
                           io_poller *io, bool uring, uint64_t ud);
void io_cancel_leave(struct io_cancel_rec *r);
/* End every wait listed in c, and make later ones fail. 0 or a spawn error. Any. */
int io_cancel_trigger(struct rf_io_cancel *c);

/* calls.c: the deadline of a call with timeout_ms (the context's deadline may bring it
 * nearer). 0; -EINVAL (ms < 0), -ECANCELED (the context's token was triggered). */
int io_call_deadline(int64_t ms, uint64_t *deadline);
/* Wait until fd is ready for events (POLLIN, ...) or the deadline, on whatever the
 * caller runs on. 0, -ETIMEDOUT, -ECANCELED, RF_ESHUTDOWN, -EBADF. */
int io_wait_fd(int fd, short events, uint64_t deadline);

#endif
