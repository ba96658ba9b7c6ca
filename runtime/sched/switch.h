/* runtime/sched/switch.h: the machine context switch under fibers (internal).
 *
 * x86-64 and aarch64 use switch_<arch>.S: mctx_swap() is called as an ordinary
 * function, pushes the callee-saved registers (x86-64 also MXCSR and the x87 control
 * word) on the current stack, stores the stack pointer in from->sp, loads to->sp, pops
 * the other side's registers and returns into it. Everything caller-saved is already
 * saved by the compiler around the call, so that is the whole context. Any other
 * architecture uses switch_ucontext.c (swapcontext, one sigprocmask syscall per switch).
 *
 * No shared state: a context is touched only by the thread switching from or to it.
 */
#ifndef RF_SCHED_SWITCH_H
#define RF_SCHED_SWITCH_H

#include <stddef.h>

#if defined(RF_SWITCH_UCONTEXT)
#include <ucontext.h>
typedef struct mctx {
	ucontext_t uc;
} mctx;
#else
typedef struct mctx {
	void *sp; /* saved stack pointer; the registers sit on the stack below it */
} mctx;
#endif

/* Prepare c so that the first mctx_swap() into it calls entry(arg) on the stack
 * [lo, lo + size). entry must never return (it switches away for good instead). */
void mctx_make(mctx *c, void *lo, size_t size, void (*entry)(void *), void *arg);

/* Save the running context in `from` and continue `to`. Returns when something swaps
 * back into `from`. */
void mctx_swap(mctx *from, mctx *to);

#endif
