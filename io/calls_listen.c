/* io/calls_listen.c: listeners (rf_io_listener of ringfold/io.h): connections accepted
 * ahead of the fibers that take them, one at a time.
 *
 * io_uring: one accept request is armed on the ring of the worker whose fiber found the
 * queue empty: multishot (one SQE, a CQE per connection, IORING_CQE_F_MORE while it
 * goes on) where the kernel has it, else one-shot. Its CQEs run ls_cqe on that worker,
 * which queues the connection and wakes one waiting fiber (on any worker). A CQE without
 * F_MORE ends the request (the kernel's own end, a cancel, an error): the next fiber that
 * finds the queue empty arms a new one. When `bound` connections are queued the request
 * is cancelled, so the kernel's backlog holds the rest; the CQEs already on their way
 * are still queued (bound is exceeded by at most those).
 * epoll: no queue; a fiber calls accept4 on the (non-blocking) socket and waits on its
 * worker's epoll set, where the socket stays registered. Plain threads: accept4 and
 * poll(2), in slices of CLOSE_CHECK_MS so that a close is seen.
 * rf_io_listener_close wakes every waiting fiber with -EBADF: io_uring waiters are on
 * `waiters`, epoll waiters are ended by close_tok (ep_wait_fd_also).
 *
 * Lock: `lock` (rank IO_LISTEN, a leaf: nothing is allocated, closed or completed under
 * it) guards the queue, err, waiters, armed, stopping and armed_io. `closed` is also read
 * without it (acquire; the release exchange in close pairs).
 * refs: the handle, an armed request (dropped by its last CQE), each call in progress
 * (close included) and a remote canceller; the last drop frees the listener (the kernel
 * holds its address while a request is armed). A close's effect is seen (`closed`, a
 * taker woken with -EBADF) before the close is done with the listener, and whoever sees
 * it may drop the handle: the close's own reference, taken before `closed` is set, keeps
 * the listener until it returns.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "ringfold/io.h"
#include "runtime/sched/sched.h"

#define CLOSE_CHECK_MS 100
#define BOUND_MAX 65536

struct ls_conn {
	int fd;
	struct ls_conn *next;
};

struct rf_io_listener {
	struct uring_handler h; /* first: the armed request's user_data */
	spinlock lock;
	int fd, flags;
	size_t bound;
	_Atomic int refs;
	struct ls_conn *head, *tail; /* lock: accepted, not yet taken */
	size_t n;                    /* lock */
	int err;                     /* lock: the request's error, for the next taker */
	waitlist waiters;            /* lock: io_uring fibers waiting for a connection */
	bool armed;                  /* lock: a request is in flight on armed_io */
	bool stopping;               /* lock: its cancellation was asked for */
	io_poller *armed_io;         /* lock */
	_Atomic bool closed;
	rf_io_cancel *close_tok; /* triggered by close: ends the epoll waits */
};

static void ls_unref(rf_io_listener *l)
{
	if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (struct ls_conn *c = l->head, *next; c; c = next) {
		next = c->next;
		close(c->fd);
		free(c);
	}
	io_cancel_unref(l->close_tok);
	free(l);
}

static void ls_ref(rf_io_listener *l)
{
	atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
}

static bool is_closed(rf_io_listener *l)
{
	return atomic_load_explicit(&l->closed, memory_order_acquire);
}

/* Lock held: take the oldest queued connection off (the caller frees the node after
 * unlocking), or NULL. */
static struct ls_conn *pop(rf_io_listener *l)
{
	struct ls_conn *c = l->head;
	if (!c)
		return NULL;
	l->head = c->next;
	if (!l->head)
		l->tail = NULL;
	l->n--;
	return c;
}

/* A popped node's descriptor (the node freed). */
static int take_fd(struct ls_conn *c)
{
	int fd = c->fd;
	free(c);
	return fd;
}

