/* The tutorial's pmap: a parallel map, in order; and its lazy form, which keeps just a
 * few results ahead of the consumer.
 *
 *   (vec (pmap slow-inc (range 32)))
 *   (take 5 (pmap slow-inc (range 32)))
 */
#include <ringfold.h>
#include <stdio.h>
#include <time.h>

static int slow_inc(rf_val x, rf_val unused, rf_val *out) /* computationally intensive */
{
	struct timespec ts = {0, 1000000}; /* 1 ms */
	nanosleep(&ts, NULL);
	*out = x + 1;
	return 0;
}

int main(void)
{
	enum { N = 32 };
	rf_val xs[N], ys[N];
	for (int i = 0; i < N; i++)
		xs[i] = i;
	int rc = rf_pmap(xs, N, slow_inc, 0, ys);
	for (int i = 0; i < N; i++)
		if (rc || ys[i] != i + 1) {
			fprintf(stderr, "pmap wrong at %d: %s\n", i, rf_strerror(rc));
			return 1;
		}
	printf("(vec (pmap slow-inc (range 32))) = [%lld ... %lld]\n", (long long)ys[0],
	       (long long)ys[N - 1]);

	rf_pmap_stream *s;
	if ((rc = rf_pmap_stream_new(xs, N, slow_inc, 0, 0, &s)) != 0)
		return 1;
	printf("(take 5 (pmap slow-inc (range 32))) = (");
	for (int i = 0; i < 5; i++) {
		rf_val y;
		if (rf_pmap_stream_next(s, &y) != 0 || y != i + 1)
			return 1;
		printf(i ? " %lld" : "%lld", (long long)y);
	}
	printf(")\n");
	rf_pmap_stream_free(s); /* the few computed ahead are waited for, then dropped */
	return 0;
}
