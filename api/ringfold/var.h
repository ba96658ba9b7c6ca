/* ringfold/var.h: vars, their root and dynamic (per fiber / per thread) bindings.
 *
 * A var has a root value, seen by every context that has not bound it. A dynamic var
 * may also be bound in a scope: rf_var_binding() runs a body with the var bound and
 * restores the previous binding when the body returns, whatever it returns. A binding
 * belongs to the fiber (or plain thread) that made it, and is conveyed, as a captured
 * frame, into the work that context starts: futures, executor tasks, agent actions, go
 * processes, fold/pmap tasks, rf_blocking; not into a raw thread (rf_thread_start), as in
 * Clojure, unless it runs a bound function (rf_bound_fn_new).
 *
 *   Clojure                               ringfold
 *   (def v 1)                             rf_var_new(1, &v)
 *   (def ^:dynamic *v* 1)                 rf_var_new_dynamic(1, &v)
 *   @v, v                                 rf_var_deref(v, &x)          (or rf_deref)
 *   (alter-var-root v f x)                rf_var_alter_root(v, f, x, &new)
 *   (binding [*v* 2] (body))              rf_var_binding(v, 2, body, arg, &out)
 *   (binding [*a* 1 *b* 2] (body))        rf_var_bindings(2, (rf_var *[]){a, b},
 *                                                         (rf_val[]){1, 2}, body, arg, &out)
 *   (set! *v* 3)                          rf_var_set(v, 3)
 *   (push-thread-bindings {v 2}) ... (pop-thread-bindings)
 *                                         rf_var_push_binding(v, 2) ... rf_var_pop_binding(v)
 *   (var-get v) (var-set v 3)             rf_var_deref(v, &x), rf_var_set(v, 3)
 *   (thread-bound? v)                     rf_var_thread_bound(v)
 *   (bound? v)                            always true: a var is made with its root
 *   (.getRawRoot v)                       rf_var_root(v, &x)
 *   (get-thread-bindings)                 rf_bindings_new(&b): a snapshot; rf_bindings_count,
 *                                         rf_bindings_at, rf_bindings_lookup; rf_bindings_free
 *   (with-bindings* m f) (with-bindings m (body))
 *                                         rf_var_with_bindings(b, body, arg, &out)
 *   (bound-fn* f) (bound-fn [] (body))    rf_bound_fn_new(body, arg, &bf), then
 *                                         rf_bound_fn_call(rf_from_ptr(bf), &out) anywhere
 *   (with-redefs [v 2] (body))            rf_var_with_redefs(1, (rf_var *[]){v}, (rf_val[]){2},
 *                                                            body, arg, &out)
 *   (with-local-vars [x 1] (body))        rf_var_new_dynamic(0, &x), then
 *                                         rf_var_binding(x, 1, body, arg, &out); rf_var_free
 *   (set-validator! #'v f) (get-validator #'v)  rf_var_set_validator / rf_var_get_validator
 *   (add-watch #'v k f) (remove-watch #'v k)     rf_var_add_watch / rf_var_remove_watch
 *   "Invalid reference state"             RF_EVALIDATOR
 *
 * Errors (Clojure's exception -> code):
 *   "Can't dynamically bind non-dynamic var"              RF_ENOTDYNAMIC
 *   "Can't change/establish root binding of: v with set"  RF_ENOTBOUND
 *   "Can't set!: v from non-binding thread"               RF_ENOTBINDER
 *   "Pop without matching push"                            -EINVAL
 *
 * As in Clojure 1.11, a validator checks every new root (alter-var-root) and every value
 * bound or set! (binding, set!); watches fire when the root changes (alter-var-root), not
 * on binding or set!. A watch's negative code is returned by rf_var_alter_root after the
 * change.
 *
 * Contexts: every function may be called from a plain thread, a fiber, an agent action,
 * a transaction body or a fork/join task; none blocks (rf_var_alter_root takes the var's
 * lock for the duration of its function, as Clojure's synchronized alterRoot).
 */
