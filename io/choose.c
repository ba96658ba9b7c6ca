/* io/choose.c: the process-wide backend decision and the per-worker create/poll/wake
 * dispatch (see io/backend.h).
 *
 * The probe runs once per process, under probe_lock: it sets up a small ring with the
 * richest flags the kernel accepts (dropping them one at a time on EINVAL) and submits
 * and reaps a NOP, because some seccomp profiles allow io_uring_setup but deny
 * io_uring_enter. Its outcome (probe_err, probe_flags) is kept for the process, except
 * when the failure may pass (out of memory or descriptors, EAGAIN, EINTR): then the
 * next rf_init probes again instead of pinning the process to epoll (and the test hook).
 * A worker whose own ring cannot be set up (its io_uring_setup or eventfd failing)
 * falls back to epoll alone: the calls dispatch on each worker's own kind. io_choose() then maps
 * the config's wish and that outcome to a backend; the choice is published in chosen_kind (release,
 * paired with the acquire in io_kind()) before any worker is started with it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "runtime/base/lockrank.h"

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static bool probed;          /* under probe_lock */
static int probe_err;        /* 0: io_uring usable; else the negative errno that stopped it */
static unsigned probe_flags; /* setup flags that worked */
static bool probe_msg_ring;  /* IORING_OP_MSG_RING is supported */
static _Atomic unsigned probe_feat; /* URF_* the kernel has (set by the probe) */
/* URF_* turned off: by io_test_uring_off, or lost when a kernel refused one at run time.
 * Relaxed: a feature seen on a moment too long only fails once more and is lost again. */
static _Atomic unsigned feat_off, feat_lost;
static int forced_err; /* test hook: the next probe "fails" with this */
static bool fallback_logged;
static _Atomic int chosen_kind = RF_IO_AUTO;
static _Thread_local io_poller *thread_io; /* the worker's io_poller, set by io_create */

/* Flag sets to try, richest first; each drops one flag from the one before. */
static const unsigned flag_sets[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_SINGLE_ISSUER,
    0,
};

