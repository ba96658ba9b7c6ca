/* io/uring.c: the io_uring backend, one ring per executor worker.
 *
 * Ownership: the ring, wake_buf and msg_ring belong to the owner worker thread (the
 * ring is SINGLE_ISSUER where the kernel has it: only that thread may submit). Other
 * threads touch only wake_fd (io_wake writes it; eventfd writes are atomic).
 *
 * Wake-ups: a read of wake_fd into wake_buf is always armed in the ring (user_data
 * WAKE_TAG); a write from any thread completes it, which ends the owner's wait in
 * io_uring_enter; the owner re-arms it while reaping. Where enabled (msg_ring), a
 * sender that is itself a ring's owner posts a CQE straight into the target ring instead
 * (IORING_OP_MSG_RING, MSG_WAKE_TAG), which ends the wait the same way without the
 * eventfd's read and re-arm; the sender's own completion comes back as MSG_SENT_TAG.
 * Every other CQE carries either IGNORE_TAG (a linked timeout or close's cancellation:
 * their effect shows as -ECANCELED on the request they end), the address of the waiting request's
 * waiter, which lives on the parked fiber's stack until the fiber is resumed, i.e.
 * until after its CQE is reaped, or the address of a struct uring_handler with bit 0 set
 * (multishot requests, SEND_ZC), whose owner keeps it alive until its last CQE.
 *
 * The ring's fd is registered (io_uring_register_ring_fd) where the kernel has it, so
 * io_uring_enter skips the fd lookup; ring.ring_fd stays open for MSG_RING senders.
 */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "runtime/base/assert.h"
#include "runtime/base/ctx.h"
#include "runtime/sched/sched.h"

#define RING_ENTRIES 256
#define WAKE_TAG 1u
#define IGNORE_TAG 2u   /* linked timeouts and close's cancellations */
#define MSG_WAKE_TAG 3u /* a wake-up posted by another ring (MSG_RING) */
#define MSG_SENT_TAG 4u /* our own MSG_RING request's completion */

/* rf_io_send's SEND_ZC threshold: perf/io's send_zc over loopback on the development
 * machine (docs/io.md). */
#define ZC_MIN_DEFAULT SIZE_MAX

/* io-wq workers per ring: bounded (regular files, block devices) and unbounded
 * (everything else that must block): enough to overlap disk I/O, few enough that a
 * burst of blocking requests cannot spawn hundreds of kernel threads. */
static unsigned iowq_max[2] = {4, 16};

/* Wake other rings by MSG_RING (where the probe finds it) or through their eventfd.
 * Set before workers start (io_set_msg_ring); read at io_create. */
static _Atomic bool msg_ring_on = false;

void io_set_msg_ring(bool on)
{
	atomic_store_explicit(&msg_ring_on, on, memory_order_relaxed);
}

static int reap(io_poller *io, bool *woke);

