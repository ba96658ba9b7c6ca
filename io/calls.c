/* io/calls.c: the fiber-aware calls of ringfold/io.h.
 *
 * Every call becomes one request (struct req) carried down one of three paths:
 *   thread_do  plain thread (or a pool thread): the blocking syscall; with a deadline,
 *              poll(2) for readiness and then a non-blocking attempt;
 *   uring_do   fiber on an io_uring worker: one SQE (plus a linked timeout), park;
 *   epoll_do   fiber on an epoll worker: non-blocking attempt (or, when the last one on
 *              this fd got EAGAIN and no edge came since, none), park on the fd table
 *              until ready, retry; what cannot wait for readiness goes to the pool.
 * All three wait whatever the fd's O_NONBLOCK says: -EAGAIN reaches the caller only when
 * it asked for one try (MSG_DONTWAIT, or a zero timeout, which reports -ETIMEDOUT).
 * No shared state here: a request lives on its caller's stack.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io_impl.h"
#include "io/pool.h"
#include "ringfold/io.h"
#include "runtime/base/ctx.h"
#include "runtime/base/probe.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

enum verb {
	V_READ,
	V_WRITE,
	V_RECV,
	V_SEND,
	V_ACCEPT,
	V_CONNECT,
	V_CLOSE,
	V_FSYNC,
	V_POLL,
	V_RECVMSG,
	V_SENDMSG,
	V_SHUTDOWN,
	V_SPLICE,
};

struct req {
	enum verb verb;
	int fd;
	const struct iovec *iov; /* READ, WRITE */
	int iovcnt;
	off_t off; /* READ, WRITE: -1 = the file position */
	void *buf; /* RECV, SEND */
	size_t len;
	int flags;               /* RECV, SEND: msg flags; ACCEPT: accept4 flags */
	struct sockaddr *addr;   /* ACCEPT, CONNECT */
	socklen_t *addrlen;      /* ACCEPT */
	socklen_t caddrlen;      /* CONNECT */
	short events;            /* POLL */
	struct msghdr *msg;      /* RECVMSG, SENDMSG */
	int fd_out;              /* SPLICE (fd is its input); SHUTDOWN: how */
	int64_t off_in, off_out; /* SPLICE: -1 = the descriptor's position (pipes) */
	uint64_t deadline;       /* absolute; DEADLINE_NONE */
};

static short dir_events(const struct req *r)
{
	switch (r->verb) {
	case V_READ:
	case V_RECV:
	case V_RECVMSG:
	case V_ACCEPT:
	case V_SPLICE:
		return POLLIN;
	case V_POLL:
		return r->events;
	default:
		return POLLOUT;
	}
}

static bool one_try(const struct req *r)
{
	return (r->verb == V_RECV || r->verb == V_SEND || r->verb == V_RECVMSG ||
	        r->verb == V_SENDMSG) &&
	       (r->flags & MSG_DONTWAIT);
}

/* Calls that wait without a bound whatever the deadline: the kernel cannot abandon them
 * half-way (disk I/O, fsync), or they do not wait (close, shutdown), or the wait could be
 * on either of two descriptors (splice). */
static bool untimed(const struct req *r)
{
	return r->verb == V_CLOSE || r->verb == V_FSYNC || r->verb == V_SHUTDOWN ||
	       r->verb == V_SPLICE;
}

/* The syscall once. nowait: do not block (-EAGAIN instead; -EOPNOTSUPP where the file
 * cannot say, RWF_NOWAIT on an old kernel). Result or -errno; EINTR is returned. */
