/* runtime/var/binding.h: dynamic binding frames (internal to vars and conveyance).
 *
 * A context's dynamic bindings are a chain of frames, newest first, each binding one
 * var: var_top() is the newest, kept in the per-thread rf_var_ctx.innermost while the
 * context runs and in its exec_ctx's `bindings` while it does not (runtime/base/ctx.h).
 * A frame is laid out as ringfold/var.h's rf_var_frame, which the inline rf_var_deref
 * reads and the inline rf_var_binding makes (a scoped frame), and a shared frame has a
 * reference count after it. Frames come in two kinds:
 *
 *  - local (FRAME_SCOPED, FRAME_PUSHED): made by the context that binds (`binder`) and
 *    owned by it, not reference counted. rf_var_binding/rf_var_bindings keep theirs on
 *    the C stack for the duration of the body; rf_var_push_binding allocates one that
 *    rf_var_pop_binding frees. A local frame lives exactly as long as its scope, so only
 *    its binder, and fork/join tasks it forked and joins before its scope ends, may see
 *    it. Its parent is any frame (local or shared). FRAME_SCOPED is 0, what the inline
 *    rf_var_binding writes.
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
 * `covered` (scoped frames; the binder's only) says that the end of its scope must take
 * the slow path (rf_var_binding_end), the one thing the inline rf_var_binding reads after
 * the body: set when the binder pushed a binding while the frame was the newest (the slow
 * path drops what the body left pushed) and when the binder's capture gave it a copy
 * (the slow path drops the copy). The inline end of binaries built with the first 1.x
 * headers reads `twin` too (non-NULL: the slow path), so a copy's link is always there.
 * `val` is atomic because the binder may set! it while a context it conveyed to reads it
 * (relaxed: a binding's value is one word, and Clojure orders set! with readers on other
 * threads no more).
 */
#ifndef RF_VAR_BINDING_H
#define RF_VAR_BINDING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ringfold/var.h"
#include "runtime/base/ctx.h"
#include "runtime/var/convey.h"

enum { FRAME_SCOPED, FRAME_PUSHED, FRAME_SHARED };

typedef struct var_frame {
	rf_var *var;
	_Atomic rf_val val;
	struct var_frame *parent;
	_Atomic(struct var_frame *) twin;
	const exec_ctx *binder; /* the context that bound it: only it may set! */
	uint32_t kind;
	uint32_t covered;      /* scoped frames: its end takes the slow path (binder only) */
	_Atomic uint32_t refs; /* shared frames only */
} var_frame;

_Static_assert(offsetof(var_frame, var) == offsetof(rf_var_frame, var) &&
                   offsetof(var_frame, val) == offsetof(rf_var_frame, val) &&
                   offsetof(var_frame, parent) == offsetof(rf_var_frame, parent) &&
                   offsetof(var_frame, twin) == offsetof(rf_var_frame, twin) &&
                   offsetof(var_frame, binder) == offsetof(rf_var_frame, binder) &&
                   offsetof(var_frame, kind) == offsetof(rf_var_frame, kind) &&
                   offsetof(var_frame, covered) == offsetof(rf_var_frame, covered) &&
                   offsetof(var_frame, refs) >= sizeof(rf_var_frame) &&
                   offsetof(rf_var_frame, parent) == sizeof(rf_var_frame_pair) &&
                   offsetof(rf_var_frame, binder) == 2 * sizeof(rf_var_frame_pair) &&
                   offsetof(rf_var_frame, covered) + sizeof(uint32_t) ==
                       3 * sizeof(rf_var_frame_pair) &&
                   sizeof(_Atomic rf_val) == sizeof(rf_val) &&
                   sizeof(_Atomic(var_frame *)) == sizeof(var_frame *) && FRAME_SCOPED == 0,
               "a frame is laid out as rf_var_frame (the inline functions read and make it)");

/* The running context's innermost frame, and replacing it. */
static inline var_frame *var_top(void)
{
	return (var_frame *)(uintptr_t)rf_var_ctx.innermost;
}

static inline void var_set_top(var_frame *f)
{
	rf_var_ctx.innermost = (const rf_var_frame *)f;
}

/* A local frame binding var to val on top of `parent`, ctx's bindings (not yet
 * installed). var and val go in one store, which rf_var_deref's two loads read back
 * (measured: a binding around a deref costs a cycle less than with two stores). parent
 * goes in a plain store: it is on the path from one binding to the next (the word's
 * previous value, into the frame, back to the word), where a trip through a vector
 * register would cost more. */
static inline void var_frame_local(var_frame *f, rf_var *var, rf_val val, uint32_t kind,
                                   const exec_ctx *ctx, var_frame *parent)
{
	rf_var_frame_pair head = {(uintptr_t)var, (uint64_t)val};
	*(rf_var_frame_pair *)(void *)f = head;
	f->parent = parent;
	atomic_init(&f->twin, NULL);
	f->binder = ctx;
	f->kind = kind;
	f->covered = 0;
}

/* A local frame's scope ended (its binder, after taking it off the chain): cut the link
 * with its copy, if any (its `twin`), and drop the copy's reference. */
static inline void var_copy_leave(var_frame *copy)
{
	if (copy) {
		atomic_store_explicit(&copy->twin, NULL, memory_order_relaxed);
		var_bindings_release(copy);
	}
}

static inline void var_frame_leave(var_frame *f)
{
	var_copy_leave(atomic_load_explicit(&f->twin, memory_order_relaxed));
}

/* Heap frames (pushed and shared ones): from a per-thread cache. NULL on -ENOMEM. */
var_frame *var_frame_alloc(void);
void var_frame_free(var_frame *f);

/* Make sure the calling context's end drops what a context may leave behind: the frame
 * it was started with, pushes it never popped. 0 or -ENOMEM. */
int var_hook_end(void);

#endif
