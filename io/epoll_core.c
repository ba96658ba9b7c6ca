/* io/epoll_core.c: the epoll backend's wait and wake-up (see io/backend.h).
 *
 * Each worker owns an epoll instance with one eventfd registered for wake-ups.
 * Ownership: epfd and the event buffer are touched only by the owner worker;
 * wake_fd is written by any thread (eventfd writes are atomic in the kernel).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "io/backend.h"
#include "runtime/wait.h"

struct rf_io {
	int epfd;
	int wake_fd;
	int worker;
};

static _Atomic int io_kind = RF_IO_AUTO; /* set once by rf_io_choose (relaxed: decided
                                          * before any worker starts) */

int rf_io_choose(rf_io_backend want)
{
	if (want == RF_IO_URING)
		return RF_ENOURING;
	atomic_store_explicit(&io_kind, RF_IO_EPOLL, memory_order_relaxed);
	return RF_IO_EPOLL;
}

rf_io_backend rf_io_kind(void) { return atomic_load_explicit(&io_kind, memory_order_relaxed); }

int rf_io_create(rf_io **out, int worker)
{
	rf_io *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->worker = worker;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (io->epfd < 0 || io->wake_fd < 0 || epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->wake_fd, &ev)) {
		int rc = -errno;
		rf_io_destroy(io);
		return rc;
	}
	*out = io;
	return 0;
}

void rf_io_destroy(rf_io *io)
{
	if (!io)
		return;
	if (io->epfd >= 0)
		close(io->epfd);
	if (io->wake_fd >= 0)
		close(io->wake_fd);
	free(io);
}

static int timeout_ms(uint64_t deadline_ns)
{
	if (deadline_ns == RF_NO_DEADLINE)
		return -1;
	uint64_t now = rf_now_ns();
	if (deadline_ns <= now)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000; /* round up: never wake early */
	return ms > 3600000 ? 3600000 : (int)ms;
}

int rf_io_poll(rf_io *io, uint64_t deadline_ns)
{
	struct epoll_event evs[64];
	int n = epoll_wait(io->epfd, evs, 64, deadline_ns ? timeout_ms(deadline_ns) : 0);
	int handled = 0;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL) {
			uint64_t v;
			while (read(io->wake_fd, &v, sizeof(v)) > 0)
				;
			continue;
		}
		handled++;
	}
	return handled;
}

void rf_io_wake(rf_io *io)
{
	uint64_t one = 1;
	while (write(io->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}