static long sys_once(const struct req *r, bool nowait)
{
	long rc;
	switch (r->verb) {
	case V_READ:
		if (nowait)
			rc = preadv2(r->fd, r->iov, r->iovcnt, r->off, RWF_NOWAIT);
		else if (r->off < 0)
			rc = r->iovcnt == 1 ? read(r->fd, r->iov[0].iov_base, r->iov[0].iov_len)
			                    : readv(r->fd, r->iov, r->iovcnt);
		else
			rc = preadv(r->fd, r->iov, r->iovcnt, r->off);
		break;
	case V_WRITE:
		if (nowait)
			rc = pwritev2(r->fd, r->iov, r->iovcnt, r->off, RWF_NOWAIT);
		else if (r->off < 0)
			rc = r->iovcnt == 1 ? write(r->fd, r->iov[0].iov_base, r->iov[0].iov_len)
			                    : writev(r->fd, r->iov, r->iovcnt);
		else
			rc = pwritev(r->fd, r->iov, r->iovcnt, r->off);
		break;
	case V_RECV:
		rc = recv(r->fd, r->buf, r->len, r->flags | (nowait ? MSG_DONTWAIT : 0));
		break;
	case V_SEND:
		rc = send(r->fd, r->buf, r->len,
		          r->flags | MSG_NOSIGNAL | (nowait ? MSG_DONTWAIT : 0));
		break;
	case V_ACCEPT:
		if (nowait) {
			/* accept4 has no per-call non-blocking flag: look first (see io.h). */
			struct pollfd p = {.fd = r->fd, .events = POLLIN};
			rc = poll(&p, 1, 0);
			if (rc > 0 && (p.revents & POLLNVAL))
				return -EBADF;
			if (rc == 0) {
				/* Nothing to accept yet: waiting makes sense only on a listening
				 * socket. Say what accept4 would (ENOTSOCK, EINVAL) instead of
				 * timing out, as the io_uring path does. */
				int listening = 0;
				socklen_t len = sizeof(listening);
				if (getsockopt(r->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) <
				    0)
					return -errno;
				return listening ? -EAGAIN : -EINVAL;
			}
		}
		rc = accept4(r->fd, r->addr, r->addrlen, r->flags);
		break;
	case V_CONNECT:
		rc = connect(r->fd, r->addr, r->caddrlen);
		break;
	case V_CLOSE:
		rc = close(r->fd);
		return rc < 0 && errno != EINTR ? -errno : 0;
	case V_FSYNC:
		rc = fsync(r->fd);
		break;
	case V_RECVMSG:
		rc = recvmsg(r->fd, r->msg, r->flags | (nowait ? MSG_DONTWAIT : 0));
		break;
	case V_SENDMSG:
		rc = sendmsg(r->fd, r->msg, r->flags | MSG_NOSIGNAL | (nowait ? MSG_DONTWAIT : 0));
		break;
	case V_SHUTDOWN:
		rc = shutdown(r->fd, r->fd_out);
		break;
	case V_SPLICE: {
		loff_t in = r->off_in, out = r->off_out;
		rc = splice(r->fd, r->off_in < 0 ? NULL : &in, r->fd_out,
		            r->off_out < 0 ? NULL : &out, r->len,
		            (unsigned)r->flags | (nowait ? SPLICE_F_NONBLOCK : 0));
		break;
	}
	case V_POLL: {
		struct pollfd p = {.fd = r->fd, .events = r->events};
		rc = poll(&p, 1, nowait ? 0 : -1);
		if (rc == 0)
			return -EAGAIN;
		if (rc > 0)
			return (p.revents & POLLNVAL) ? -EBADF : p.revents;
		break;
	}
	default:
		return -EINVAL;
	}
	return rc < 0 ? -errno : rc;
}

/* The call once fd was reported ready, for a file without RWF_NOWAIT (pipes before
 * Linux 6.x, ttys). A read then takes what is there. A blocking write would wait until
 * all of it fits, so it is cut to PIPE_BUF bytes, which a writable pipe takes at once:
 * a short write, as a non-blocking write gives. */
static long after_ready(const struct req *r)
{
	if (r->verb != V_WRITE)
		return sys_once(r, false);
	struct iovec cut[8];
	struct req c = *r;
	size_t room = PIPE_BUF;
	c.iov = cut;
	c.iovcnt = 0;
	for (int i = 0; i < r->iovcnt && room && c.iovcnt < 8; i++) {
		size_t n = r->iov[i].iov_len < room ? r->iov[i].iov_len : room;
		if (!n)
			continue;
		cut[c.iovcnt++] = (struct iovec){r->iov[i].iov_base, n};
		room -= n;
	}
	return sys_once(&c, false);
}

