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
 *  - flags: VAR_DYNAMIC is set at creation. VAR_BOUND is set once (relaxed) by the first
 *    binding of the var anywhere, never cleared (Clojure's threadBound). A context that
 *    bound sees its own store; a context a frame was conveyed to saw the store before the
 *    conveyance (the hand-over of the frame between contexts synchronizes), so a reader
 *    that has a binding of the var in its chain also sees the flag; a reader that sees it
 *    clear has no binding. VAR_VALIDATED mirrors validator != NULL, changed under `lock`
 *    (relaxed: read without the lock only to skip it).
 *  - the binding chain of a context: runtime/var/binding.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/watches.h"
#include "runtime/var/binding.h"
#include "runtime/var/convey.h"
#include "runtime/var/var_impl.h"

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
	if (!(atomic_load_explicit(&var->flags, memory_order_relaxed) & VAR_VALIDATED))
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
	atomic_init(&v->flags, dynamic ? VAR_DYNAMIC : 0);
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
	return var && (atomic_load_explicit(&var->flags, memory_order_relaxed) & VAR_DYNAMIC);
}

/* The calling context's innermost binding of var, or NULL. */
static var_frame *binding_of(const rf_var *var)
{
	if (!(atomic_load_explicit(&var->flags, memory_order_relaxed) & VAR_BOUND))
		return NULL;
	for (var_frame *f = var_top(); f; f = f->parent)
		if (f->var == var)
			return f;
	return NULL;
}

/* The inline rf_var_deref (ringfold/var.h) takes the two common cases, no binding at all
 * and var's binding innermost; this is every case. */
int rf_var_deref_call(rf_var *var, rf_val *out)
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

/* Set the root to fn(root, arg) (fn NULL: to arg), validated unless `trusted`, then run
 * the watches outside the lock. */
int var_change_root(rf_var *var, rf_update_fn fn, rf_val arg, bool trusted, rf_val *old_out,
                    rf_val *new_out, bool *changed)
{
	mutex_lock_ranked(&var->lock, LOCKRANK_VAR);
	rf_val old = atomic_load_explicit(&var->root, memory_order_relaxed), nv = arg;
	int rc = fn ? (nv = RF_NIL, fn(old, arg, &nv)) : 0;
	if (!rc && !trusted)
		rc = validate_locked(var, nv);
	watch_set *w = NULL;
	if (!rc) {
		atomic_store_explicit(&var->root, nv, memory_order_release);
		w = watch_set_get(var->watches);
	}
	mutex_unlock_ranked(&var->lock, LOCKRANK_VAR);
	if (changed)
		*changed = rc == 0;
	if (rc)
		return rc;
	if (old_out)
		*old_out = old;
	if (new_out)
		*new_out = nv;
	/* Watches fire on a change of the root, after it, outside the lock. */
	rc = watch_set_notify(w, var, old, nv);
	watch_set_put(w);
	return rc;
}

int rf_var_alter_root(rf_var *var, rf_update_fn fn, rf_val arg, rf_val *out)
{
	if (!var || !fn)
		return -EINVAL;
	return var_change_root(var, fn, arg, false, NULL, out, NULL);
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
		if (fn)
			atomic_fetch_or_explicit(&var->flags, VAR_VALIDATED, memory_order_relaxed);
		else
			atomic_fetch_and_explicit(&var->flags, ~VAR_VALIDATED,
			                          memory_order_relaxed);
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
	/* One TBox in Clojure: the copy conveyed elsewhere (or, from a copy, the frame still
	 * in scope here) changes too. Only the binder gets here, the only writer of twin. */
	var_frame *twin = atomic_load_explicit(&f->twin, memory_order_relaxed);
	if (twin)
		atomic_store_explicit(&twin->val, val, memory_order_relaxed);
	return 0;
}

static void mark_bound(rf_var *var)
{
	if (!(atomic_load_explicit(&var->flags, memory_order_relaxed) & VAR_BOUND))
		atomic_fetch_or_explicit(&var->flags, VAR_BOUND, memory_order_relaxed);
}

/* Whether var may be bound to val (the caller checked var for NULL). */
static inline int check_bind(rf_var *var, rf_val val)
{
	if (!(atomic_load_explicit(&var->flags, memory_order_relaxed) & VAR_DYNAMIC))
		return RF_ENOTDYNAMIC;
	return validate(var, val); /* (binding ...) validates each value */
}

