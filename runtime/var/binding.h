/* runtime/var/binding.h: dynamic binding frames (internal to vars and conveyance).
 *
 * A context's dynamic bindings are a chain of frames, newest first, each binding one
 * var: ctx_self()->bindings points at the newest. A frame is immutable but for its
 * value (Clojure's TBox, changed by set! from the binding context only), and refcounted:
 *  - a frame holds one reference to its parent;
 *  - whoever pushed a frame holds the reference it was created with, and drops it when
 *    it pops the frame; a capture (var_bindings_capture) holds one more;
 *  - ctx->bindings itself owns no reference: it is borrowed from the push or the
 *    capture that installed it, which outlives its use by construction (scoped).
 * Frames are shared read-only between contexts once captured; `val` is atomic because
 * the binding context may set it while a context it conveyed to reads it (relaxed: a
 * binding's value is one word, and Clojure gives no ordering between set! and readers
 * on other threads either).
 */
#ifndef RF_STM_BINDING_H
#define RF_STM_BINDING_H

#include <stdatomic.h>

#include "ringfold/var.h"
#include "runtime/base/ctx.h"

typedef struct var_frame {
	_Atomic uint32_t refs;
	rf_var *var;
	_Atomic rf_val val;
	const exec_ctx *binder;   /* the context that pushed it: only it may set it */
	struct var_frame *parent; /* holds a reference; NULL at the bottom */
} var_frame;

/* A new frame binding var to val on top of parent (takes a reference to parent), with
 * one reference for the caller. NULL on -ENOMEM. */
var_frame *var_frame_new(rf_var *var, rf_val val, var_frame *parent, const exec_ctx *binder);

#endif