#ifndef RINGFOLD_VAR_H
#define RINGFOLD_VAR_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_var rf_var;
typedef struct rf_bindings rf_bindings;

/* (def v root) / (def ^:dynamic *v* root): a new var.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_var_new(rf_val root, rf_var **out);
RF_API int rf_var_new_dynamic(rf_val root, rf_var **out);

/* Free a var.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: no context has it bound or uses it any more.
 * Blocks:  never.
 * Context: any.
 * Cost:    one or two frees. */
RF_API void rf_var_free(rf_var *var);

/* What the inline functions read and write (the ABI of docs/api.md, fixed for 1.x): a
 * var begins with rf_var_head; the calling context's innermost binding frame and its
 * identity are in the per-thread rf_var_ctx; a binding frame is an rf_var_frame, the
 * inline rf_var_binding's on the caller's stack. The rest of a var is private, and so is
 * every other use of these fields (how frames are chained, copied and conveyed). */
typedef struct rf_var_head {
	rf_val root;   /* read with an acquire load */
	uint8_t flags; /* read with a relaxed load; RF_VAR_FLAGS_INLINE: see rf_var_binding */
} rf_var_head;

/* A var's flags when the inline rf_var_binding binds it without a call: dynamic, bound
 * somewhere before, no validator. */
#define RF_VAR_FLAGS_INLINE 3

typedef struct rf_var_frame {
	/* in pairs of words, which rf_var_binding stores at once: var and val, parent and
	 * twin, binder and kind with covered */
	rf_var *var;                       /* the var it binds; never changes */
	rf_val val;                        /* its value there, read with a relaxed load (set!) */
	const struct rf_var_frame *parent; /* the next older frame, or NULL */
	struct rf_var_frame *twin;         /* ringfold's; NULL when made */
	const void *binder;                /* rf_var_ctx.self of the context that made it */
	uint32_t kind;                     /* 0: a frame on its binder's stack */
	uint32_t covered; /* ringfold's; 0 when made, nonzero once its end needs the call */
} rf_var_frame;

/* Two words of a frame, stored at once by the inline rf_var_binding. */
typedef uint64_t rf_var_frame_pair __attribute__((vector_size(16), aligned(8), may_alias));

/* The thread's running context (fiber or thread), as the inline functions see it:
 * ringfold's, read and written by the inline functions only, and swapped by the
 * scheduler at every fiber switch. */
typedef struct rf_var_context {
	const rf_var_frame *innermost; /* its innermost binding frame, or NULL */
	const void *self;              /* its identity; NULL until ringfold's first use here */
} rf_var_context;

extern RF_API __thread rf_var_context rf_var_ctx
    __attribute__((tls_model("initial-exec"))); /* __thread: C and C++ alike */

/* rf_var_deref as a call: every case, for the inline function's slow path and for code
 * that cannot inline (another language's bindings).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL var or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    a walk of the context's bindings, newest first, unless var was never bound
 *          anywhere. */
RF_API int rf_var_deref_call(rf_var *var, rf_val *out);

/* @v: the calling context's innermost binding of var (own or conveyed), else the root.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL var or out).
 * Blocks:  never.
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    inline: a thread-local load and two more when the context has no binding or
 *          var's binding is the innermost; else rf_var_deref_call. */
static inline int rf_var_deref(rf_var *var, rf_val *out)
{
	const rf_var_frame *f = rf_var_ctx.innermost;
	if (__builtin_expect(out != NULL, 1)) {
		if (f) {
			if (__builtin_expect(f->var == var, 1)) { /* no frame binds NULL */
				*out = __atomic_load_n(&f->val, __ATOMIC_RELAXED);
				return 0;
			}
		} else if (__builtin_expect(var != NULL, 1)) {
			/* acquire pairs with the release of rf_var_alter_root's store */
			*out = __atomic_load_n(&((const rf_var_head *)(const void *)var)->root,
			                       __ATOMIC_ACQUIRE);
			return 0;
		}
	}
	return rf_var_deref_call(var, out);
}

