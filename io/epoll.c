/* io/epoll.c: the epoll backend: readiness for sockets and pipes, one epoll instance
 * and one fd table per executor worker.
 *
 * Ownership: epfd, the fd table and every waiter listed in it belong to the owner worker
 * thread: fibers of that worker add and remove their own waiters, ep_poll (same
 * thread) completes them, so no lock is needed. Other threads touch only wake_fd.
 *
 * Registration: the first wait on an fd adds it to epoll once, edge-triggered, for
 * input, output and hang-up together (ADD reports a readiness that is already there),
 * and it stays registered until rf_io_close (ep_forget_fd) or until the kernel drops it
 * with the file: no epoll_ctl per wait. An edge completes every waiter whose events it
 * matches (all of them on EPOLLERR/EPOLLHUP); an edge nobody waits for is remembered in
 * the slot's `ready` bits.
 *
 * Ready bits (per direction, owner only): clear means "this worker's last attempt got
 * EAGAIN and no edge has come since", set means "maybe ready, try". A caller clears them
 * when it parks after an EAGAIN (ep_wait_fd) and a dispatched edge sets them, so a caller
 * that finds them clear may park at once instead of making a call that would get EAGAIN
 * (ep_unready): any edge since is either in the slot or still queued in epoll, and then
 * it completes the waiter. A short read from a stream socket drained it, so it clears
 * EPOLLIN too (ep_short_read): in request/response traffic the next read then parks at
 * once instead of getting EAGAIN. A fresh slot is all ready.
 *
 * rf_io_close on any thread bumps the fd's generation (fd_gen), so the slots other
 * workers keep for that number start afresh on their next use.
 * A descriptor closed with close(2) behind ringfold's back leaves epoll by itself, but
 * the slot still says "registered"; if the number is reused, waits on the new file would
 * hear nothing. So a wait on a registration older than the wait re-checks it with
 * EPOLL_CTL_MOD every REVALIDATE_NS (ENOENT: added afresh): such a wait is late by at most
 * that, and a long-idle connection pays one epoll_ctl per period.
 *
 * epoll_event.data.u64 is fd + 1 (0 is the wake-up eventfd): numbers, not pointers, so
 * an event for a slot nobody waits on is simply remembered or ignored.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "runtime/base/assert.h"
#include "runtime/sched/sched.h"

struct fd_wait {
	waiter w; /* w.link[0]/[1]: prev/next in the slot's list; w.result: events seen */
	uint32_t events;
	bool linked; /* in the slot's list (a cancelled wait may have to leave it itself) */
};

struct ep_fd_slot {
	struct fd_wait *head;
	uint32_t unready; /* EPOLLIN/EPOLLOUT: got EAGAIN, no edge since (see the top) */
	bool added;       /* fd is (as far as we know) in the epoll set */
	bool stream;      /* a SOCK_STREAM socket: a short read drained it */
	uint32_t gen;     /* fd_gen of fd when it was added */
};

/* Bumped by rf_io_close of any fd hashing here, from any thread: a slot added under an
 * older generation describes a closed file and starts afresh. Hashed, so a collision
 * only costs a slot its knowledge. seq_cst bump before the close(2); acquire loads. */
#define GEN_SLOTS 4096
static _Atomic uint32_t fd_gen[GEN_SLOTS];

void ep_closing(int fd)
{
	if (fd >= 0)
		atomic_fetch_add_explicit(&fd_gen[fd % GEN_SLOTS], 1, memory_order_seq_cst);
}

static uint32_t gen_of(int fd)
{
	return atomic_load_explicit(&fd_gen[fd % GEN_SLOTS], memory_order_acquire);
}

/* A slot whose file was closed through rf_io_close (on any thread) forgets it. */
static void refresh(struct ep_fd_slot *s, int fd)
{
	if (s->added && s->gen != gen_of(fd)) {
		s->added = false;
		s->unready = 0;
	}
}

#define REG_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET)
#define REVALIDATE_NS 1000000000u

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

/* Register fd (ADD), or re-check a registration (MOD; ENOENT: the file it named is gone,
 * ADD the new one). 0 or -errno (-EPERM: not pollable). */