/* The armed request's CQE, on armed_io's owner thread. */
static int ls_cqe(struct uring_handler *h, const struct io_uring_cqe *cqe)
{
	rf_io_listener *l = (rf_io_listener *)h;
	bool more = cqe->flags & IORING_CQE_F_MORE;
	struct ls_conn *c = NULL;
	int stray = -1;
	if (cqe->res >= 0) {
		c = malloc(sizeof(*c));
		if (c)
			*c = (struct ls_conn){.fd = cqe->res};
		else
			stray = cqe->res; /* no memory to queue it: the peer sees a reset */
	}
	bool cancel = false;
	spin_lock(&l->lock);
	if (c && is_closed(l)) {
		stray = c->fd;
	} else if (c) {
		if (l->tail)
			l->tail->next = c;
		else
			l->head = c;
		l->tail = c;
		l->n++;
		c = NULL;
	} else if (cqe->res == -EINVAL && !more && uring_feature(URF_MS_ACCEPT)) {
		/* A listening socket (checked at _new) refusing multishot: an older kernel.
		 * The next taker arms one-shot requests instead. */
		uring_feature_lost(URF_MS_ACCEPT);
	} else if (cqe->res < 0 && cqe->res != -ECANCELED) {
		l->err = cqe->res; /* -EMFILE, -EBADF (fd closed), ...: the next taker's */
	}
	if (!more) {
		l->armed = false;
		l->stopping = false;
	} else if (l->n >= l->bound && !l->stopping) {
		l->stopping = true;
		cancel = true;
	}
	/* A connection to take, an error to report, or no request left to wait on: one
	 * waiter goes (it re-arms if needed). */
	waiter *w = l->n || l->err || !l->armed ? waitlist_claim_one(&l->waiters) : NULL;
	spin_unlock(&l->lock);
	free(c);
	if (stray >= 0)
		close(stray);
	if (cancel)
		uring_cancel_addr(io_self(), uring_handler_ud(h));
	if (w) {
		w->result = 0;
		waiter_complete(w);
	}
	if (!more)
		ls_unref(l); /* the kernel is done with the address */
	return w != NULL;
}

int rf_io_listener_new(int fd, int flags, size_t backlog, rf_io_listener **out)
{
	if (!out || (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) || backlog == 0 ||
	    backlog > BOUND_MAX)
		return -EINVAL;
	int listening = 0;
	socklen_t len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -errno;
	if (!listening)
		return -EINVAL;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -errno;
	rf_io_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc = io_cancel_new(&l->close_tok);
	if (rc < 0) {
		free(l);
		return rc;
	}
	l->h.cqe = ls_cqe;
	l->h.multishot = true;
	spin_init(&l->lock, LOCKRANK_IO_LISTEN);
	waitlist_init(&l->waiters);
	l->fd = fd;
	l->flags = flags;
	l->bound = backlog;
	atomic_init(&l->refs, 1);
	*out = l;
	return 0;
}

/* A wake-up meant for a taker reached a fiber that leaves: wake another. */
static void pass_on(rf_io_listener *l)
{
	spin_lock(&l->lock);
	waiter *w = l->n || l->err || !l->armed ? waitlist_claim_one(&l->waiters) : NULL;
	spin_unlock(&l->lock);
	if (w) {
		w->result = 0;
		waiter_complete(w);
	}
}

static int uring_accept(rf_io_listener *l, io_poller *io, uint64_t deadline)
{
	for (;;) {
		waiter w;
		waiter_init(&w);
		bool arm = false;
		spin_lock(&l->lock);
		struct ls_conn *c = is_closed(l) ? NULL : pop(l);
		int err = is_closed(l) ? -EBADF : c ? 0 : l->err;
		if (!c)
			l->err = 0;
		if (c || err) {
			spin_unlock(&l->lock);
			return c ? take_fd(c) : err;
		}
		if (!l->armed) {
			l->armed = arm = true;
			l->armed_io = io;
			ls_ref(l); /* the kernel's, until the request's last CQE */
		}
		waitlist_add(&l->waiters, &w);
		spin_unlock(&l->lock);
		if (arm) {
			/* Queued: the worker submits it with its next poll, at the latest when this
			 * fiber parks; its CQEs cannot run before then. */
			struct io_uring_sqe *sqe = uring_sqe(io);
			if (uring_feature(URF_MS_ACCEPT))
				io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, l->flags);
			else
				io_uring_prep_accept(sqe, l->fd, NULL, NULL, l->flags);
			io_uring_sqe_set_data64(sqe, uring_handler_ud(&l->h));
			io->handlers++;
		}
		struct io_cancel_rec rec;
		int rc;
		if (io_cancel_enter(&rec, &w, io, false)) {
			fiber_wait_on(WAIT_IO, (const void *)(intptr_t)l->fd);
			rc = waitlist_wait(&l->waiters, &l->lock, &w, deadline);
			io_cancel_leave(&rec);
			if (rc == 0 && w.result < 0) {
				/* The context's token completed it: still listed. */
				spin_lock(&l->lock);
				if (waitlist_has(&l->waiters, &w))
					waitlist_unlink(&l->waiters, &w);
				spin_unlock(&l->lock);
			}
		} else {
			spin_lock(&l->lock);
			bool listed = waitlist_has(&l->waiters, &w);
			if (listed)
				waitlist_unlink(&l->waiters, &w);
			spin_unlock(&l->lock);
			if (!listed) { /* claimed meanwhile: its completion is on its way */
				(void)waiter_wait(&w, DEADLINE_NONE);
				if (w.result == 0)
					pass_on(l); /* the wake-up was for a taker: another one */
			}
			return -ECANCELED;
		}
		if (rc < 0)
			return rc;
		if (w.result < 0) /* -EBADF (closed), -ECANCELED (the context's token) */
			return w.result;
	}
}

