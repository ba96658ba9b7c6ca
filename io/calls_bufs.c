/* io/calls_bufs.c: buffer pools and readers (rf_io_bufpool, rf_io_reader of
 * ringfold/io.h): receiving into a buffer the kernel picks when data arrives, so that an
 * idle connection holds none.
 *
 * Pool: `count` buffers of `size` bytes per share, one share per executor worker and one
 * for plain threads, each made at its first use. An io_uring worker's share is a
 * provided buffer ring registered with that worker's ring (group bgid): the kernel takes
 * buffers from it and rf_io_buf_return adds them back. Any other share (epoll, plain
 * threads, a kernel without buffer rings) is a stack of free buffer ids. A buffer the
 * pool cannot give (its share empty) is a "spill": a heap buffer of the same size, freed
 * when returned.
 *
 * Reader, io_uring: one multishot recv (IOSQE_BUFFER_SELECT from the worker's share) is
 * armed by the fiber that finds the queue empty; each CQE (rd_cqe, on that worker) queues
 * (result, buffer) and wakes the waiting fiber. A CQE without IORING_CQE_F_MORE ends the
 * request: -ENOBUFS (the share was empty: the data waits in the socket, so the fiber
 * receives it into a spill), 0 (end of stream), an error, or a cancel; the next call
 * that finds the queue empty arms a new one. Data is never received outside the armed
 * request while one is in flight, so it stays in order.
 * Reader, elsewhere: wait until readable (the worker's epoll set, a poll SQE, poll(2)),
 * then recv(MSG_DONTWAIT) into a buffer of the caller's share; on EAGAIN the buffer goes
 * back before waiting again.
 *
 * Locks (leaves, never nested): a share's `lock` (IO_BUFS) guards its free stack or the
 * tail of its buffer ring (the kernel only reads it); a reader's `lock` (IO_READER)
 * guards its queue, w, armed, stopping, armed_io, armed_share, freed, err.
 * refs: a pool's are its handle, each buffer out of it (queued or held by the caller),
 * each reader and each armed request; a reader's are its handle, its armed request and a
 * remote canceller. The last drop frees. A buffer ring stays registered with its ring
 * until the ring exits unless the pool's last drop runs on that ring's worker; no
 * request can select from it by then, since none is armed.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "ringfold/io.h"
#include "runtime/sched/sched.h"

#define SIZE_MAX_BUF (1u << 24)
#define COUNT_MAX 32768u

struct bp_share {
	spinlock lock;
	struct rf_io_bufpool *pool;
	char *mem;                    /* count * size bytes */
	struct io_uring_buf_ring *br; /* the kernel's ring (lock: its tail), or NULL */
	size_t br_bytes;
	unsigned entries; /* of br: count rounded up to a power of two */
	io_poller *io;    /* the ring it is registered with */
	uint32_t *stack;  /* lock: free ids (no br) */
	unsigned nfree;   /* lock */
};

struct rf_io_bufpool {
	size_t size;
	unsigned count;
	uint16_t bgid;
	_Atomic int refs;
	int nshares;
	_Atomic(struct bp_share *) *shares;
};

static _Atomic uint16_t next_bgid;

static void pool_ref(rf_io_bufpool *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

static void share_destroy(struct bp_share *s)
{
	if (s->br) {
		rf_io_bufpool *p = s->pool;
		if (fiber_self() && io_self() == s->io)
			(void)io_uring_unregister_buf_ring(&s->io->ring, p->bgid);
		munmap(s->br, s->br_bytes);
	}
	free(s->stack);
	free(s->mem);
	free(s);
}

static void pool_unref(rf_io_bufpool *p)
{
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (int i = 0; i < p->nshares; i++) {
		struct bp_share *s = atomic_load_explicit(&p->shares[i], memory_order_acquire);
		if (s)
			share_destroy(s);
	}
	free(p->shares);
	free(p);
}

/* A buffer ring for `io` holding every buffer of s. 0 or -errno. Owner of io only. */
static int share_ring(struct bp_share *s, io_poller *io)
{
	rf_io_bufpool *p = s->pool;
	unsigned entries = 1;
	while (entries < p->count)
		entries <<= 1;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = (entries * sizeof(struct io_uring_buf) + page - 1) / page * page;
	void *ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring == MAP_FAILED)
		return -errno;
	struct io_uring_buf_reg reg = {
	    .ring_addr = (uintptr_t)ring, .ring_entries = entries, .bgid = p->bgid};
	int rc = io_uring_register_buf_ring(&io->ring, &reg, 0);
	if (rc < 0) {
		munmap(ring, bytes);
		if (rc == -EINVAL)
			uring_feature_lost(URF_BUF_RING); /* a kernel without buffer rings */
		return rc;
	}
	s->br = ring;
	s->br_bytes = bytes;
	s->entries = entries;
	s->io = io;
	io_uring_buf_ring_init(s->br);
	int mask = io_uring_buf_ring_mask(entries);
	for (unsigned i = 0; i < p->count; i++)
		io_uring_buf_ring_add(s->br, s->mem + (size_t)i * p->size, (unsigned)p->size,
		                      (unsigned short)i, mask, (int)i);
	io_uring_buf_ring_advance(s->br, (int)p->count);
	return 0;
}