static void arm_wake(io_poller *io)
{
	struct io_uring_sqe *sqe = uring_sqe(io);
	io_uring_prep_read(sqe, io->wake_fd, &io->wake_buf, sizeof(io->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, WAKE_TAG);
}

int uring_create(io_poller *io)
{
	unsigned flags = uring_setup_flags();
	int rc;
	for (;;) {
		rc = io_uring_queue_init(RING_ENTRIES, &io->ring, flags);
		if (rc != -EINVAL || flags == 0)
			break;
		/* Same flag-dropping order as the probe: DEFER_TASKRUN needs SINGLE_ISSUER. */
		if (flags & IORING_SETUP_TASKRUN_FLAG)
			flags &= ~IORING_SETUP_TASKRUN_FLAG;
		else
			flags &= (flags & IORING_SETUP_DEFER_TASKRUN) ? ~IORING_SETUP_DEFER_TASKRUN
			                                              : ~IORING_SETUP_SINGLE_ISSUER;
	}
	if (rc < 0)
		return rc;
	unsigned lim[2] = {iowq_max[0], iowq_max[1]};
	(void)io_uring_register_iowq_max_workers(&io->ring, lim); /* absent before 5.15 */
	if (uring_feature(URF_RING_FD))
		(void)io_uring_register_ring_fd(&io->ring); /* -EINVAL before 5.18: plain fd */
	io->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (io->wake_fd < 0) {
		rc = -errno;
		io_uring_queue_exit(&io->ring);
		return rc;
	}
	io->msg_ring =
	    atomic_load_explicit(&msg_ring_on, memory_order_relaxed) && uring_has_msg_ring();
	io->pid = getpid();
	arm_wake(io);
	rc = io_uring_submit(&io->ring);
	if (rc < 0) {
		close(io->wake_fd);
		io_uring_queue_exit(&io->ring);
		return rc;
	}
	return 0;
}

void uring_destroy(io_poller *io)
{
	/* Exiting the ring cancels what is still in flight (the armed wake read, requests
	 * of fibers abandoned at shutdown) and waits for the kernel to let go of them. */
	io_uring_queue_exit(&io->ring);
	close(io->wake_fd);
}

void uring_drain(io_poller *io)
{
	if (io->handlers <= 0 || io->pid != getpid())
		return;
	uring_cancel_all(io);
	uint64_t until = time_now_ns() + 1000000000u;
	while (io->handlers > 0 && time_now_ns() < until) {
		struct __kernel_timespec ts = {.tv_nsec = 10000000};
		struct io_uring_cqe *cqe;
		(void)io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, &ts, NULL);
		bool woke = false;
		(void)reap(io, &woke);
	}
}

void uring_cancel_fd(io_poller *io, int fd)
{
	RF_ASSERT(io_self() == io); /* owner only */
	struct io_uring_sqe *sqe = uring_sqe(io);
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	sqe->flags |= IOSQE_IO_HARDLINK; /* the next SQE runs whatever this one returns */
	io_uring_sqe_set_data64(sqe, IGNORE_TAG);
}

void uring_msg_wake(io_poller *self, io_poller *to)
{
	struct io_uring_sqe *sqe = uring_sqe(self);
	io_uring_prep_msg_ring(sqe, to->ring.ring_fd, 0, MSG_WAKE_TAG, 0);
	io_uring_sqe_set_data64(sqe, MSG_SENT_TAG);
	(void)io_uring_submit(&self->ring);
}

bool uring_pending(io_poller *io)
{
	return io_uring_sq_ready(&io->ring) || io_uring_cq_ready(&io->ring) ||
	       (IO_URING_READ_ONCE(*io->ring.sq.kflags) &
	        (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW));
}

void uring_cancel_addr(io_poller *io, uint64_t ud)
{
	struct io_uring_sqe *sqe = uring_sqe(io);
	io_uring_prep_cancel64(sqe, ud, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, IGNORE_TAG);
}

struct io_uring_sqe *uring_sqe(io_poller *io)
{
	RF_ASSERT(io_self() == io); /* owner only */
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&io->ring)))
		io_uring_submit(&io->ring);
	return sqe;
}

void uring_cancel_all(io_poller *io)
{
	/* The armed wake read is cancelled too: its CQE re-arms it like any other. */
	struct io_uring_sqe *sqe = uring_sqe(io);
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, IGNORE_TAG);
	(void)io_uring_submit(&io->ring);
}

int uring_wait(io_poller *io, struct io_uring_sqe *sqe, uint64_t deadline_ns, bool cancellable)
{
	waiter w;
	waiter_init(&w);
	return uring_wait_as(io, sqe, deadline_ns, cancellable, &w, (uint64_t)(uintptr_t)&w);
}

