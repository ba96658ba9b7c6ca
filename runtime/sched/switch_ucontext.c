/* runtime/sched/switch_ucontext.c: the portable fallback of switch.h for architectures
 * without an own switch (swapcontext saves and restores the signal mask: one
 * sigprocmask syscall per switch). No shared state. */
#include <stdint.h>
#include <stdlib.h>

#include "runtime/sched/switch.h"

/* makecontext passes int arguments only: the pointers travel split in two halves. */
static void trampoline(unsigned fhi, unsigned flo, unsigned ahi, unsigned alo)
{
	void (*entry)(void *) =
	    (void (*)(void *))(uintptr_t)(((uint64_t)fhi << 32) | (uint64_t)flo);
	void *arg = (void *)(uintptr_t)(((uint64_t)ahi << 32) | (uint64_t)alo);
	entry(arg);
	abort(); /* entry never returns */
}

void mctx_make(mctx *c, void *lo, size_t size, void (*entry)(void *), void *arg)
{
	uint64_t f = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;
	getcontext(&c->uc);
	c->uc.uc_stack.ss_sp = lo;
	c->uc.uc_stack.ss_size = size;
	c->uc.uc_link = NULL;
	makecontext(&c->uc, (void (*)(void))trampoline, 4, (unsigned)(f >> 32), (unsigned)f,
	            (unsigned)(a >> 32), (unsigned)a);
}

void mctx_swap(mctx *from, mctx *to)
{
	swapcontext(&from->uc, &to->uc);
}