static int reg(io_poller *io, int fd, struct ep_fd_slot *s)
{
	struct epoll_event ev = {.events = REG_EVENTS, .data.u64 = (uint64_t)fd + 1};
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
	if (!s->added) {
		s->gen = gen_of(fd);
		int type = 0;
		socklen_t len = sizeof(type);
		s->stream =
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
	}
	s->added = true;
	return 0;
}

void ep_short_read(io_poller *io, int fd)
{
	if (fd >= 0 && fd < io->nfds && io->fds[fd].added && io->fds[fd].stream)
		io->fds[fd].unready |= EPOLLIN;
}

static uint32_t dir_bits(uint32_t events)
{
	return events & (EPOLLIN | EPOLLOUT);
}

bool ep_unready(io_poller *io, int fd, uint32_t events)
{
	if (fd < 0 || fd >= io->nfds)
		return false;
	refresh(&io->fds[fd], fd);
	if (!io->fds[fd].added)
		return false;
	uint32_t d = dir_bits(events);
	return d && (io->fds[fd].unready & d) == d;
}

static void unlink_wait(struct ep_fd_slot *s, struct fd_wait *x)
{
	if (!x->linked)
		return;
	x->linked = false;
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
	return ep_wait_fd_also(io, fd, events, deadline_ns, NULL);
}

int ep_wait_fd_also(io_poller *io, int fd, uint32_t events, uint64_t deadline_ns,
                    struct rf_io_cancel *also)
{
	RF_ASSERT(io_self() == io); /* owner only */
	if (fd < 0)
		return -EBADF;
	struct ep_fd_slot *s = slot_of(io, fd);
	if (!s)
		return -ENOMEM;
	refresh(s, fd);
	/* The caller just got EAGAIN (or found the direction unready): whatever edge comes
	 * from now on is news. */
	s->unready |= dir_bits(events);
	bool fresh = !s->added;
	if (fresh) {
		int rc = reg(io, fd, s);
		if (rc < 0)
			return rc;
	}
	struct fd_wait x = {.events = events};
	for (;;) {
		waiter_init(&x.w);
		struct io_cancel_rec rec, rec2;
		if (!io_cancel_enter(&rec, &x.w, io, false))
			return -ECANCELED;
		if (!io_cancel_enter_token(&rec2, also, &x.w, io, false, 0)) {
			io_cancel_leave(&rec);
			return -ECANCELED;
		}
		x.w.link[0] = NULL;
		x.w.link[1] = s->head;
		if (s->head)
			s->head->w.link[0] = &x;
		s->head = &x;
		x.linked = true;
		uint64_t until = deadline_ns;
		if (!fresh) {
			uint64_t check = time_now_ns() + REVALIDATE_NS;
			until = check < deadline_ns ? check : deadline_ns;
		}
		fiber_wait_on(WAIT_IO, (const void *)(intptr_t)fd);
		int rc = waiter_wait(&x.w, until);
		io_cancel_leave(&rec2);
		io_cancel_leave(&rec);
		if (rc == 0) {
			unlink_wait(&io->fds[fd], &x); /* a cancel completed it: still listed */
			return x.w.result;
		}
		/* Timed out or cancelled by shutdown: no completion can happen now; leave the
		 * list. */
		s = &io->fds[fd]; /* the table may have moved while we were parked */
		unlink_wait(s, &x);
		if (rc != -ETIMEDOUT || until == deadline_ns)
			return rc;
		rc = reg(io, fd, s); /* our own re-check: is the registration still there? */
		if (rc < 0)
			return rc == -EPERM ? rc : -EBADF;
		fresh = true; /* checked now: the rest of the wait needs no more */
	}
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
	s->unready = 0;
}

/* fd reported the edge `ev`: complete the waiters it satisfies; remember it. */
static int dispatch(io_poller *io, int fd, uint32_t ev)
{
	struct ep_fd_slot *s = &io->fds[fd];
	if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		s->unready = 0;
	s->unready &= ~dir_bits(ev);
	int n = 0;
	for (struct fd_wait *x = s->head, *next; x; x = next) {
		next = x->w.link[1];
		uint32_t hit = ev & (x->events | EPOLLERR | EPOLLHUP);
		if (ev & EPOLLRDHUP && x->events & EPOLLIN)
			hit |= EPOLLIN; /* the peer's FIN: a read returns 0 now */
		if (hit) {
			unlink_wait(s, x);
			finish(x, (int)hit);
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