/* The caller's share (made at its first use), or NULL (no memory). */
static struct bp_share *share_get(rf_io_bufpool *p, io_poller *io)
{
	int i = io && io->worker >= 0 && io->worker < p->nshares - 1 ? io->worker : p->nshares - 1;
	struct bp_share *s = atomic_load_explicit(&p->shares[i], memory_order_acquire);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	spin_init(&s->lock, LOCKRANK_IO_BUFS);
	s->pool = p;
	s->mem = malloc(p->count * p->size);
	if (!s->mem) {
		free(s);
		return NULL;
	}
	/* Only the worker's own fibers make its share: the registration is the owner's. */
	bool ring = io && i == io->worker && io->kind == RF_IO_URING && uring_feature(URF_BUF_RING);
	if (!ring || share_ring(s, io) < 0) {
		s->stack = malloc(p->count * sizeof(*s->stack));
		if (!s->stack) {
			share_destroy(s);
			return NULL;
		}
		for (unsigned k = 0; k < p->count; k++)
			s->stack[k] = p->count - 1 - k;
		s->nfree = p->count;
	}
	struct bp_share *prev = NULL;
	/* Release: the share's contents before its pointer; pairs with the acquire above. */
	if (!atomic_compare_exchange_strong_explicit(&p->shares[i], &prev, s, memory_order_acq_rel,
	                                             memory_order_acquire)) {
		share_destroy(s); /* two plain threads at once: keep the first */
		return prev;
	}
	return s;
}

int rf_io_bufpool_new(size_t buf_size, unsigned count, rf_io_bufpool **out)
{
	if (!out || buf_size == 0 || buf_size > SIZE_MAX_BUF || count == 0 || count > COUNT_MAX)
		return -EINVAL;
	int n = sched_workers();
	if (n < 0)
		return n;
	rf_io_bufpool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nshares = n + 1;
	p->shares = calloc((size_t)p->nshares, sizeof(*p->shares));
	if (!p->shares) {
		free(p);
		return -ENOMEM;
	}
	p->size = buf_size;
	p->count = count;
	p->bgid = atomic_fetch_add_explicit(&next_bgid, 1, memory_order_relaxed);
	atomic_init(&p->refs, 1);
	*out = p;
	return 0;
}

void rf_io_bufpool_free(rf_io_bufpool *p)
{
	if (p)
		pool_unref(p);
}

/* Fill *out with buffer id of share s holding n bytes; the pool gains a reference. */
static void buf_fill(rf_io_buf *out, struct bp_share *s, uint32_t id, size_t n)
{
	pool_ref(s->pool);
	*out = (rf_io_buf){.data = s->mem + (size_t)id * s->pool->size,
	                   .len = n,
	                   .pool_ = s->pool,
	                   .share_ = s,
	                   .id_ = id};
}

/* Give buffer id back to its share. */
static void share_put(struct bp_share *s, uint32_t id)
{
	spin_lock(&s->lock);
	if (s->br) {
		io_uring_buf_ring_add(s->br, s->mem + (size_t)id * s->pool->size,
		                      (unsigned)s->pool->size, (unsigned short)id,
		                      io_uring_buf_ring_mask(s->entries), 0);
		io_uring_buf_ring_advance(s->br, 1); /* release store of the tail */
	} else {
		s->stack[s->nfree++] = id;
	}
	spin_unlock(&s->lock);
}

