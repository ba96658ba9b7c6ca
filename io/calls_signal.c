/* io/calls_signal.c: rf_signal_chan, signals as channel values.
 *
 * One go process per channel waits for its signalfd to be readable (an io_uring poll
 * or the worker's epoll, like any descriptor), reads every pending signal with
 * non-blocking reads on its worker's thread and puts each number onto the channel. The
 * signals are blocked first on the calling thread and on every executor worker (a
 * pinned fiber on each), so their default actions do not run there; other threads must
 * block them themselves. The process owns the signalfd and its channel reference: it
 * ends, closing both, when it finds the channel closed (at a put, or at its check every
 * CHECK_MS), when a graceful stop begins, or when the runtime stops.
 */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "ringfold/chan.h"
#include "ringfold/io.h"
#include "ringfold/runtime.h"
#include "runtime/sched/sched.h"

#define CHECK_MS 100

struct sigreader {
	int fd;
	rf_chan *ch;
};

static int reader(rf_val arg, rf_val *out)
{
	struct sigreader *r = rf_to_ptr(arg);
	bool open = true;
	while (open) {
		/* Woken every CHECK_MS to notice a closed channel or a graceful stop, which
		 * must not wait for this reader. */
		int rc = rf_io_pollfd_timeout(r->fd, POLLIN, CHECK_MS);
		if (rc == -ETIMEDOUT) {
			open = !rf_chan_closed(r->ch) && !rf_stopping();
			continue;
		}
		if (rc < 0)
			break;
		struct signalfd_siginfo si;
		while (open && read(r->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			open = rf_chan_put(r->ch, (rf_val)si.ssi_signo) == 0;
	}
	rf_chan_close(r->ch);
	rf_chan_release(r->ch);
	close(r->fd);
	free(r);
	return 0;
}

struct masker {
	sigset_t set;
	_Atomic int left;
	waiter done;
};

static void mask_here(void *arg)
{
	struct masker *m = arg;
	pthread_sigmask(SIG_BLOCK, &m->set, NULL);
	if (atomic_fetch_sub_explicit(&m->left, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&m->done))
		waiter_complete(&m->done);
}

/* Block set on every executor worker; 0 or a spawn error. */
static int mask_workers(const sigset_t *set)
{
	int n = sched_workers();
	struct masker m = {.set = *set};
	atomic_init(&m.left, n);
	waiter_init(&m.done);
	for (int i = 0; i < n; i++) {
		int rc = fiber_spawn(mask_here, &m, i, NULL);
		if (rc < 0) {
			/* the ones spawned still count down: wait for them */
			if (atomic_fetch_sub_explicit(&m.left, n - i, memory_order_acq_rel) ==
			        n - i &&
			    waiter_claim(&m.done))
				waiter_complete(&m.done);
			waiter_wait(&m.done, DEADLINE_NONE);
			return rc;
		}
	}
	return waiter_wait(&m.done, DEADLINE_NONE) == 0 ? 0 : RF_ESHUTDOWN;
}

int rf_signal_chan(const int *signals, size_t n, size_t buf, rf_chan **out)
{
	if (!signals || !n || !out || !buf)
		return -EINVAL;
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		if (signals[i] == SIGKILL || signals[i] == SIGSTOP || sigaddset(&set, signals[i]))
			return -EINVAL;
	int rc = sched_ensure();
	if (rc < 0)
		return rc;
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = mask_workers(&set)) < 0)
		return rc;
	struct sigreader *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->fd < 0) {
		rc = -errno;
		free(r);
		return rc;
	}
	if ((rc = rf_chan_new_buf(RF_BUF_FIXED, buf, &r->ch)) < 0) {
		close(r->fd);
		free(r);
		return rc;
	}
	rf_chan_retain(r->ch); /* the reader's reference */
	if ((rc = rf_go(reader, rf_from_ptr(r), NULL)) < 0) {
		rf_chan_release(r->ch);
		rf_chan_release(r->ch);
		close(r->fd);
		free(r);
		return rc;
	}
	*out = r->ch;
	return 0;
}
