/* runtime/deref/pcalls.c: pcalls and pvalues, every task on its own future.
 *
 * Clojure's pcalls is a lazy seq over pmap (a few futures ahead of the reader); C has no
 * lazy seq to hand back, so every task starts at once and the call returns when all are
 * done: the caller sees the same values in the same order, and no task is left running
 * behind an error. No shared state beyond the futures, which the calling context owns.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ringfold/future.h"

int rf_pcalls(const rf_task *tasks, size_t n, rf_val *results, int *codes)
{
	if (n == 0)
		return 0;
	if (!tasks || !results || n > SIZE_MAX / sizeof(rf_future *))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!tasks[i].fn)
			return -EINVAL;
	rf_future **fs = malloc(n * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	int start_rc = 0;
	size_t started = 0;
	while (started < n && (start_rc = rf_future_call(tasks[started].fn, tasks[started].arg,
	                                                 &fs[started])) == 0)
		started++;
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		rf_val v;
		int rc = start_rc;
		if (i < started) {
			rc = rf_future_deref(fs[i], &v);
			rf_future_free(fs[i]);
		}
		if (rc == 0)
			results[i] = v;
		else if (!first)
			first = rc;
		if (codes)
			codes[i] = rc;
	}
	free(fs);
	return first;
}
