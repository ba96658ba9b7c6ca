/* runtime/var/binding.h: dynamic binding frames (internal to vars and conveyance).
 *
 * A context's dynamic bindings are a chain of frames, newest first, each binding one
 * var: ctx_self()->bindings points at the newest. Frames come in two kinds:
 *
 *  - local (FRAME_SCOPED, FRAME_PUSHED): made by the context that binds (`binder`) and
 *    owned by it, not reference counted. rf_var_binding/rf_var_bindings keep theirs on
 *    the C stack for the duration of the body; rf_var_push_binding allocates one that
 *    rf_var_pop_binding frees. A local frame lives exactly as long as its scope, so only
 *    its binder, and fork/join tasks it forked and joins before its scope ends, may see
 *    it. Its parent is any frame (local or shared).
 *  - shared (FRAME_SHARED): a heap copy made by var_bindings_capture, so that work
 *    started on another context may outlive the binding scope. Immutable but for `val`,
 *    reference counted; its parent is shared too (holding a reference) or NULL.
 *
 * `twin` links a local frame and its copy while both exist, so that set! (Clojure's
 * TBox, shared between the binder and the work it conveyed to) changes both:
 *  - on a local frame: its copy, with one reference; set by the binder's capture
 *    (release, after the copy is complete: a fork/join task borrowing the frame may
 *    read it, with acquire, and take another reference), dropped when the scope ends;
 *  - on a shared frame: the local frame it copies, while in scope; read and cleared only
 *    by the binder (relaxed: one context).
 * `val` is atomic because the binder may set! it while a context it conveyed to reads it
 * (relaxed: a binding's value is one word, and Clojure orders set! with readers on other
 * threads no more).
 */
#ifndef RF_VAR_BINDING_H
#define RF_VAR_BINDING_H

#include <stdatomic.h>
#include <stdint.h>

#include "ringfold/var.h"
#include "runtime/base/ctx.h"
#include "runtime/var/convey.h"

enum { FRAME_SCOPED, FRAME_PUSHED, FRAME_SHARED };

typedef struct var_frame {
	rf_var *var;
	_Atomic rf_val val;
	struct var_frame *parent;
	const exec_ctx *binder; /* the context that bound it: only it may set! */
	_Atomic(struct var_frame *) twin;
	uint32_t kind;
	_Atomic uint32_t refs; /* shared frames only */
} var_frame;

/* A local frame binding var to val on top of `parent`, ctx's bindings (not yet
 * installed). */
static inline void var_frame_local(var_frame *f, rf_var *var, rf_val val, uint32_t kind,
                                   const exec_ctx *ctx, var_frame *parent)
{
	f->var = var;
	atomic_init(&f->val, val);
	f->parent = parent;
	f->binder = ctx;
	atomic_init(&f->twin, NULL);
	f->kind = kind;
}

/* A local frame's scope ended (its binder, after taking it off ctx->bindings): cut the
 * link with its copy and drop the copy's reference. */
static inline void var_frame_leave(var_frame *f)
{
	var_frame *copy = atomic_load_explicit(&f->twin, memory_order_relaxed);
	if (copy) {
		atomic_store_explicit(&copy->twin, NULL, memory_order_relaxed);
		var_bindings_release(copy);
	}
}

/* Heap frames (pushed and shared ones): from a per-thread cache. NULL on -ENOMEM. */
var_frame *var_frame_alloc(void);
void var_frame_free(var_frame *f);

/* Make sure the calling context's end drops what a context may leave behind: the frame
 * it was started with, pushes it never popped. 0 or -ENOMEM. */
int var_hook_end(void);

#endif
