/* ringfold/var.h: vars, their root and dynamic (per fiber / per thread) bindings.
 *
 * A var has a root value, seen by every context that has not bound it. A dynamic var
 * may also be bound in a scope: rf_var_binding() runs a body with the var bound and
 * restores the previous binding when the body returns, whatever it returns. A binding
 * belongs to the fiber (or plain thread) that made it, and is conveyed, as a captured
 * frame, into the work that context starts: futures, executor tasks, agent actions, go
 * processes, fold/pmap tasks; not into a raw thread (rf_thread), as in Clojure.
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
 *   (thread-bound? v)                     rf_var_thread_bound(v)
 *   (.getRawRoot v)                       rf_var_root(v, &x)
 *
 * Errors (Clojure's exception -> code):
 *   "Can't dynamically bind non-dynamic var"              RF_ENOTDYNAMIC
 *   "Can't change/establish root binding of: v with set"  RF_ENOTBOUND
 *   "Can't set!: v from non-binding thread"               RF_ENOTBINDER
 *   "Pop without matching push"                            -EINVAL
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

/* A new var with root value `root`; dynamic or not. Returns 0, -EINVAL (out NULL),
 * -ENOMEM. */
RF_API int rf_var_new(rf_val root, rf_var **out);
RF_API int rf_var_new_dynamic(rf_val root, rf_var **out);

/* Free a var. No context may have it bound or use it any more. */
RF_API void rf_var_free(rf_var *var);

/* The var's value for the calling context: its innermost binding (own or conveyed),
 * else the root. Returns 0, -EINVAL (NULL). Cost: one load when the var was never
 * bound anywhere; else a walk of the context's bindings (newest first). */
RF_API int rf_var_deref(rf_var *var, rf_val *out);

/* The root value, ignoring bindings. Returns 0, -EINVAL. */
RF_API int rf_var_root(rf_var *var, rf_val *out);

/* (alter-var-root var fn arg): root = fn(root, arg), atomically (fn runs once, under
 * the var's lock, so it must not alter this var's root itself). *out (may be NULL) = the
 * new root. Returns 0, -EINVAL, or fn's code (root unchanged). */
RF_API int rf_var_alter_root(rf_var *var, rf_update_fn fn, rf_val arg, rf_val *out);

/* (binding [var val] (body arg)): run body(arg, out) with var bound to val in the
 * calling context, then restore the previous binding. Returns body's return, or
 * RF_ENOTDYNAMIC (body not run), -EINVAL, -ENOMEM. out may be NULL. */
RF_API int rf_var_binding(rf_var *var, rf_val val, rf_body_fn body, rf_val arg, rf_val *out);

/* The same for n vars at once (bound in order; a later duplicate wins). */
RF_API int rf_var_bindings(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                           rf_val arg, rf_val *out);

/* (set! var val): change the calling context's innermost binding of var. Returns 0,
 * RF_ENOTBOUND (var not bound here), RF_ENOTBINDER (bound by the context that conveyed
 * it here, not by this one), -EINVAL. */
RF_API int rf_var_set(rf_var *var, rf_val val);

/* Unscoped binding, for code that cannot wrap a function around the scope: push binds
 * var to val (RF_ENOTDYNAMIC, -ENOMEM, -EINVAL); pop undoes the newest push of this
 * context, which must be of `var` (else -EINVAL, nothing popped). Pushes and pops must
 * pair up on every path, in the same fiber or thread. */
RF_API int rf_var_push_binding(rf_var *var, rf_val val);
RF_API int rf_var_pop_binding(rf_var *var);

/* (thread-bound? var): whether var is bound in the calling context. */
RF_API bool rf_var_thread_bound(rf_var *var);

/* Whether the var is dynamic. */
RF_API bool rf_var_is_dynamic(rf_var *var);

#ifdef __cplusplus
}
#endif
#endif