static int ms_until(uint64_t deadline)
{
	if (deadline == DEADLINE_NONE)
		return -1;
	uint64_t now = time_now_ns();
	if (deadline <= now)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Thread: wait until fd is ready for ev or the deadline. 0, -ETIMEDOUT, -EBADF. */
static int thread_ready(int fd, short ev, uint64_t deadline)
{
	if (fd < 0)
		return -EBADF; /* poll() would ignore it and sleep to the deadline */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = ev};
		int n = poll(&p, 1, ms_until(deadline));
		if (n > 0)
			return (p.revents & POLLNVAL) ? -EBADF : 0;
		if (n == 0 && time_now_ns() >= deadline)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* A connect that went asynchronous (EINPROGRESS, or EINTR): wait until writable, then
 * its outcome. wait_ready parks or polls according to the path. */
static long connect_outcome(const struct req *r, long rc, int (*wait_ready)(const struct req *))
{
	if (rc != -EINPROGRESS && rc != -EINTR && rc != -EALREADY)
		return rc;
	int w = wait_ready(r);
	if (w < 0)
		return w;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static int thread_wait_req(const struct req *r)
{
	return thread_ready(r->fd, dir_events(r), r->deadline);
}

static bool is_disk(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

static long thread_do(const struct req *r)
{
	if (r->verb == V_CONNECT)
		return connect_outcome(r, sys_once(r, false), thread_wait_req);
	if (r->verb == V_POLL) {
		int w = thread_ready(r->fd, r->events, r->deadline);
		return w < 0 ? w : sys_once(r, true);
	}
	bool timed = r->deadline != DEADLINE_NONE && !untimed(r) &&
	             !((r->verb == V_READ || r->verb == V_WRITE) && is_disk(r->fd));
	long rc;
	for (;;) {
		rc = sys_once(r, timed);
		if (rc == -EOPNOTSUPP && timed) {
			/* No RWF_NOWAIT for this file: wait for readiness, then the plain call. */
			int w = thread_wait_req(r);
			if (w < 0)
				return w;
			rc = after_ready(r);
		}
		if (rc == -EINTR && r->verb != V_CLOSE)
			continue;
		if (rc != -EAGAIN || one_try(r))
			return rc;
		int w = thread_wait_req(r);
		if (w < 0)
			return w;
	}
}

static long thread_do_tramp(void *arg)
{
	return thread_do(arg);
}

/* ---- io_uring ---- */

/* An SQE's length is 32 bits; the kernel transfers at most MAX_RW_COUNT per call
 * anyway, so a longer request is a short transfer, as with read(2). */
#define MAX_RW 0x7ffff000u

static unsigned sqe_len(size_t len)
{
	return len > MAX_RW ? MAX_RW : (unsigned)len;
}

/* A cancel token stops every call but close and shutdown: they are how a cancelled
 * connection is cleaned up. */
static bool cancellable(const struct req *r)
{
	return r->verb != V_CLOSE && r->verb != V_SHUTDOWN;
}

static int uring_submit(io_poller *io, const struct req *r, short poll_ev)
{
	/* Zero copy only without a deadline: the call returns when the kernel lets go of
	 * the buffer (for TCP, at the peer's acknowledgement), which no timeout can hurry. */
	if (r->verb == V_SEND && !poll_ev && r->deadline == DEADLINE_NONE &&
	    r->len >= uring_zc_min() && uring_feature(URF_SEND_ZC)) {
		int rc = uring_send_zc(io, r->fd, r->buf, r->len, r->flags, r->deadline);
		if (rc != -EOPNOTSUPP) /* AF_UNIX and the like: a plain send below */
			return rc;
	}
	if (r->verb == V_CLOSE && !poll_ev)
		uring_cancel_fd(io, r->fd); /* this worker's fibers waiting on fd: -EBADF */
	struct io_uring_sqe *sqe = uring_sqe(io);
	switch (poll_ev ? V_POLL : r->verb) {
	case V_READ:
		if (r->iovcnt == 1)
			io_uring_prep_read(sqe, r->fd, r->iov[0].iov_base,
			                   sqe_len(r->iov[0].iov_len), (uint64_t)r->off);
		else
			io_uring_prep_readv(sqe, r->fd, r->iov, (unsigned)r->iovcnt,
			                    (uint64_t)r->off);
		break;
	case V_WRITE:
		if (r->iovcnt == 1)
			io_uring_prep_write(sqe, r->fd, r->iov[0].iov_base,
			                    sqe_len(r->iov[0].iov_len), (uint64_t)r->off);
		else
			io_uring_prep_writev(sqe, r->fd, r->iov, (unsigned)r->iovcnt,
			                     (uint64_t)r->off);
		break;
	case V_RECV:
		io_uring_prep_recv(sqe, r->fd, r->buf, sqe_len(r->len), r->flags);
		break;
	case V_SEND:
		io_uring_prep_send(sqe, r->fd, r->buf, sqe_len(r->len), r->flags | MSG_NOSIGNAL);
		break;
	case V_ACCEPT:
		io_uring_prep_accept(sqe, r->fd, r->addr, r->addrlen, r->flags);
		break;
	case V_CONNECT:
		io_uring_prep_connect(sqe, r->fd, r->addr, r->caddrlen);
		break;
	case V_CLOSE:
		io_uring_prep_close(sqe, r->fd);
		break;
	case V_FSYNC:
		io_uring_prep_fsync(sqe, r->fd, 0);
		break;
	case V_RECVMSG:
		io_uring_prep_recvmsg(sqe, r->fd, r->msg, (unsigned)r->flags);
		break;
	case V_SENDMSG:
		io_uring_prep_sendmsg(sqe, r->fd, r->msg, (unsigned)(r->flags | MSG_NOSIGNAL));
		break;
	case V_SHUTDOWN:
		io_uring_prep_shutdown(sqe, r->fd, r->fd_out);
		break;
	case V_SPLICE:
		io_uring_prep_splice(sqe, r->fd, r->off_in, r->fd_out, r->off_out, sqe_len(r->len),
		                     (unsigned)r->flags);
		break;
	case V_POLL: {
		io_uring_prep_poll_add(sqe, r->fd, (unsigned)(poll_ev ? poll_ev : r->events));
		int rc = uring_wait(io, sqe, r->deadline, cancellable(r));
		return rc > 0 && (rc & POLLNVAL) ? -EBADF : rc;
	}
	}
	return uring_wait(io, sqe, r->deadline, cancellable(r));
}

static int uring_wait_req(const struct req *r)
{
	int rc = uring_submit(io_self(), r, dir_events(r));
	return rc < 0 ? rc : 0;
}

static long uring_do(io_poller *io, const struct req *r)
{
	for (;;) {
		long rc = uring_submit(io, r, 0);
		if (r->verb == V_CONNECT)
			return connect_outcome(r, rc, uring_wait_req);
		if (rc == -EINTR && r->verb != V_CLOSE)
			continue;
		/* -EAGAIN: an O_NONBLOCK fd that was not ready; wait, then again. */
		if (rc != -EAGAIN || one_try(r))
			return rc;
		int w = uring_wait_req(r);
		if (w < 0)
			return w;
	}
}

/* ---- epoll ---- */

static int epoll_wait_req(const struct req *r)
{
	int rc = ep_wait_fd(io_self(), r->fd, (uint32_t)dir_events(r), r->deadline);
	return rc < 0 ? rc : 0;
}

static long epoll_do(io_poller *io, const struct req *r)
{
	switch (r->verb) {
	case V_SHUTDOWN:
		return sys_once(r, false);
	case V_FSYNC:
	case V_SPLICE:
		return pool_run(thread_do_tramp, (void *)r);
	case V_CLOSE:
		ep_forget_fd(io, r->fd);
		return sys_once(r, false);
	case V_POLL: {
		if (!ep_unready(io, r->fd, (uint32_t)r->events)) {
			long rc = sys_once(r, true);
			if (rc != -EAGAIN)
				return rc;
		}
		int rc = ep_wait_fd(io, r->fd, (uint32_t)r->events, r->deadline);
		return rc == -EPERM ? sys_once(r, true) : rc; /* a regular file: always ready */
	}
	case V_CONNECT: {
		int fl = fcntl(r->fd, F_GETFL);
		if (fl < 0)
			return -errno;
		if (!(fl & O_NONBLOCK))
			return pool_run(thread_do_tramp, (void *)r);
		return connect_outcome(r, sys_once(r, false), epoll_wait_req);
	}
	default:
		break;
	}
	/* The last attempt here got EAGAIN and nothing came since: wait before calling. */
	if (!one_try(r) && ep_unready(io, r->fd, (uint32_t)dir_events(r))) {
		int w = epoll_wait_req(r);
		if (w < 0 && w != -ENOMEM) /* -ENOMEM: try, and wait on the pool below */
			return w;
	}
	for (;;) {
		long rc = sys_once(r, true);
		if (rc == -EOPNOTSUPP)
			return pool_run(thread_do_tramp, (void *)r);
		if (rc == -EINTR)
			continue;
		if (rc > 0 &&
		    ((r->verb == V_RECV && (size_t)rc < r->len && !(r->flags & MSG_PEEK)) ||
		     (r->verb == V_READ && r->iovcnt == 1 && (size_t)rc < r->iov[0].iov_len)))
			ep_short_read(io, r->fd);
		if (rc != -EAGAIN || one_try(r))
			return rc;
		int w = epoll_wait_req(r);
		/* Not pollable (a regular file that would block), or no memory for the fd
		 * table: wait on the blocking pool instead. */
		if (w == -EPERM || w == -ENOMEM)
			return pool_run(thread_do_tramp, (void *)r);
		if (w < 0)
			return w;
	}
}

int io_wait_fd(int fd, short events, uint64_t deadline)
{
	struct req r = {.verb = V_POLL, .fd = fd, .events = events, .deadline = deadline};
	io_poller *io = fiber_self() ? io_self() : NULL;
	int rc;
	if (!io)
		rc = thread_ready(fd, events, deadline);
	else if (io->kind == RF_IO_URING)
		rc = uring_submit(io, &r, events);
	else
		rc = ep_wait_fd(io, fd, (uint32_t)events, deadline);
	return rc < 0 ? rc : 0;
}

/* ---- entry ---- */

static long run(struct req *r, int64_t ms)
{
	if (ms < 0)
		return -EINVAL;
	r->deadline = time_deadline_after_ms(ms); /* NO_TIMEOUT saturates to DEADLINE_NONE */
	if (cancellable(r) && io_cancel_triggered())
		return -ECANCELED;
	uint64_t ambient = untimed(r) ? 0 : ctx_self()->io_deadline;
	if (ambient && ambient < r->deadline) {
		r->deadline = ambient;
		if (time_now_ns() >= ambient)
			ms = 0; /* past: one try, as with a zero timeout */
	}
	if (ms == 0 && !untimed(r) && r->verb != V_CONNECT) {
		/* One try, any context. */
		long rc;
		do
			rc = sys_once(r, true);
		while (rc == -EINTR);
		if (rc == -EOPNOTSUPP) {
			struct pollfd p = {.fd = r->fd, .events = dir_events(r)};
			rc = poll(&p, 1, 0) == 1 ? after_ready(r) : -EAGAIN;
		}
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	io_poller *io = fiber_self() ? io_self() : NULL;
	PROBE(io_submit, r->verb, r->fd, io ? io->kind : 0);
	long rc = !io ? thread_do(r) : io->kind == RF_IO_URING ? uring_do(io, r) : epoll_do(io, r);
	PROBE(io_complete, r->verb, r->fd, rc);
	return rc;
}

#define NO_TIMEOUT INT64_MAX

int io_call_deadline(int64_t ms, uint64_t *deadline)
{
	if (ms < 0)
		return -EINVAL;
	if (io_cancel_triggered())
		return -ECANCELED;
	uint64_t d = time_deadline_after_ms(ms);
	uint64_t ambient = ctx_self()->io_deadline;
	*deadline = ambient && ambient < d ? ambient : d;
	return 0;
}

static ssize_t rw(enum verb v, int fd, const struct iovec *iov, int iovcnt, off_t off, int64_t ms)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
		return -EINVAL;
	struct req r = {.verb = v, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = off};
	return run(&r, ms);
}

ssize_t rf_io_read(int fd, void *buf, size_t len)
{
	struct iovec v = {buf, len};
	return rw(V_READ, fd, &v, 1, -1, NO_TIMEOUT);
}

ssize_t rf_io_read_timeout(int fd, void *buf, size_t len, int64_t ms)
{
	struct iovec v = {buf, len};
	return rw(V_READ, fd, &v, 1, -1, ms);
}

ssize_t rf_io_write(int fd, const void *buf, size_t len)
{
	struct iovec v = {(void *)buf, len};
	return rw(V_WRITE, fd, &v, 1, -1, NO_TIMEOUT);
}

ssize_t rf_io_write_timeout(int fd, const void *buf, size_t len, int64_t ms)
{
	struct iovec v = {(void *)buf, len};
	return rw(V_WRITE, fd, &v, 1, -1, ms);
}

ssize_t rf_io_pread(int fd, void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	struct iovec v = {buf, len};
	return rw(V_READ, fd, &v, 1, off, NO_TIMEOUT);
}

ssize_t rf_io_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	struct iovec v = {(void *)buf, len};
	return rw(V_WRITE, fd, &v, 1, off, NO_TIMEOUT);
}

ssize_t rf_io_readv(int fd, const struct iovec *iov, int iovcnt)
{
	return rw(V_READ, fd, iov, iovcnt, -1, NO_TIMEOUT);
}

ssize_t rf_io_readv_timeout(int fd, const struct iovec *iov, int iovcnt, int64_t ms)
{
	return rw(V_READ, fd, iov, iovcnt, -1, ms);
}

ssize_t rf_io_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return rw(V_WRITE, fd, iov, iovcnt, -1, NO_TIMEOUT);
}

ssize_t rf_io_writev_timeout(int fd, const struct iovec *iov, int iovcnt, int64_t ms)
{
	return rw(V_WRITE, fd, iov, iovcnt, -1, ms);
}

static ssize_t xfer(enum verb v, int fd, void *buf, size_t len, int flags, int64_t ms)
{
	struct req r = {.verb = v, .fd = fd, .buf = buf, .len = len, .flags = flags};
	return run(&r, ms);
}

ssize_t rf_io_recv(int fd, void *buf, size_t len, int flags)
{
	return xfer(V_RECV, fd, buf, len, flags, NO_TIMEOUT);
}

ssize_t rf_io_recv_timeout(int fd, void *buf, size_t len, int flags, int64_t ms)
{
	return xfer(V_RECV, fd, buf, len, flags, ms);
}

ssize_t rf_io_send(int fd, const void *buf, size_t len, int flags)
{
	return xfer(V_SEND, fd, (void *)buf, len, flags, NO_TIMEOUT);
}

ssize_t rf_io_send_timeout(int fd, const void *buf, size_t len, int flags, int64_t ms)
{
	return xfer(V_SEND, fd, (void *)buf, len, flags, ms);
}

int rf_io_accept_timeout(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags, int64_t ms)
{
	struct req r = {
	    .verb = V_ACCEPT, .fd = fd, .addr = addr, .addrlen = addrlen, .flags = flags};
	return (int)run(&r, ms);
}

int rf_io_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct req r = {
	    .verb = V_ACCEPT, .fd = fd, .addr = addr, .addrlen = addrlen, .flags = flags};
	return (int)run(&r, NO_TIMEOUT);
}

