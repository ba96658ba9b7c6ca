/* runtime/sched/guard.c: a fiber that overflows its stack dies with a message saying so.
 *
 * Every worker thread has an alternate signal stack, so the SIGSEGV handler can run
 * when the fiber's stack is exhausted. The handler looks at the faulting address: inside
 * the guard of the fiber running on this worker, it writes one line naming the overflow
 * (write(2) only: async-signal-safe), restores the default action and returns, so the
 * faulting instruction runs again and the process dies of SIGSEGV as it would have
 * without ringfold. Any other fault goes to the handler installed before ours (ASan's,
 * a user's) or to the default action.
 *
 * Shared state: `previous` is written once, under the caller's lock (rf_init), before
 * any worker exists; read by the handler afterwards.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/sched/fiber.h"

static struct sigaction previous;
static bool installed;

static size_t put_str(char *buf, size_t at, const char *s)
{
	while (*s)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		at = put_str(buf, at, "0x");
	while (n)
		buf[at++] = tmp[--n];
	return at;
}

static void chain(int sig, siginfo_t *info, void *uctx)
{
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction) {
			previous.sa_sigaction(sig, info, uctx);
			return;
		}
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL); /* the instruction faults again, now fatally */
}

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
	sched_worker *w = sched_tls_worker;
	sched_fiber *f = w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
	char *addr = info->si_addr;
	if (!f || addr < f->map || addr >= f->stack_lo) {
		chain(sig, info, uctx);
		return;
	}
	char buf[256];
	size_t n = put_str(buf, 0, "ringfold: fiber stack overflow: fiber ");
	n = put_num(buf, n, (uintptr_t)f, 16);
	n = put_str(buf, n, " on worker ");
	n = put_num(buf, n, (uint64_t)w->index, 10);
	n = put_str(buf, n, " ran past its ");
	n = put_num(buf, n, f->stack_size, 10);
	n = put_str(buf, n, "-byte stack (fault at ");
	n = put_num(buf, n, (uintptr_t)addr, 16);
	n = put_str(buf, n, " in the guard page); raise rf_config.stack_size / RF_STACK_SIZE\n");
	ssize_t rc = write(STDERR_FILENO, buf, n);
	(void)rc;
	signal(sig, SIG_DFL);
}

int guard_install_handler(void)
{
	if (installed)
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &previous))
		return -errno;
	installed = true;
	return 0;
}

int guard_thread_init(sched_worker *w)
{
	size_t size = SIGSTKSZ > 65536 ? SIGSTKSZ : 65536; /* room for ASan's handler too */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	stack_t ss = {.ss_sp = p, .ss_size = size, .ss_flags = 0};
	if (sigaltstack(&ss, NULL)) {
		int rc = -errno;
		munmap(p, size);
		return rc;
	}
	w->altstack = p;
	w->altstack_size = size;
	return 0;
}

void guard_forget(sched_worker *w)
{
	munmap(w->altstack, w->altstack_size);
	w->altstack = NULL;
}

void guard_thread_fini(sched_worker *w)
{
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	munmap(w->altstack, w->altstack_size);
	w->altstack = NULL;
}
