/* runtime/var/var.c: vars: an atomic root and per-context binding frames.
 *
 * Contract:
 *  - root: read with an acquire load, written (release) only under `lock`, which
 *    serializes rf_var_alter_root so that its function runs once per change (Clojure's
 *    synchronized alterRoot). `lock` is never held while taking another lock.
 *  - validator (fn, ctx) and `watches` are read and replaced under `lock`. The watch
 *    array is immutable and reference counted: a change takes a reference under the lock
 *    and calls the watches after unlocking, so a watch may alter the var or edit its
 *    watches. The validator runs under `lock` (as alterRoot validates inside its
 *    synchronized block): it must not use this var.
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
#include "runtime/base/lockrank.h"
#include "runtime/base/watches.h"
#include "runtime/var/binding.h"
#include "runtime/var/convey.h"

struct rf_var {
	_Atomic rf_val root;
	_Atomic bool ever_bound;
	bool dynamic; /* immutable */
	pthread_mutex_t lock;
	_Atomic bool has_validator; /* validator != NULL, for the lock-free check */
	rf_validator_fn validator;  /* under lock */
	rf_val validator_ctx;       /* under lock */
	watch_set *watches;         /* under lock; NULL when none */
};

/* Validator on val, under var->lock: 0, RF_EVALIDATOR or its own code. */
static int validate_locked(rf_var *var, rf_val val)
{
	int rc = var->validator ? var->validator(val, var->validator_ctx) : 1;
	return rc > 0 ? 0 : rc == 0 ? RF_EVALIDATOR : rc;
}

/* Validator on a value about to be bound or set!: the lock only when there is one
 * (relaxed: a validator set concurrently may or may not apply, as in Clojure). */
static int validate(rf_var *var, rf_val val)
{
	if (!atomic_load_explicit(&var->has_validator, memory_order_relaxed))
		return 0;
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	int rc = validate_locked(var, val);
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	return rc;
}

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
	atomic_init(&v->has_validator, false);
	v->validator = NULL;
	v->validator_ctx = RF_NIL;
	v->watches = NULL;
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
	watch_set_put(var->watches);
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
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	rf_val old = atomic_load_explicit(&var->root, memory_order_relaxed), nv = RF_NIL;
	int rc = fn(old, arg, &nv);
	if (!rc)
		rc = validate_locked(var, nv);
	watch_set *w = NULL;
	if (!rc) {
		atomic_store_explicit(&var->root, nv, memory_order_release);
		w = watch_set_get(var->watches);
	}
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	if (rc)
		return rc;
	if (out)
		*out = nv;
	/* Watches fire on a change of the root (alter-var-root), after it, outside the lock. */
	rc = watch_set_notify(w, var, old, nv);
	watch_set_put(w);
	return rc;
}

int rf_var_set_validator(rf_var *var, rf_validator_fn fn, rf_val ctx)
{
	if (!var)
		return -EINVAL;
	rf_val cur;
	rf_var_deref(var, &cur); /* ARef.setValidator checks deref(): this context's value */
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	int rc = 0;
	if (fn) {
		rc = fn(cur, ctx);
		rc = rc > 0 ? 0 : rc == 0 ? RF_EVALIDATOR : rc;
	}
	if (!rc) {
		var->validator = fn;
		var->validator_ctx = fn ? ctx : RF_NIL;
		atomic_store_explicit(&var->has_validator, fn != NULL, memory_order_relaxed);
	}
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	return rc;
}

int rf_var_get_validator(rf_var *var, rf_validator_fn *fn, rf_val *ctx)
{
	if (!var)
		return -EINVAL;
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	if (fn)
		*fn = var->validator;
	if (ctx)
		*ctx = var->validator_ctx;
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	return 0;
}

/* Replace the watch set by a copy without `key`, plus (key, fn, ctx) when fn is set. */
static int watches_edit(rf_var *var, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	if (!var)
		return -EINVAL;
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	watch_set *old = var->watches, *w;
	int rc = watch_set_edit(old, key, fn, ctx, &w);
	if (rc == 0)
		var->watches = w;
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	if (rc != 0)
		return rc < 0 ? rc : 0; /* 1: removing a key that is not there */
	watch_set_put(old);
	return 0;
}

int rf_var_add_watch(rf_var *var, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	return fn ? watches_edit(var, key, fn, ctx) : -EINVAL;
}

int rf_var_remove_watch(rf_var *var, rf_val key)
{
	return watches_edit(var, key, NULL, RF_NIL);
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
	int rc = validate(var, val); /* Var.set validates; watches do not fire */
	if (rc)
		return rc;
	atomic_store_explicit(&f->val, val, memory_order_relaxed);
	return 0;
}

static void mark_bound(rf_var *var)
{
	if (!atomic_load_explicit(&var->ever_bound, memory_order_relaxed))
		atomic_store_explicit(&var->ever_bound, true, memory_order_relaxed);
}

/* Bind var to val on top of ctx's bindings (the caller checked var). */
static inline int push(rf_var *var, rf_val val, exec_ctx *ctx)
{
	if (!var->dynamic)
		return RF_ENOTDYNAMIC;
	int rc = validate(var, val);
	if (rc)
		return rc;
	var_frame *f = var_frame_new(var, val, ctx->bindings, ctx);
	if (!f)
		return -ENOMEM;
	mark_bound(var);
	ctx->bindings = f;
	return 0;
}

int rf_var_push_binding(rf_var *var, rf_val val)
{
	return var ? push(var, val, ctx_self()) : -EINVAL;
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
		int rc = validate(vars[i], vals[i]); /* (binding ...) validates each value */
		if (rc)
			return rc;
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

/* One var: rf_var_bindings without the loops (the common (binding [*v* x] ...)). */
int rf_var_binding(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out)
{
	rf_val dummy;
	if (!out)
		out = &dummy;
	*out = RF_NIL;
	if (!var || !body)
		return -EINVAL;
	exec_ctx *ctx = ctx_self();
	var_frame *saved = ctx->bindings;
	int rc = push(var, val, ctx);
	if (rc)
		return rc;
	var_frame *f = ctx->bindings;
	rc = body(arg, out);
	ctx->bindings = saved;
	var_bindings_release(f);
	return rc;
}
