/* runtime/var/redefs.c: with-redefs: roots changed for the duration of a body, for every
 * context, and put back whatever the body returns.
 *
 * As Clojure's with-redefs-fn: each root is set as alter-var-root sets it (validated,
 * watches fired), the body runs, and the old roots are set back, also with the watches.
 * A var given twice takes its last value and is restored once. Nothing is locked across
 * the body: a change another context makes meanwhile is overwritten by the restore, as
 * in Clojure.
 */
#include <stdlib.h>

#include "runtime/var/var_impl.h"

/* Up to this many vars, the old roots live on the stack. */
enum { REDEFS_ON_STACK = 8 };

/* Whether vars[i] appears again later (the later one is the one set). */
static bool superseded(size_t n, rf_var *const vars[], size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (vars[j] == vars[i])
			return true;
	return false;
}

/* Put back the roots of vars[0, end) that were set, newest first; the first watch code. */
static int restore(size_t end, rf_var *const vars[], const rf_val olds[], const bool set[])
{
	int first = 0;
	for (size_t i = end; i-- > 0;) {
		if (!set[i])
			continue;
		/* trusted: it was the root; a validator installed since must not strand the
		 * redefinition */
		int rc = var_change_root(vars[i], NULL, olds[i], true, NULL, NULL, NULL);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

int rf_var_with_redefs(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                       rf_val arg, rf_val *out)
{
	rf_val dummy;
	int rc = var_check_many(n, vars, vals, body, out);
	if (rc)
		return rc;
	rf_val olds_stack[REDEFS_ON_STACK], *olds = olds_stack;
	bool set_stack[REDEFS_ON_STACK], *set = set_stack;
	if (n > REDEFS_ON_STACK) {
		olds = malloc(n * sizeof(*olds));
		set = malloc(n * sizeof(*set));
		if (!olds || !set) {
			free(olds);
			free(set);
			return -ENOMEM;
		}
	}
	size_t done = 0;
	for (; done < n; done++) {
		set[done] = false;
		if (superseded(n, vars, done))
			continue;
		rc = var_change_root(vars[done], NULL, vals[done], false, &olds[done], NULL,
		                     &set[done]);
		if (rc)
			break;
	}
	if (rc) { /* body not run; a watch's code leaves its var set: put back all set */
		restore(done + 1, vars, olds, set);
	} else {
		rc = body(arg, out ? out : &dummy);
		int wrc = restore(n, vars, olds, set);
		if (!rc)
			rc = wrc;
	}
	if (olds != olds_stack) {
		free(olds);
		free(set);
	}
	return rc;
}