/* (.getRawRoot v): the root value, ignoring bindings.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL var or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_var_root(rf_var *var, rf_val *out);

/* (alter-var-root var fn arg): root = fn(root, arg), atomically; then the watches run.
 * Returns: 0 and *out (may be NULL) = the new root; or, after the change, the first
 *          negative code of a watch.
 * Errors:  -EINVAL (NULL var or fn), fn's code, RF_EVALIDATOR or the validator's code
 *          (root unchanged).
 * Blocks:  never (fn and the validator run under the var's lock: they must not alter
 *          this var; the watches run after it).
 * Context: any.
 * Cost:    a mutex and the calls. */
RF_API int rf_var_alter_root(rf_var *var, rf_update_fn fn, rf_val arg, rf_val *out);

/* rf_var_binding as a call, for code that cannot inline (another language's bindings):
 * the same fast path, then every case.
 * Returns: body's return; *out (may be NULL) as body set it.
 * Errors:  as rf_var_binding.
 * Blocks:  never (beyond body).
 * Context: any.
 * Cost:    as rf_var_binding, plus a call. */
RF_API int rf_var_binding_call(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out);

/* The end of an inline rf_var_binding's scope, f its frame, when the body pushed a
 * binding over it or captured it (ringfold then set f->covered): ringfold's, called by the
 * inline function only.
 * Returns: nothing; the calling context's bindings are those before the scope again.
 * Errors:  none.
 * Blocks:  never.
 * Context: the one that made f, after its body returned.
 * Cost:    a free per binding pushed and left by the body, and a reference dropped. */
RF_API void rf_var_binding_end(rf_var_frame *f);

/* rf_var_binding's code, with `slow` taking every case its fast path does not:
 * ringfold's, for rf_var_binding (slow: rf_var_binding_call) and rf_var_binding_call. */
static inline int rf_var_binding_inline(rf_var *var, rf_val val, rf_body_fn body, rf_val arg,
                                        rf_val *out,
                                        int (*slow)(rf_var *, rf_val, rf_body_fn, rf_val, rf_val *))
{
	const void *self = rf_var_ctx.self;
	if (__builtin_expect(!var || !body || !out || !self, 0) ||
	    __builtin_expect(__atomic_load_n(&((const rf_var_head *)(const void *)var)->flags,
	                                     __ATOMIC_RELAXED) != RF_VAR_FLAGS_INLINE,
	                     0))
		return slow(var, val, body, arg, out);
	*out = RF_NIL;
	const rf_var_frame *saved = rf_var_ctx.innermost;
	rf_var_frame f;
	/* The frame in three 16-byte stores, not six of a word: a binding is mostly stores. */
	rf_var_frame_pair a = {(uintptr_t)var, (uint64_t)val}, b = {(uintptr_t)saved, 0},
	                  c = {(uintptr_t)self, 0};
	*(rf_var_frame_pair *)(void *)&f.var = a;
	*(rf_var_frame_pair *)(void *)&f.parent = b; /* twin NULL */
	*(rf_var_frame_pair *)(void *)&f.binder = c; /* kind 0, covered 0 */
	rf_var_ctx.innermost = &f;
	int rc = body(arg, out);
	if (__builtin_expect(f.covered, 0))
		rf_var_binding_end(&f);
	else
		rf_var_ctx.innermost = saved;
	return rc;
}

/* (binding [var val] (body arg)): run body(arg, out) with var bound to val in the
 * calling context, then restore the previous binding, whatever body returns.
 * Returns: body's return; *out (may be NULL) as body set it.
 * Errors:  RF_ENOTDYNAMIC, RF_EVALIDATOR or the validator's code (body not run),
 *          -EINVAL (NULL var or body), -ENOMEM.
 * Blocks:  never (beyond body).
 * Context: any.
 * Cost:    inline, no allocation, nothing shared written (the frame is on the caller's
 *          stack) when var was bound before, has no validator and out is set; else
 *          rf_var_binding_call. A capture inside the body (work started there) copies the
 *          frames once. */