int rf_io_buf_return(rf_io_buf *b)
{
	if (!b || !b->data || !b->pool_)
		return -EINVAL;
	rf_io_bufpool *p = b->pool_;
	if (b->share_)
		share_put(b->share_, b->id_);
	else
		free(b->data); /* a spill */
	b->data = NULL;
	b->pool_ = NULL;
	pool_unref(p);
	return 0;
}

/* A buffer for a plain recv: one of s's, else a spill. false: no memory. */
static bool take_buf(rf_io_bufpool *p, struct bp_share *s, rf_io_buf *out)
{
	if (s && !s->br) {
		spin_lock(&s->lock);
		bool got = s->nfree > 0;
		uint32_t id = got ? s->stack[--s->nfree] : 0;
		spin_unlock(&s->lock);
		if (got) {
			buf_fill(out, s, id, 0);
			return true;
		}
	}
	void *m = malloc(p->size);
	if (!m)
		return false;
	pool_ref(p);
	*out = (rf_io_buf){.data = m, .pool_ = p};
	return true;
}

/* ---- readers ---- */

struct rd_ent {
	int res;
	uint32_t bid;           /* with res > 0 */
	struct bp_share *share; /* with res > 0 */
};

struct rf_io_reader {
	struct uring_handler h; /* first: the armed request's user_data */
	spinlock lock;
	int fd;
	rf_io_bufpool *pool;
	_Atomic int refs;
	_Atomic bool busy; /* a call is in progress */
	struct rd_ent *q;  /* lock: a ring of qcap entries from qhead */
	unsigned qhead, qlen, qcap;
	waiter *w;                    /* lock: the waiting fiber */
	bool armed, stopping;         /* lock: a request is in flight on armed_io; cancel asked */
	io_poller *armed_io;          /* lock */
	struct bp_share *armed_share; /* lock */
	bool freed;                   /* lock */
	int err;                      /* lock: data lost (no memory to queue it), for the taker */
};

static void rd_unref(rf_io_reader *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(r->q);
	pool_unref(r->pool);
	free(r);
}

/* Lock held, room made: append e. */
static void q_push(rf_io_reader *r, struct rd_ent e)
{
	r->q[(r->qhead + r->qlen++) % r->qcap] = e;
}

static struct rd_ent q_pop(rf_io_reader *r)
{
	struct rd_ent e = r->q[r->qhead];
	r->qhead = (r->qhead + 1) % r->qcap;
	r->qlen--;
	return e;
}

/* Make room in the queue for one more entry, grown outside the lock (only rd_cqe, on one
 * thread at a time, adds; takers only shrink it meanwhile), and read the armed share.
 * false: the reader was freed, or no memory. */
static bool q_room(rf_io_reader *r, struct bp_share **share)
{
	spin_lock(&r->lock);
	*share = r->armed_share;
	bool freed = r->freed, full = r->qlen == r->qcap;
	unsigned cap = r->qcap;
	spin_unlock(&r->lock);
	if (freed)
		return false;
	if (!full)
		return true;
	struct rd_ent *nq = malloc(2 * cap * sizeof(*nq)), *old;
	if (!nq)
		return false;
	spin_lock(&r->lock);
	for (unsigned i = 0; i < r->qlen; i++)
		nq[i] = r->q[(r->qhead + i) % r->qcap];
	old = r->q;
	r->q = nq;
	r->qhead = 0;
	r->qcap = 2 * cap;
	spin_unlock(&r->lock);
	free(old);
	return true;
}