int rf_io_connect_timeout(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t ms)
{
	struct req r = {
	    .verb = V_CONNECT, .fd = fd, .addr = (struct sockaddr *)addr, .caddrlen = addrlen};
	return (int)run(&r, ms);
}

int rf_io_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	return rf_io_connect_timeout(fd, addr, addrlen, NO_TIMEOUT);
}

ssize_t rf_io_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return rf_io_recvmsg_timeout(fd, msg, flags, NO_TIMEOUT);
}

ssize_t rf_io_recvmsg_timeout(int fd, struct msghdr *msg, int flags, int64_t ms)
{
	if (!msg)
		return -EINVAL;
	struct req r = {.verb = V_RECVMSG, .fd = fd, .msg = msg, .flags = flags};
	return run(&r, ms);
}

ssize_t rf_io_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return rf_io_sendmsg_timeout(fd, msg, flags, NO_TIMEOUT);
}

ssize_t rf_io_sendmsg_timeout(int fd, const struct msghdr *msg, int flags, int64_t ms)
{
	if (!msg)
		return -EINVAL;
	struct req r = {.verb = V_SENDMSG, .fd = fd, .msg = (struct msghdr *)msg, .flags = flags};
	return run(&r, ms);
}

int rf_io_shutdown(int fd, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	struct req r = {.verb = V_SHUTDOWN, .fd = fd, .fd_out = how};
	return (int)run(&r, NO_TIMEOUT);
}

