/* io/epoll.c: the epoll backend: readiness for sockets and pipes, one epoll instance
 * and one fd table per executor worker.
 *
 * Ownership: epfd, the fd table and every waiter listed in it belong to the owner worker
 * thread: fibers of that worker add and remove their own waiters, ep_poll (same
 * thread) completes them, so no lock is needed. Other threads touch only wake_fd.
 *
 * The fd table: slot fd lists the fibers waiting on fd, each with the events it wants
 * (several fibers may wait on one fd). While a slot has waiters, fd is armed in epoll
 * EPOLLONESHOT with the union of their events; an event completes every waiter whose
 * events it matches (all of them on EPOLLERR/EPOLLHUP) and re-arms for the rest. One-shot
 * arming means an fd nobody waits on never reports again, so level-triggered readiness
 * cannot spin the worker. An fd closed behind our back leaves epoll by itself; the next
 * arm of a reused number finds ENOENT and adds it afresh.
 *
 * epoll_event.data.u64 is fd + 1 (0 is the wake-up eventfd): numbers, not pointers, so
 * an event for a slot that lost its waiters meanwhile is simply ignored.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "runtime/base/assert.h"

struct fd_wait {
	waiter w; /* w.link[0]/[1]: prev/next in the slot's list; w.result: events seen */
	uint32_t events;
};

struct ep_fd_slot {
	struct fd_wait *head;
	uint32_t armed; /* events armed in epoll (0: not armed now) */
	bool added;     /* fd is (as far as we know) in the epoll set */
};

int ep_create(io_poller *io)
{
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	if (io->epfd < 0 || io->wake_fd < 0 ||
	    epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->wake_fd, &ev)) {
		int rc = -errno;
		ep_destroy(io);
		return rc;
	}
	return 0;
}

void ep_destroy(io_poller *io)
{
	if (io->epfd >= 0)
		close(io->epfd);
	if (io->wake_fd >= 0)
		close(io->wake_fd);
	free(io->fds);
	io->fds = NULL;
	io->nfds = 0;
}

static struct ep_fd_slot *slot_of(io_poller *io, int fd)
{
	if (fd >= io->nfds) {
		int n = io->nfds ? io->nfds : 64;
		while (n <= fd)
			n *= 2;
		struct ep_fd_slot *s = realloc(io->fds, (size_t)n * sizeof(*s));
		if (!s)
			return NULL;
		memset(s + io->nfds, 0, (size_t)(n - io->nfds) * sizeof(*s));
		io->fds = s;
		io->nfds = n;
	}
	return &io->fds[fd];
}

/* Arm fd for the union of its waiters' events, or leave it disarmed if none. */
static int arm(io_poller *io, int fd, struct ep_fd_slot *s)
{
	uint32_t want = 0;
	for (struct fd_wait *x = s->head; x; x = x->w.link[1])
		want |= x->events;
	if (!want || want == s->armed)
		return 0;
	struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.u64 = (uint64_t)fd + 1};
	int rc = -1;
	if (s->added)
		rc = epoll_ctl(io->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (rc < 0) {
		rc = epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev);
		if (rc < 0 && errno == EEXIST)
			rc = epoll_ctl(io->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	if (rc < 0)
		return -errno;
	s->added = true;
	s->armed = want;
	return 0;
}

static void unlink_wait(struct ep_fd_slot *s, struct fd_wait *x)
{
	struct fd_wait *prev = x->w.link[0], *next = x->w.link[1];
	if (prev)
		prev->w.link[1] = next;
	else
		s->head = next;
	if (next)
		next->w.link[0] = prev;
	x->w.link[0] = x->w.link[1] = NULL;
}

static void finish(struct fd_wait *x, int result)
{
	if (waiter_claim(&x->w)) {
		x->w.result = result;
		waiter_complete(&x->w);
	}
}

int ep_wait_fd(io_poller *io, int fd, uint32_t events, uint64_t deadline_ns)
{
	RF_ASSERT(io_self() == io); /* owner only */
	if (fd < 0)
		return -EBADF;
	struct ep_fd_slot *s = slot_of(io, fd);
	if (!s)
		return -ENOMEM;
	struct fd_wait x = {.events = events};
	waiter_init(&x.w);
	x.w.link[1] = s->head;
	if (s->head)
		s->head->w.link[0] = &x;
	s->head = &x;
	int rc = arm(io, fd, s);
	if (rc < 0) {
		unlink_wait(s, &x);
		return rc;
	}
	if ((rc = waiter_wait(&x.w, deadline_ns)) < 0) {
		/* Timed out or cancelled by shutdown: no completion can happen now; leave the
		 * list. The fd stays armed for the others; if none remain its one event is
		 * ignored. */
		s = &io->fds[fd]; /* the table may have moved while we were parked */
		unlink_wait(s, &x);
		return rc;
	}
	return x.w.result;
}

void ep_forget_fd(io_poller *io, int fd)
{
	RF_ASSERT(io_self() == io); /* owner only */
	if (fd < 0 || fd >= io->nfds)
		return;
	struct ep_fd_slot *s = &io->fds[fd];
	if (s->added)
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
	struct fd_wait *x;
	while ((x = s->head)) {
		unlink_wait(s, x);
		finish(x, -EBADF);
	}
	s->added = false;
	s->armed = 0;
}

/* fd reported `ev`: complete the waiters it satisfies, re-arm for the others. */
static int dispatch(io_poller *io, int fd, uint32_t ev)
{
	struct ep_fd_slot *s = &io->fds[fd];
	s->armed = 0; /* one-shot: disarmed by this event */
	int n = 0;
	for (struct fd_wait *x = s->head, *next; x; x = next) {
		next = x->w.link[1];
		uint32_t hit = ev & (x->events | EPOLLERR | EPOLLHUP);
		if (hit) {
			unlink_wait(s, x);
			finish(x, (int)hit);
			n++;
		}
	}
	if (s->head && arm(io, fd, s) < 0) {
		/* Cannot re-arm (fd closed behind our back): tell the rest. */
		struct fd_wait *x;
		while ((x = s->head)) {
			unlink_wait(s, x);
			finish(x, -EBADF);
			n++;
		}
	}
	return n;
}

static int timeout_ms(uint64_t deadline_ns)
{
	if (deadline_ns == DEADLINE_NONE)
		return -1;
	uint64_t now = time_now_ns();
	if (deadline_ns <= now)
		return 0;
	uint64_t d = (deadline_ns - now + 999999) / 1000000; /* never wake early */
	return d > 3600000 ? 3600000 : (int)d;
}

int ep_poll(io_poller *io, uint64_t deadline_ns)
{
	RF_ASSERT(io_self() == io); /* owner only */
	struct epoll_event evs[64];
	int n;
	/* EINTR (a signal, or io_uring task work elsewhere in the process): sleep on. */
	do
		n = epoll_wait(io->epfd, evs, 64, deadline_ns ? timeout_ms(deadline_ns) : 0);
	while (n < 0 && errno == EINTR);
	int handled = 0;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == 0) {
			uint64_t v;
			while (read(io->wake_fd, &v, sizeof(v)) > 0)
				;
			continue;
		}
		int fd = (int)(evs[i].data.u64 - 1);
		if (fd < io->nfds)
			handled += dispatch(io, fd, evs[i].events);
	}
	return handled;
}