static inline int rf_var_binding(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out)
{
	return rf_var_binding_inline(var, val, body, arg, out, rf_var_binding_call);
}

/* (binding [v1 x1 v2 x2 ...] (body arg)): rf_var_binding for n vars at once.
 * Bound in order, a later duplicate winning; every var is checked (dynamic, validator)
 * before any is bound. The previous bindings are restored whatever body returns.
 * Returns: body's return; *out (may be NULL) as body set it (RF_NIL if body did not run).
 * Errors:  -EINVAL (NULL vars or vals with n > 0, a NULL var, NULL body), RF_ENOTDYNAMIC,
 *          RF_EVALIDATOR or a validator's code, -ENOMEM: body not run.
 * Blocks:  never (beyond body).
 * Context: any.
 * Cost:    as rf_var_binding per var (frames on the stack up to 8 vars, else one
 *          allocation). */
RF_API int rf_var_bindings(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                           rf_val arg, rf_val *out);

/* (set! var val): change the calling context's innermost binding of var. No watch fires.
 * Returns: 0.
 * Errors:  RF_ENOTBOUND (not bound here), RF_ENOTBINDER (bound by the context that
 *          conveyed it here), RF_EVALIDATOR or the validator's code, -EINVAL.
 * Blocks:  never.
 * Context: any.
 * Cost:    a walk of the context's bindings. */
RF_API int rf_var_set(rf_var *var, rf_val val);

/* (push-thread-bindings {var val}) / (pop-thread-bindings), for code that cannot wrap a
 * function around the scope. Pushes and pops must pair up on every path, in the same
 * fiber or thread; pop undoes the newest push of this context, which must be of var.
 * Returns: 0.
 * Errors:  push: RF_ENOTDYNAMIC, RF_EVALIDATOR or the validator's code, -ENOMEM, -EINVAL;
 *          pop: -EINVAL (not the newest push of var here; nothing popped).
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation / one free. */
RF_API int rf_var_push_binding(rf_var *var, rf_val val);
RF_API int rf_var_pop_binding(rf_var *var);

/* (thread-bound? var): whether var is bound in the calling context.
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_var_deref. */
RF_API bool rf_var_thread_bound(rf_var *var);

/* Whether the var is dynamic.
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API bool rf_var_is_dynamic(rf_var *var);

/* (set-validator! #'v fn): fn NULL removes it; the var's value in the calling context
 * is checked first. (get-validator #'v): *fn and *ctx (either may be NULL).
 * Returns: 0.
 * Errors:  -EINVAL (NULL var), RF_EVALIDATOR or fn's code (not installed).
 * Blocks:  never (the var's lock).
 * Context: any.
 * Cost:    one call of fn and a mutex. */
RF_API int rf_var_set_validator(rf_var *var, rf_validator_fn fn, rf_val ctx);
RF_API int rf_var_get_validator(rf_var *var, rf_validator_fn *fn, rf_val *ctx);

/* (add-watch #'v key fn): fn(key, var, old, new, ctx) after every change of the root by
 * rf_var_alter_root, on the altering context; a watch with the same key is replaced.
 * Returns: 0.
 * Errors:  -EINVAL (NULL var or fn), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_var_add_watch(rf_var *var, rf_val key, rf_watch_fn fn, rf_val ctx);

/* (remove-watch #'v key).
 * Returns: 0, also when there was no such watch.
 * Errors:  -EINVAL (NULL var), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_var_remove_watch(rf_var *var, rf_val key);

/* (get-thread-bindings): a snapshot of the calling context's bindings, own and conveyed:
 * each bound var once, with its innermost value.
 * Returns: 0 and *out (free with rf_bindings_free).
 * Errors:  -EINVAL (out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    two allocations and a walk of the context's bindings (quadratic in their
 *          number: they are few). */
RF_API int rf_bindings_new(rf_bindings **out);

/* Free a snapshot of bindings.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: no rf_var_with_bindings uses it any more.
 * Blocks:  never.
 * Context: any.
 * Cost:    three frees. */