int uring_wait_as(io_poller *io, struct io_uring_sqe *sqe, uint64_t deadline_ns, bool cancellable,
                  waiter *wp, uint64_t ud)
{
	RF_ASSERT(io_self() == io); /* owner only */
	if (sched_cancelling()) {
		/* The worker is unwinding for rf_shutdown: the request is not sent. */
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, IGNORE_TAG);
		return RF_ESHUTDOWN;
	}
	waiter *w = wp;
	struct io_cancel_rec rec = {.token = NULL};
	if (cancellable && !io_cancel_enter_token(&rec, ctx_self()->io_cancel, w, io, true, ud)) {
		io_uring_prep_nop(sqe); /* the context's cancel token was triggered: not sent */
		io_uring_sqe_set_data64(sqe, IGNORE_TAG);
		return -ECANCELED;
	}
	w->firm = true; /* the kernel holds ud until the CQE: shutdown cancels the request */
	io_uring_sqe_set_data64(sqe, ud);
	struct __kernel_timespec ts;
	if (deadline_ns != DEADLINE_NONE) {
		sqe->flags |= IOSQE_IO_LINK;
		uint64_t now = time_now_ns();
		uint64_t rel = deadline_ns > now ? deadline_ns - now : 0;
		ts.tv_sec = (long long)(rel / 1000000000u);
		ts.tv_nsec = (long long)(rel % 1000000000u);
		struct io_uring_sqe *t = uring_sqe(io);
		io_uring_prep_link_timeout(t, &ts, 0);
		io_uring_sqe_set_data64(t, IGNORE_TAG);
	}
	/* Not submitted here: the worker's next uring_poll submits every queued SQE and
	 * reaps in one io_uring_enter (it polls at least every few fibers, and at once when
	 * it runs out of them). ts and the request's buffers stay valid until then: they
	 * live on this fiber's stack, parked until the CQE. */
	fiber_wait_on(WAIT_IO, (const void *)(intptr_t)sqe->fd);
	waiter_wait(w, DEADLINE_NONE); /* the linked timeout bounds it */
	io_cancel_leave(&rec);
	/* Cancelled: by shutdown, by the context's cancel token, by its linked timeout, or
	 * by rf_io_close of its fd. */
	if (w->result == -ECANCELED && rec.token && io_cancel_triggered())
		return -ECANCELED;
	if (w->result == -ECANCELED && sched_cancelling())
		return RF_ESHUTDOWN;
	if (w->result == -ECANCELED)
		return deadline_ns != DEADLINE_NONE ? -ETIMEDOUT : -EBADF;
	return w->result;
}

/* Handle every CQE in the ring; returns the I/O completions among them and sets *woke
 * if a wake-up was among them. */
static int reap(io_poller *io, bool *woke)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int handled = 0;
	bool rearm = false;
	io_uring_for_each_cqe(&io->ring, head, cqe)
	{
		seen++;
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		if (tag == WAKE_TAG) {
			rearm = true;
			*woke = true;
		} else if (tag == MSG_WAKE_TAG) {
			*woke = true;
		} else if (tag > MSG_SENT_TAG && (tag & 1u)) {
			struct uring_handler *h =
			    (struct uring_handler *)(uintptr_t)(tag & ~(uint64_t)1);
			handled += h->cqe(h, cqe);
		} else if (tag > MSG_SENT_TAG) {
			waiter *w = (waiter *)(uintptr_t)tag;
			/* Nothing else claims w (the fiber waits without deadline): claim wins. */
			if (waiter_claim(w)) {
				w->result = cqe->res;
				waiter_complete(w);
			}
			handled++;
		}
	}
	io_uring_cq_advance(&io->ring, seen);
	if (rearm)
		arm_wake(io); /* queued: the next submission or wait (uring_poll) sends it */
	return handled;
}

