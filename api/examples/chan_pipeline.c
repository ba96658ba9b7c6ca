/* A pipeline: square the numbers 0..99 on 4 go processes; results come out in order.
 *
 *   (let [in (to-chan! (range 100)) out (chan)]
 *     (pipeline 4 out (map #(* % %)) in)
 *     (<!! (async/into [] out)))                   ;=> [0 1 4 9 ... 9801]
 */
#include <stdio.h>
#include <stdlib.h>

#include <ringfold.h>

static int square(rf_val x, rf_val *out)
{
	*out = x * x;
	return 0;
}

int main(void)
{
	rf_val numbers[100];
	for (int i = 0; i < 100; i++)
		numbers[i] = i;
	rf_chan *in, *out, *all;
	rf_xform sq = rf_xform_map(square);
	if (rf_to_chan(numbers, 100, &in) < 0 || rf_chan_new(&out) < 0 ||
	    rf_pipeline(4, out, &sq, in, true) < 0 || rf_chan_into(out, &all) < 0)
		return 1;
	rf_val v;
	if (rf_chan_take(all, &v) < 0)
		return 1;
	rf_vals *squares = rf_to_ptr(v);
	int ok = squares->n == 100;
	for (size_t i = 0; ok && i < squares->n; i++)
		ok = squares->v[i] == (rf_val)(i * i);
	printf("[%lld %lld %lld ... %lld], %zu values, in order: %s\n", (long long)squares->v[0],
	       (long long)squares->v[1], (long long)squares->v[2], (long long)squares->v[99],
	       squares->n, ok ? "yes" : "no");
	free(squares);
	rf_chan_release(all);
	rf_chan_release(out);
	rf_chan_release(in);
	return ok ? 0 : 1;
}