RF_API void rf_bindings_free(rf_bindings *b);

/* How many vars a snapshot binds.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL b or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_bindings_count(const rf_bindings *b, size_t *out);

/* The i-th binding of a snapshot (innermost first, 0 <= i < count).
 * Returns: 0, *var and *val (either may be NULL).
 * Errors:  -EINVAL (NULL b, i out of range).
 * Blocks:  never.
 * Context: any.
 * Cost:    two loads. */
RF_API int rf_bindings_at(const rf_bindings *b, size_t i, rf_var **var, rf_val *val);

/* ((get-thread-bindings) var): the value a snapshot binds var to.
 * Returns: 0 and *out.
 * Errors:  -ENOENT (var not in the snapshot), -EINVAL (NULL b, var or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    a scan of the snapshot. */
RF_API int rf_bindings_lookup(const rf_bindings *b, rf_var *var, rf_val *out);

/* (with-bindings* b body arg): rf_var_bindings with a snapshot's vars and values, bound
 * afresh in the calling context (set! works on them here).
 * Returns: body's return; *out (may be NULL) as body set it (RF_NIL if body did not run).
 * Errors:  -EINVAL (NULL b or body), RF_EVALIDATOR or a validator's code, -ENOMEM: body
 *          not run.
 * Blocks:  never (beyond body).
 * Context: any.
 * Cost:    as rf_var_bindings. */
RF_API int rf_var_with_bindings(const rf_bindings *b, rf_body_fn body, rf_val arg, rf_val *out);

typedef struct rf_bound_fn rf_bound_fn;

/* (bound-fn* fn): fn and arg with a snapshot of the calling context's bindings, to be
 * called anywhere, any number of times (a raw thread included) with those bindings.
 * Returns: 0 and *out (free with rf_bound_fn_free).
 * Errors:  -EINVAL (NULL fn or out), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_bindings_new. */
RF_API int rf_bound_fn_new(rf_body_fn fn, rf_val arg, rf_bound_fn **out);

/* Call a bound function: fn(arg, out) with its captured bindings bound afresh in the
 * calling context (as Clojure's bound-fn pushes them: a set! inside changes only this
 * call's binding). An rf_body_fn: pass rf_bound_fn_call with rf_from_ptr(bf) wherever a
 * body is taken (rf_thread_start, rf_future_call, ...).
 * Returns: fn's return; *out (may be NULL) as fn set it (RF_NIL if fn did not run).
 * Errors:  -EINVAL (bound is RF_NIL), RF_EVALIDATOR or a validator's code (a validator
 *          installed since refuses a captured value), -ENOMEM: fn not run.
 * Blocks:  never (beyond fn).
 * Context: any.
 * Cost:    as rf_var_bindings. */
RF_API int rf_bound_fn_call(rf_val bound, rf_val *out);

/* Free a bound function.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: no call of it is running or to come.
 * Blocks:  never.
 * Context: any.
 * Cost:    three frees. */
RF_API void rf_bound_fn_free(rf_bound_fn *bf);

/* (with-redefs [v1 x1 v2 x2 ...] (body arg)): set each var's root (dynamic or not) for
 * every context, run body, and set the old roots back whatever body returns. Each root
 * is set as rf_var_alter_root sets it (validator, then watches); a var given twice takes
 * its last value. The restore is not validated (the old value was the root) and fires
 * the watches too. Bindings still take precedence over the root, as in Clojure.
 * Returns: body's return, or else the first negative code of a watch during the
 *          restore; *out (may be NULL) as body set it (RF_NIL if body did not run).
 * Errors:  -EINVAL (NULL vars or vals with n > 0, a NULL var, NULL body), -ENOMEM,
 *          RF_EVALIDATOR or a validator's code, a watch's code while setting: body not
 *          run, every root already set put back.
 * Blocks:  never (beyond body and the watches; each var's lock while its root changes).
 * Context: any.
 * Cost:    two root changes per var and their watches. */
RF_API int rf_var_with_redefs(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                              rf_val arg, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