/* The armed request's CQE, on armed_io's owner thread. */
static int rd_cqe(struct uring_handler *h, const struct io_uring_cqe *cqe)
{
	rf_io_reader *r = (rf_io_reader *)h;
	bool more = cqe->flags & IORING_CQE_F_MORE;
	struct rd_ent e = {.res = cqe->res};
	struct bp_share *s;
	bool room = q_room(r, &s);
	bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
	if (has_buf) {
		e.bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		e.share = s;
		if (e.res <= 0) { /* no data in it after all */
			share_put(s, e.bid);
			has_buf = false;
		} else {
			pool_ref(r->pool); /* a buffer out of the pool, until returned */
		}
	}
	if (e.res == -EINVAL && !more && uring_feature(URF_BUF_RING))
		uring_feature_lost(URF_BUF_RING); /* no multishot recv here: plain recvs from now */
	spin_lock(&r->lock);
	bool keep = room && !r->freed;
	if (keep)
		q_push(r, e);
	else if (!r->freed)
		r->err =
		    -ENOMEM; /* the data is lost: the taker hears so once the queue is drained */
	if (!more) {
		r->armed = false;
		r->stopping = false;
	}
	waiter *w = r->w && waiter_claim(r->w) ? r->w : NULL;
	if (w)
		r->w = NULL;
	spin_unlock(&r->lock);
	if (has_buf && !keep) {
		share_put(s, e.bid);
		pool_unref(r->pool);
	}
	if (w) {
		w->result = 0;
		waiter_complete(w);
	}
	if (!more) {
		pool_unref(r->pool); /* the request's */
		rd_unref(r);
	}
	return w != NULL;
}

int rf_io_reader_new(int fd, rf_io_bufpool *pool, rf_io_reader **out)
{
	if (!out || !pool || fd < 0)
		return -EINVAL;
	rf_io_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->qcap = 4;
	r->q = malloc(r->qcap * sizeof(*r->q));
	if (!r->q) {
		free(r);
		return -ENOMEM;
	}
	r->h.cqe = rd_cqe;
	r->h.multishot = true;
	spin_init(&r->lock, LOCKRANK_IO_READER);
	r->fd = fd;
	r->pool = pool;
	pool_ref(pool);
	atomic_init(&r->refs, 1);
	*out = r;
	return 0;
}

/* One recv(MSG_DONTWAIT) into a buffer of the caller's share (or a spill). */
static ssize_t recv_once(rf_io_reader *r, io_poller *io, rf_io_buf *out)
{
	struct bp_share *s = share_get(r->pool, io);
	rf_io_buf b;
	if (!take_buf(r->pool, s, &b))
		return -ENOMEM;
	ssize_t n;
	do
		n = recv(r->fd, b.data, r->pool->size, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		int err = n < 0 ? -errno : 0;
		(void)rf_io_buf_return(&b);
		return err;
	}
	if ((size_t)n < r->pool->size && io && io->kind == RF_IO_EPOLL)
		ep_short_read(io, r->fd);
	b.len = (size_t)n;
	*out = b;
	return n;
}