static int probe(unsigned *flags)
{
	if (forced_err) {
		int err = forced_err;
		forced_err = 0;
		return err;
	}
	struct io_uring ring;
	int rc = -EINVAL;
	size_t i;
	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		rc = io_uring_queue_init(4, &ring, flag_sets[i]);
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0)
		return rc;
	*flags = flag_sets[i];
	struct io_uring_probe *p = io_uring_get_probe_ring(&ring);
	probe_msg_ring = p && io_uring_opcode_supported(p, IORING_OP_MSG_RING);
	/* SEND_ZC came with Linux 6.0, which also has multishot accept and recv and buffer
	 * rings (5.19-6.0); the registered ring fd is older still (5.18). */
	atomic_store_explicit(&probe_feat,
	                      p && io_uring_opcode_supported(p, IORING_OP_SEND_ZC)
	                          ? URF_MS_ACCEPT | URF_BUF_RING | URF_SEND_ZC | URF_RING_FD
	                          : 0,
	                      memory_order_relaxed);
	io_uring_free_probe(p);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	struct io_uring_cqe *cqe;
	do
		rc = io_uring_submit_and_wait(&ring, 1);
	while (rc == -EINTR);
	if (rc >= 0) {
		rc = io_uring_peek_cqe(&ring, &cqe);
		if (rc == 0) {
			rc = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
	return rc < 0 ? rc : 0;
}

/* A failure that may not be there next time. */
static bool transient(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE || err == -EAGAIN ||
	       err == -EINTR;
}

int io_choose(rf_io_backend want)
{
	mutex_lock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	if (!probed && want != RF_IO_EPOLL) {
		probe_err = probe(&probe_flags);
		probed = !transient(probe_err);
		if (!probed)
			fallback_logged = false; /* a later probe may succeed: say it each time */
	}
	int rc;
	if (want == RF_IO_EPOLL) {
		rc = RF_IO_EPOLL;
	} else if (probe_err == 0) {
		rc = RF_IO_URING;
	} else if (want == RF_IO_URING) {
		rc = RF_ENOURING;
	} else {
		rc = RF_IO_EPOLL;
		if (!fallback_logged)
			fprintf(stderr,
			        "ringfold: io_uring unavailable (io_uring setup: %s)%s; using the "
			        "epoll backend\n",
			        strerror(-probe_err),
			        probed ? "" : ", tried again at the next start");
		fallback_logged = true;
	}
	if (rc > 0)
		atomic_store_explicit(&chosen_kind, rc, memory_order_release);
	mutex_unlock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	return rc;
}

rf_io_backend io_kind(void)
{
	return atomic_load_explicit(&chosen_kind, memory_order_acquire);
}

bool uring_has_msg_ring(void)
{
	mutex_lock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	bool r = probe_msg_ring;
	mutex_unlock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	return r;
}

bool uring_feature(unsigned f)
{
	/* Asked only of io_uring rings, which exist only after a successful probe. */
	unsigned have = atomic_load_explicit(&probe_feat, memory_order_relaxed);
	have &= ~(atomic_load_explicit(&feat_off, memory_order_relaxed) |
	          atomic_load_explicit(&feat_lost, memory_order_relaxed));
	return (have & f) == f;
}

void uring_feature_lost(unsigned f)
{
	atomic_fetch_or_explicit(&feat_lost, f, memory_order_relaxed);
}

void io_test_uring_off(unsigned features)
{
	atomic_store_explicit(&feat_off, features, memory_order_relaxed);
	atomic_store_explicit(&feat_lost, 0, memory_order_relaxed);
}

unsigned uring_setup_flags(void)
{
	mutex_lock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	unsigned f = probe_flags;
	mutex_unlock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	return f;
}

void io_test_fail_setup(int err)
{
	mutex_lock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
	forced_err = err;
	probed = false;
	fallback_logged = false;
	atomic_store_explicit(&chosen_kind, RF_IO_AUTO, memory_order_release);
	mutex_unlock_ranked(&probe_lock, LOCKRANK_IO_PROBE);
}

io_poller *io_self(void)
{
	return thread_io;
}

int io_create(io_poller **out, int worker)
{
	rf_io_backend kind = io_kind();
	if (kind == RF_IO_AUTO) {
		int rc = io_choose(RF_IO_AUTO);
		if (rc < 0)
			return rc;
		kind = (rf_io_backend)rc;
	}
	io_poller *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->kind = kind;
	io->worker = worker;
	io->wake_fd = io->epfd = -1;
	thread_io = io; /* this thread owns it, already while the backend sets it up */
	int rc = kind == RF_IO_URING ? uring_create(io) : ep_create(io);
	if (rc < 0 && kind == RF_IO_URING) {
		fprintf(stderr,
		        "ringfold: worker %d: its io_uring could not be set up (%s); it uses "
		        "epoll\n",
		        worker, strerror(-rc));
		io->kind = RF_IO_EPOLL;
		io->wake_fd = io->epfd = -1;
		rc = ep_create(io);
	}
	if (rc < 0) {
		fprintf(stderr,
		        "ringfold: worker %d: its epoll instance or wake-up eventfd could not be "
		        "created (%s)\n",
		        worker, strerror(-rc));
		thread_io = NULL;
		free(io);
		return rc;
	}
	*out = io;
	return 0;
}

void io_destroy(io_poller *io)
{
	if (!io)
		return;
	if (thread_io == io && io->kind == RF_IO_URING)
		uring_drain(io); /* the owner: its listeners' and readers' last CQEs */
	if (thread_io == io)
		thread_io = NULL;
	if (io->kind == RF_IO_URING)
		uring_destroy(io);
	else
		ep_destroy(io);
	free(io);
}

int io_poll(io_poller *io, uint64_t deadline_ns)
{
	return io->kind == RF_IO_URING ? uring_poll(io, deadline_ns) : ep_poll(io, deadline_ns);
}

void io_wake(io_poller *io)
{
	io_poller *self = thread_io;
	if (self && self != io && self->msg_ring && io->kind == RF_IO_URING) {
		uring_msg_wake(self, io);
		return;
	}
	uint64_t one = 1;
	while (write(io->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static int poller_choose(rf_io_backend want)
{
	return io_choose(want);
}

static int poller_create(void **out, int worker)
{
	io_poller *io;
	int rc = io_create(&io, worker);
	if (rc == 0)
		*out = io;
	return rc;
}

static void poller_destroy(void *poller)
{
	io_destroy(poller);
}

static int poller_poll(void *poller, uint64_t deadline_ns)
{
	return io_poll(poller, deadline_ns);
}

static void poller_wake(void *poller)
{
	io_wake(poller);
}

static bool poller_pending(void *poller)
{
	io_poller *io = poller;
	return io->kind == RF_IO_URING && uring_pending(io);
}

static void poller_cancel(void *poller)
{
	io_poller *io = poller;
	if (io->kind == RF_IO_URING)
		uring_cancel_all(io);
}

const sched_poller_ops io_poller_ops = {
    .pending = poller_pending,
    .choose = poller_choose,
    .create = poller_create,
    .destroy = poller_destroy,
    .poll = poller_poll,
    .wake = poller_wake,
    .cancel = poller_cancel,
};