ssize_t rf_io_splice(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len,
                     unsigned flags)
{
	if (off_in < -1 || off_out < -1 || (flags & SPLICE_F_NONBLOCK))
		return -EINVAL;
	struct req r = {.verb = V_SPLICE,
	                .fd = fd_in,
	                .fd_out = fd_out,
	                .off_in = off_in,
	                .off_out = off_out,
	                .len = len,
	                .flags = (int)flags};
	return run(&r, NO_TIMEOUT);
}

int rf_io_deadline_set(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	uint64_t d = time_deadline_after_ms(timeout_ms);
	ctx_self()->io_deadline = d == DEADLINE_NONE ? 0 : d;
	return 0;
}

void rf_io_deadline_clear(void)
{
	ctx_self()->io_deadline = 0;
}

int rf_io_cancel_new(rf_io_cancel **out)
{
	return out ? io_cancel_new(out) : -EINVAL;
}

void rf_io_cancel_free(rf_io_cancel *c)
{
	io_cancel_unref(c);
}

int rf_io_cancel_attach(rf_io_cancel *c)
{
	ctx_self()->io_cancel = c;
	return 0;
}

int rf_io_cancel_trigger(rf_io_cancel *c)
{
	return c ? io_cancel_trigger(c) : -EINVAL;
}