int uring_poll(io_poller *io, uint64_t deadline_ns)
{
	RF_ASSERT(io_self() == io); /* owner only */
	bool woke = false;
	int n = reap(io, &woke);
	if (n > 0 || woke || deadline_ns == 0) {
		(void)io_uring_submit_and_get_events(&io->ring);
		return n + reap(io, &woke);
	}
	struct io_uring_cqe *cqe;
	int rc;
	do {
		if (deadline_ns == DEADLINE_NONE) {
			rc = io_uring_submit_and_wait(&io->ring, 1);
			continue;
		}
		uint64_t now = time_now_ns();
		if (deadline_ns <= now) {
			rc = io_uring_submit_and_get_events(&io->ring);
			break;
		}
		uint64_t rel = deadline_ns - now;
		struct __kernel_timespec ts = {.tv_sec = (long long)(rel / 1000000000u),
		                               .tv_nsec = (long long)(rel % 1000000000u)};
		rc = io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, &ts, NULL);
	} while (rc == -EINTR); /* a signal: sleep on (-ETIME: the deadline passed) */
	return reap(io, &woke);
}

/* ---- SEND_ZC: a result CQE (IORING_CQE_F_MORE: a notification follows), then a
 * notification CQE (IORING_CQE_F_NOTIF) once the kernel no longer reads the buffer. The
 * fiber resumes only then, so the caller may reuse the buffer when the call returns. */

struct zc_req {
	struct uring_handler h; /* first: the handler is the request */
	waiter w;
	int res;
};

static int zc_cqe(struct uring_handler *h, const struct io_uring_cqe *cqe)
{
	struct zc_req *z = (struct zc_req *)h;
	if (!(cqe->flags & IORING_CQE_F_NOTIF)) {
		z->res = cqe->res;
		if (cqe->flags & IORING_CQE_F_MORE)
			return 0;
	}
	if (!waiter_claim(&z->w))
		return 0;
	z->w.result = z->res;
	waiter_complete(&z->w);
	return 1;
}

static _Atomic size_t zc_min = ZC_MIN_DEFAULT;

void io_set_zc_min(size_t bytes)
{
	atomic_store_explicit(&zc_min, bytes, memory_order_relaxed);
}

size_t uring_zc_min(void)
{
	return atomic_load_explicit(&zc_min, memory_order_relaxed);
}

int uring_send_zc(io_poller *io, int fd, const void *buf, size_t len, int flags,
                  uint64_t deadline_ns)
{
	struct zc_req z = {.h.cqe = zc_cqe};
	waiter_init(&z.w);
	struct io_uring_sqe *sqe = uring_sqe(io);
	io_uring_prep_send_zc(sqe, fd, buf, len > 0x7ffff000u ? 0x7ffff000u : (unsigned)len,
	                      flags | MSG_NOSIGNAL, 0);
	return uring_wait_as(io, sqe, deadline_ns, true, &z.w, uring_handler_ud(&z.h));
}

/* ---- cancelling a handler's request from any thread ---- */

struct ud_cancel {
	uint64_t ud;
	bool (*still)(void *arg, io_poller *io);
	void (*done)(void *arg);
	void *arg;
};

static void ud_canceller(void *p)
{
	struct ud_cancel *c = p;
	io_poller *io = io_self();
	if (io && io->kind == RF_IO_URING && c->still(c->arg, io)) {
		uring_cancel_addr(io, c->ud);
		(void)io_uring_submit(&io->ring);
	}
	c->done(c->arg);
	free(c);
}

int uring_cancel_ud(io_poller *io, uint64_t ud, bool (*still)(void *arg, io_poller *io),
                    void (*done)(void *arg), void *arg)
{
	if (fiber_self() && io_self() == io) {
		if (still(arg, io))
			uring_cancel_addr(io, ud); /* queued: the worker's next poll submits it */
		done(arg);
		return 0;
	}
	struct ud_cancel *c = malloc(sizeof(*c));
	if (!c) {
		done(arg);
		return -ENOMEM;
	}
	*c = (struct ud_cancel){.ud = ud, .still = still, .done = done, .arg = arg};
	sched_spawn how = {.worker = io->worker, .node = -1, .pinned = true};
	int rc = fiber_spawn_at(ud_canceller, c, &how, NULL);
	if (rc < 0) {
		free(c);
		done(arg);
	}
	return rc;
}
