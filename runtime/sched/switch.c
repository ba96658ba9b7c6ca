/* runtime/sched/switch.c: builds the first frame of a new fiber for switch_<arch>.S.
 * The frame layouts are described at the top of each .S file. No shared state. */
#include <stdint.h>
#include <string.h>

#include "runtime/sched/switch.h"

void mctx_entry(void); /* in switch_<arch>.S */

void mctx_make(mctx *c, void *lo, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
	uint64_t *sp = (uint64_t *)(top - 64);
	memset(sp, 0, 64);
	uint32_t mxcsr = 0x1f80; /* all exceptions masked, round to nearest */
	uint16_t fcw = 0x037f;   /* the x87 default: extended precision, masked */
	memcpy((char *)sp, &mxcsr, 4);
	memcpy((char *)sp + 4, &fcw, 2);
	sp[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
	sp[4] = (uint64_t)(uintptr_t)entry; /* r12 */
	sp[7] = (uint64_t)(uintptr_t)mctx_entry;
	/* after the final ret, rsp = top: 16-aligned, as mctx_entry's call expects */
#elif defined(__aarch64__)
	uint64_t *sp = (uint64_t *)(top - 160);
	memset(sp, 0, 160);
	sp[0] = (uint64_t)(uintptr_t)entry;       /* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg;         /* x20 */
	sp[11] = (uint64_t)(uintptr_t)mctx_entry; /* x30 */
#else
#error "switch.c is for x86-64 and aarch64; other architectures build switch_ucontext.c"
#endif
	c->sp = sp;
}