int rf_io_close(int fd)
{
	ep_closing(fd);
	struct req r = {.verb = V_CLOSE, .fd = fd};
	return (int)run(&r, NO_TIMEOUT);
}

int rf_io_fsync(int fd)
{
	struct req r = {.verb = V_FSYNC, .fd = fd};
	return (int)run(&r, NO_TIMEOUT);
}

int rf_io_pollfd_timeout(int fd, short events, int64_t ms)
{
	struct req r = {.verb = V_POLL, .fd = fd, .events = events};
	return (int)run(&r, ms);
}

int rf_io_pollfd(int fd, short events)
{
	return rf_io_pollfd_timeout(fd, events, NO_TIMEOUT);
}

void rf_yield(void)
{
	if (fiber_self())
		fiber_yield();
	else
		sched_yield();
}

int rf_sleep_ms(int64_t ms)
{
	if (ms < 0)
		return -EINVAL;
	return sched_sleep_until(time_deadline_after_ms(ms));
}

struct blocking_call {
	rf_body_fn fn;
	rf_val arg;
	rf_val out;
	void *bindings; /* the caller's frame, conveyed to the pool thread */
};

static long blocking_tramp(void *p)
{
	struct blocking_call *c = p;
	return c->fn(c->arg, &c->out);
}

/* On a pool thread: run with the caller's dynamic bindings (core.async's thread conveys
 * them, as every other way of starting work does). */
static long blocking_conveyed(void *p)
{
	struct blocking_call *c = p;
	void *saved = var_bindings_install(c->bindings);
	long rc = blocking_tramp(c);
	var_bindings_install(saved);
	return rc;
}

int rf_blocking(rf_body_fn fn, rf_val arg, rf_val *out)
{
	if (!fn)
		return -EINVAL;
	struct blocking_call c = {.fn = fn, .arg = arg, .out = RF_NIL};
	int rc;
	if (fiber_self()) {
		if ((rc = var_bindings_capture(&c.bindings)) < 0)
			return rc;
		rc = (int)pool_run(blocking_conveyed, &c);
		var_bindings_release(c.bindings);
	} else {
		rc =
		    (int)blocking_tramp(&c); /* right here: the bindings are already the caller's */
	}
	if (out)
		*out = c.out;
	return rc;
}