/* Elsewhere than a buffer ring: readiness, then recv_once. */
static ssize_t plain_recv(rf_io_reader *r, io_poller *io, uint64_t deadline, rf_io_buf *out)
{
	for (;;) {
		if (!io || io->kind != RF_IO_EPOLL || !ep_unready(io, r->fd, EPOLLIN)) {
			ssize_t n = recv_once(r, io, out);
			if (n != -EAGAIN)
				return n;
		}
		int rc = io_wait_fd(r->fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

static ssize_t ring_recv(rf_io_reader *r, io_poller *io, struct bp_share *s, uint64_t deadline,
                         rf_io_buf *out)
{
	for (;;) {
		waiter w;
		waiter_init(&w);
		bool arm = false;
		spin_lock(&r->lock);
		if (!r->qlen && r->err) {
			int err = r->err;
			r->err = 0;
			spin_unlock(&r->lock);
			return err;
		}
		if (r->qlen) {
			struct rd_ent e = q_pop(r);
			spin_unlock(&r->lock);
			if (e.res > 0) {
				*out = (rf_io_buf){.data =
				                       e.share->mem + (size_t)e.bid * r->pool->size,
				                   .len = (size_t)e.res,
				                   .pool_ = r->pool,
				                   .share_ = e.share,
				                   .id_ = e.bid};
				return e.res;
			}
			if (e.res == -ENOBUFS) {
				/* The pool ran dry and the request ended: the data waits in the
				 * socket. Take it into a spill; the next call arms again. */
				ssize_t n = recv_once(r, NULL, out);
				if (n != -EAGAIN)
					return n;
				continue;
			}
			if (e.res == -ECANCELED || e.res == -EINVAL)
				continue; /* ended by a cancel (close of the fd), or not supported
				           */
			return e.res;     /* 0: end of stream; or the error */
		}
		if (!r->armed) {
			if (time_now_ns() >= deadline) {
				/* One try: nothing in flight can reorder the data. */
				spin_unlock(&r->lock);
				ssize_t n = recv_once(r, NULL, out);
				return n == -EAGAIN ? -ETIMEDOUT : n;
			}
			if (!s || !s->br || !uring_feature(URF_BUF_RING)) {
				spin_unlock(&r->lock);
				return plain_recv(r, io, deadline, out);
			}
			r->armed = arm = true;
			r->armed_io = io;
			r->armed_share = s;
			atomic_fetch_add_explicit(&r->refs, 1,
			                          memory_order_relaxed); /* the kernel's */
			pool_ref(r->pool);
		}
		r->w = &w;
		spin_unlock(&r->lock);
		if (arm) {
			/* Queued: submitted with the worker's next poll, at the latest when this
			 * fiber parks; its CQEs cannot run before then. */
			struct io_uring_sqe *sqe = uring_sqe(io);
			io_uring_prep_recv_multishot(sqe, r->fd, NULL, 0, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = r->pool->bgid;
			io_uring_sqe_set_data64(sqe, uring_handler_ud(&r->h));
			io->handlers++;
		}
		struct io_cancel_rec rec;
		int rc = -ECANCELED;
		if (io_cancel_enter(&rec, &w, io, false)) {
			fiber_wait_on(WAIT_IO, (const void *)(intptr_t)r->fd);
			rc = waiter_wait(&w, deadline);
			io_cancel_leave(&rec);
		}
		spin_lock(&r->lock);
		bool mine = r->w == &w; /* not claimed by rd_cqe */
		if (mine)
			r->w = NULL;
		spin_unlock(&r->lock);
		if (rc == -ECANCELED && !mine)
			(void)waiter_wait(&w, DEADLINE_NONE); /* rd_cqe claimed it: let it finish */
		if (rc < 0)
			return rc;
		if (w.result < 0)
			return w.result; /* -ECANCELED by the context's token */
	}
}

ssize_t rf_io_reader_recv_timeout(rf_io_reader *r, int64_t timeout_ms, rf_io_buf *out)
{
	if (!r || !out)
		return -EINVAL;
	uint64_t deadline;
	int rc = io_call_deadline(timeout_ms, &deadline);
	if (rc < 0)
		return rc;
	if (atomic_exchange_explicit(&r->busy, true, memory_order_acquire))
		return -EBUSY;
	io_poller *io = fiber_self() ? io_self() : NULL;
	ssize_t n;
	struct bp_share *s = io && io->kind == RF_IO_URING ? share_get(r->pool, io) : NULL;
	spin_lock(&r->lock);
	bool queued = r->qlen || r->armed; /* what a request got or gets goes first */
	spin_unlock(&r->lock);
	if ((s && s->br) || queued)
		n = ring_recv(r, io, s, deadline, out);
	else
		n = plain_recv(r, io, deadline, out);
	atomic_store_explicit(&r->busy, false, memory_order_release);
	return n;
}

ssize_t rf_io_reader_recv(rf_io_reader *r, rf_io_buf *out)
{
	return rf_io_reader_recv_timeout(r, INT64_MAX, out);
}

static bool rd_still(void *arg, io_poller *io)
{
	rf_io_reader *r = arg;
	spin_lock(&r->lock);
	bool armed = r->armed && r->armed_io == io;
	spin_unlock(&r->lock);
	return armed;
}

static void rd_done(void *arg)
{
	rd_unref(arg);
}

void rf_io_reader_free(rf_io_reader *r)
{
	if (!r)
		return;
	spin_lock(&r->lock);
	r->freed = true;
	struct rd_ent *q = r->q;
	unsigned head = r->qhead, len = r->qlen, cap = r->qcap;
	r->q = NULL;
	r->qlen = r->qcap = 0;
	bool cancel = r->armed && !r->stopping;
	io_poller *io = r->armed_io;
	if (cancel) {
		r->stopping = true;
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed); /* the canceller's */
	}
	spin_unlock(&r->lock);
	for (unsigned i = 0; i < len; i++) {
		struct rd_ent *e = &q[(head + i) % cap];
		if (e->res > 0) {
			share_put(e->share, e->bid);
			pool_unref(r->pool);
		}
	}
	free(q);
	if (cancel)
		(void)uring_cancel_ud(io, uring_handler_ud(&r->h), rd_still, rd_done, r);
	rd_unref(r);
}
