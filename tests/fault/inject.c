/* tests/fault/inject.c: the failure injector, linked into a test binary with
 * -Wl,--wrap=<fn> for every function below (tests/fault/CMakeLists.txt), which reroutes
 * every call the test and ringfold's static library make to these wrappers.
 *
 * While armed, each wrapped call counts one; the call whose count equals fail_at fails
 * the way the real function fails when out of its resource (NULL/ENOMEM, MAP_FAILED,
 * EAGAIN, EMFILE, -ENOMEM). Counting is process-wide across threads (relaxed atomics:
 * only the total and the one failing call matter), so which call is the Nth varies a
 * little between runs with threads; over every N each site is hit. Calls inside other
 * libraries (glibc, liburing, libnuma) are not rerouted: only ringfold's own call sites.
 */
#include "fault/inject.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

static _Atomic long calls;
static _Atomic long fail_at;
static _Atomic bool armed;
static _Atomic long failed; /* calls that were made to fail */

void inject_arm(long at)
{
	atomic_store(&calls, 0);
	atomic_store(&failed, 0);
	atomic_store(&fail_at, at);
	atomic_store(&armed, true);
}

long inject_disarm(void)
{
	atomic_store(&armed, false);
	return atomic_load(&calls);
}

long inject_failed(void)
{
	return atomic_load(&failed);
}

static bool hit(void)
{
	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return false;
	long n = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
	if (n != atomic_load_explicit(&fail_at, memory_order_relaxed))
		return false;
	atomic_fetch_add_explicit(&failed, 1, memory_order_relaxed);
	return true;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_eventfd(unsigned int v, int flags);
int __real_epoll_create1(int flags);
int __real_io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags);

void *__wrap_malloc(size_t n)
{
	if (hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	if (hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	if (hit()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_aligned_alloc(a, n);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (hit()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (hit())
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}

int __wrap_eventfd(unsigned int v, int flags)
{
	if (hit()) {
		errno = EMFILE;
		return -1;
	}
	return __real_eventfd(v, flags);
}

int __wrap_epoll_create1(int flags)
{
	if (hit()) {
		errno = EMFILE;
		return -1;
	}
	return __real_epoll_create1(flags);
}

int __wrap_io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
	if (hit())
		return -ENOMEM;
	return __real_io_uring_queue_init(entries, ring, flags);
}
