/* runtime/core/conveyance.c: binding frames and their conveyance (see runtime/ctx.h and
 * runtime/stm/binding.h for the ownership rules).
 *
 * Reference counts: increments are relaxed (the incrementer already holds a reference,
 * so the frame cannot go away under it); the decrement is acq_rel so that the last
 * dropper's free happens after every other holder's last use.
 */
#include <stdlib.h>

#include "runtime/ctx.h"
#include "runtime/stm/binding.h"

rf_frame *rf_frame_new(rf_var *var, rf_val val, rf_frame *parent, const rf_ctx *binder)
{
	rf_frame *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->var = var;
	atomic_init(&f->val, val);
	f->binder = binder;
	f->parent = parent;
	if (parent)
		atomic_fetch_add_explicit(&parent->refs, 1, memory_order_relaxed);
	return f;
}

void *rf_bindings_capture(void)
{
	rf_frame *f = rf_ctx_self()->bindings;
	if (f)
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void *rf_bindings_install(void *frame)
{
	rf_ctx *ctx = rf_ctx_self();
	void *saved = ctx->bindings;
	ctx->bindings = frame;
	return saved;
}

void rf_bindings_release(void *frame)
{
	rf_frame *f = frame;
	/* iterative: a long chain must not recurse */
	while (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
		rf_frame *parent = f->parent;
		free(f);
		f = parent;
	}
}