static int epoll_accept(rf_io_listener *l, io_poller *io, uint64_t deadline)
{
	for (;;) {
		if (is_closed(l))
			return -EBADF;
		int fd = -1;
		if (!ep_unready(io, l->fd, EPOLLIN)) {
			fd = accept4(l->fd, NULL, NULL, l->flags);
			if (fd >= 0)
				return fd;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				return -errno;
		}
		int rc = ep_wait_fd_also(io, l->fd, EPOLLIN, deadline, l->close_tok);
		if (rc == -ECANCELED && is_closed(l))
			return -EBADF;
		if (rc < 0)
			return rc;
	}
}

static int thread_accept(rf_io_listener *l, uint64_t deadline)
{
	for (;;) {
		if (is_closed(l))
			return -EBADF;
		spin_lock(&l->lock); /* what a fiber's request queued before the thread came */
		struct ls_conn *c = pop(l);
		spin_unlock(&l->lock);
		if (c)
			return take_fd(c);
		int fd = accept4(l->fd, NULL, NULL, l->flags);
		if (fd >= 0)
			return fd;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN)
			return -errno;
		uint64_t now = time_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t left = (deadline - now + 999999) / 1000000;
		struct pollfd p = {.fd = l->fd, .events = POLLIN};
		(void)poll(&p, 1, left < CLOSE_CHECK_MS ? (int)left : CLOSE_CHECK_MS);
	}
}

int rf_io_listener_accept_timeout(rf_io_listener *l, int64_t timeout_ms)
{
	if (!l)
		return -EINVAL;
	uint64_t deadline;
	int rc = io_call_deadline(timeout_ms, &deadline);
	if (rc < 0)
		return rc;
	ls_ref(l);
	io_poller *io = fiber_self() ? io_self() : NULL;
	if (!io)
		rc = thread_accept(l, deadline);
	else if (io->kind == RF_IO_URING)
		rc = uring_accept(l, io, deadline);
	else
		rc = epoll_accept(l, io, deadline);
	ls_unref(l);
	return rc;
}

int rf_io_listener_accept(rf_io_listener *l)
{
	return rf_io_listener_accept_timeout(l, INT64_MAX);
}

/* Whether the request is still armed on io (the canceller's check, on io's owner). */
static bool ls_still(void *arg, io_poller *io)
{
	rf_io_listener *l = arg;
	spin_lock(&l->lock);
	bool r = l->armed && l->armed_io == io;
	spin_unlock(&l->lock);
	return r;
}

static void ls_done(void *arg)
{
	ls_unref(arg);
}

int rf_io_listener_close(rf_io_listener *l)
{
	if (!l)
		return -EINVAL;
	ls_ref(l); /* the caller's handle is alive until `closed` is seen */
	if (atomic_exchange_explicit(&l->closed, true, memory_order_acq_rel)) {
		ls_unref(l);
		return 0;
	}
	spin_lock(&l->lock);
	waiter *chain = waitlist_claim_all(&l->waiters);
	struct ls_conn *conns = l->head;
	l->head = l->tail = NULL;
	l->n = 0;
	bool cancel = l->armed && !l->stopping;
	io_poller *io = l->armed_io;
	if (cancel) {
		l->stopping = true;
		ls_ref(l); /* the canceller's */
	}
	spin_unlock(&l->lock);
	waitlist_complete_chain(chain, -EBADF, RF_NIL);
	for (struct ls_conn *c = conns, *next; c; c = next) {
		next = c->next;
		close(c->fd);
		free(c);
	}
	int rc = io_cancel_trigger(l->close_tok);
	if (cancel) {
		int e = uring_cancel_ud(io, uring_handler_ud(&l->h), ls_still, ls_done, l);
		rc = rc ? rc : e;
	}
	ls_unref(l);
	return rc == RF_ESHUTDOWN ? 0 : rc; /* at shutdown the ring's exit ends the request */
}

void rf_io_listener_free(rf_io_listener *l)
{
	if (!l)
		return;
	(void)rf_io_listener_close(l);
	ls_unref(l);
}
