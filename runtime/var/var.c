/* runtime/var/var.c: vars: an atomic root and per-context binding frames.
 *
 * Contract:
 *  - root: read with an acquire load, written (release) only under `lock`, which
 *    serializes rf_var_alter_root so that its function runs once per change (Clojure's
 *    synchronized alterRoot). `lock` is never held while taking another lock.
 *  - ever_bound: set once (relaxed) by the first push of the var anywhere, never
 *    cleared (Clojure's threadBound). A context that pushed sees its own store; a
 *    context a frame was conveyed to saw the store before the conveyance (the hand-over
 *    of the frame between contexts synchronizes), so a reader that has a binding of the
 *    var in its chain also sees the flag. A reader that sees it false has no binding.
 *  - the binding chain of a context: runtime/var/binding.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/var/binding.h"
#include "runtime/var/convey.h"

struct rf_var {
	_Atomic rf_val root;
	_Atomic bool ever_bound;
	bool dynamic; /* immutable */
	pthread_mutex_t lock;
};

static int var_new(rf_val root, bool dynamic, rf_var **out)
{
	if (!out)
		return -EINVAL;
	rf_var *v = malloc(sizeof(*v));
	if (!(*out = v))
		return -ENOMEM;
	atomic_init(&v->root, root);
	atomic_init(&v->ever_bound, false);
	v->dynamic = dynamic;
	pthread_mutex_init(&v->lock, NULL);
	return 0;
}

int rf_var_new(rf_val root, rf_var **out)
{
	return var_new(root, false, out);
}

int rf_var_new_dynamic(rf_val root, rf_var **out)
{
	return var_new(root, true, out);
}

void rf_var_free(rf_var *var)
{
	if (!var)
		return;
	pthread_mutex_destroy(&var->lock);
	free(var);
}

bool rf_var_is_dynamic(rf_var *var)
{
	return var && var->dynamic;
}

/* The calling context's innermost binding of var, or NULL. */
static var_frame *binding_of(const rf_var *var)
{
	if (!atomic_load_explicit(&var->ever_bound, memory_order_relaxed))
		return NULL;
	for (var_frame *f = ctx_self()->bindings; f; f = f->parent)
		if (f->var == var)
			return f;
	return NULL;
}

int rf_var_deref(rf_var *var, rf_val *out)
{
	if (!var || !out)
		return -EINVAL;
	var_frame *f = binding_of(var);
	*out = f ? atomic_load_explicit(&f->val, memory_order_relaxed)
	         : atomic_load_explicit(&var->root, memory_order_acquire); /* pairs: alter */
	return 0;
}

int rf_var_root(rf_var *var, rf_val *out)
{
	if (!var || !out)
		return -EINVAL;
	*out = atomic_load_explicit(&var->root, memory_order_acquire);
	return 0;
}

int rf_var_alter_root(rf_var *var, rf_update_fn fn, rf_val arg, rf_val *out)
{
	if (!var || !fn)
		return -EINVAL;
	pthread_mutex_lock(&var->lock);
	rf_val nv = RF_NIL;
	int rc = fn(atomic_load_explicit(&var->root, memory_order_relaxed), arg, &nv);
	if (!rc)
		atomic_store_explicit(&var->root, nv, memory_order_release);
	pthread_mutex_unlock(&var->lock);
	if (!rc && out)
		*out = nv;
	return rc;
}

bool rf_var_thread_bound(rf_var *var)
{
	return var && binding_of(var);
}

int rf_var_set(rf_var *var, rf_val val)
{
	if (!var)
		return -EINVAL;
	var_frame *f = binding_of(var);
	if (!f)
		return RF_ENOTBOUND;
	if (f->binder != ctx_self())
		return RF_ENOTBINDER;
	atomic_store_explicit(&f->val, val, memory_order_relaxed);
	return 0;
}

static void mark_bound(rf_var *var)
{
	if (!atomic_load_explicit(&var->ever_bound, memory_order_relaxed))
		atomic_store_explicit(&var->ever_bound, true, memory_order_relaxed);
}

int rf_var_push_binding(rf_var *var, rf_val val)
{
	if (!var)
		return -EINVAL;
	if (!var->dynamic)
		return RF_ENOTDYNAMIC;
	exec_ctx *ctx = ctx_self();
	var_frame *f = var_frame_new(var, val, ctx->bindings, ctx);
	if (!f)
		return -ENOMEM;
	mark_bound(var);
	ctx->bindings = f;
	return 0;
}

int rf_var_pop_binding(rf_var *var)
{
	exec_ctx *ctx = ctx_self();
	var_frame *f = ctx->bindings;
	if (!var || !f || f->var != var || f->binder != ctx)
		return -EINVAL;
	ctx->bindings = f->parent; /* still referenced by f's pusher's parent chain */
	var_bindings_release(f);
	return 0;
}

int rf_var_bindings(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                    rf_val arg, rf_val *out)
{
	rf_val dummy;
	if (!out)
		out = &dummy;
	*out = RF_NIL;
	if ((n && (!vars || !vals)) || !body)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!vars[i])
			return -EINVAL;
		if (!vars[i]->dynamic)
			return RF_ENOTDYNAMIC;
	}
	/* One reference, to the top frame, stands for all frames pushed here (each frame
	 * holds its parent); restoring ctx->bindings does not depend on the body having
	 * balanced its own pushes and pops. */
	exec_ctx *ctx = ctx_self();
	var_frame *saved = ctx->bindings, *top = saved;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		var_frame *f = var_frame_new(vars[i], vals[i], top, ctx);
		if (!f) {
			rc = -ENOMEM;
			break;
		}
		mark_bound(vars[i]);
		if (top != saved)
			var_bindings_release(top);
		ctx->bindings = top = f;
	}
	if (!rc)
		rc = body(arg, out);
	ctx->bindings = saved;
	if (top != saved)
		var_bindings_release(top);
	return rc;
}

int rf_var_binding(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out)
{
	return rf_var_bindings(1, &var, &val, body, arg, out);
}