int rf_var_push_binding(rf_var *var, rf_val val)
{
	if (!var)
		return -EINVAL;
	int rc = check_bind(var, val);
	if (rc)
		return rc;
	/* A context that ends with pushes left frees them (a fiber's end hook). */
	var_frame *f = var_hook_end() ? NULL : var_frame_alloc();
	if (!f)
		return -ENOMEM;
	const exec_ctx *ctx = ctx_self();
	var_frame *below = var_top();
	/* The scope of the binding below ends on its slow path, which drops what was left */
	if (below && below->kind == FRAME_SCOPED && below->binder == ctx)
		below->covered = 1;
	var_frame_local(f, var, val, FRAME_PUSHED, ctx, below);
	mark_bound(var);
	var_set_top(f);
	return 0;
}

int rf_var_pop_binding(rf_var *var)
{
	var_frame *f = var_top();
	if (!var || !f || f->var != var || f->kind != FRAME_PUSHED || f->binder != ctx_self())
		return -EINVAL;
	var_set_top(f->parent);
	var_frame_leave(f);
	var_frame_free(f);
	return 0;
}

/* End of a binding scope: back to `saved`. Pushes the body left unpopped above the
 * scope's frames are dropped (the precondition says pops pair with pushes; the scope ends
 * whatever the body did); the walk stops at the scope's newest frame, not a push. */
static void scope_end(var_frame *saved)
{
	const exec_ctx *ctx = ctx_self();
	for (var_frame *f = var_top(); f && f->kind == FRAME_PUSHED && f->binder == ctx;) {
		var_frame *parent = f->parent;
		var_frame_leave(f);
		var_frame_free(f);
		f = parent;
	}
	var_set_top(saved);
}

int var_check_many(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                   rf_val *out)
{
	if (out)
		*out = RF_NIL;
	if ((n && (!vars || !vals)) || !body)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!vars[i])
			return -EINVAL;
	return 0;
}

/* Frames of rf_var_bindings live on the stack up to this many vars. */
enum { BINDINGS_ON_STACK = 8 };

int var_bindings_run(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                     rf_val arg, rf_val *out)
{
	rf_val dummy;
	int rc = var_check_many(n, vars, vals, body, out);
	for (size_t i = 0; i < n && !rc; i++)
		rc = check_bind(vars[i], vals[i]);
	if (rc)
		return rc;
	var_frame on_stack[BINDINGS_ON_STACK], *frames = on_stack;
	if (n > BINDINGS_ON_STACK && !(frames = malloc(n * sizeof(*frames))))
		return -ENOMEM;
	const exec_ctx *ctx = ctx_self();
	var_frame *saved = var_top();
	for (size_t i = 0; i < n; i++) {
		var_frame_local(&frames[i], vars[i], vals[i], FRAME_SCOPED, ctx, var_top());
		mark_bound(vars[i]);
		var_set_top(&frames[i]);
	}
	rc = body(arg, out ? out : &dummy);
	if (n) {
		scope_end(saved);
		for (size_t i = 0; i < n; i++)
			var_frame_leave(&frames[i]);
	}
	if (frames != on_stack)
		free(frames);
	return rc;
}

int rf_var_bindings(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                    rf_val arg, rf_val *out)
{
	return var_bindings_run(n, vars, vals, body, arg, out);
}

/* The end of rf_var_binding's scope when a push was made over its frame or the frame
 * was captured (its copy), and that of binding_slow's in every case. */
void rf_var_binding_end(rf_var_frame *f)
{
	var_frame *vf = (var_frame *)f;
	var_frame *copy = atomic_load_explicit(&vf->twin, memory_order_relaxed);
	scope_end(vf->parent);
	var_copy_leave(copy);
}

/* rf_var_binding, every case. */
static __attribute__((noinline)) int binding_slow(rf_var *var, rf_val val, rf_body_fn body,
                                                  rf_val arg, rf_val *out)
{
	rf_val dummy;
	if (!out)
		out = &dummy;
	*out = RF_NIL;
	if (!var || !body)
		return -EINVAL;
	int rc = check_bind(var, val);
	if (rc)
		return rc;
	var_frame f;
	var_frame_local(&f, var, val, FRAME_SCOPED, ctx_self(), var_top());
	mark_bound(var);
	var_set_top(&f);
	rc = body(arg, out);
	rf_var_binding_end((rf_var_frame *)&f);
	return rc;
}

int rf_var_binding_call(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out)
{
	return rf_var_binding_inline(var, val, body, arg, out, binding_slow);
}
