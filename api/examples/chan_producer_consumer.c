/* Producer/consumer: one go process produces work items, three consume them through an
 * unbuffered channel; every item is handled exactly once.
 *
 *   (let [c (chan)]
 *     (go (doseq [i (range 1000)] (>! c i)) (close! c))
 *     (let [workers (doall (for [_ (range 3)]
 *                            (go (loop [n 0] (if-some [v (<! c)] (recur (+ n v)) n)))))]
 *       (reduce + (map <!! workers))))
 */
#include <stdio.h>

#include <ringfold.h>

enum { ITEMS = 1000, WORKERS = 3 };

static int produce(rf_val c, rf_val *out)
{
	for (rf_val i = 0; i < ITEMS; i++)
		rf_chan_put(rf_to_ptr(c), i);
	rf_chan_close(rf_to_ptr(c));
	return 0;
}

static int consume(rf_val c, rf_val *total)
{
	rf_val v;
	while (rf_chan_take(rf_to_ptr(c), &v) == 0)
		*total += v;
	return 0;
}

int main(void)
{
	rf_chan *c, *p, *workers[WORKERS];
	if (rf_chan_new(&c) < 0 || rf_go(produce, rf_from_ptr(c), &p) < 0)
		return 1;
	for (int i = 0; i < WORKERS; i++)
		if (rf_go(consume, rf_from_ptr(c), &workers[i]) < 0)
			return 1;
	rf_val total = 0, part;
	for (int i = 0; i < WORKERS; i++) {
		if (rf_chan_take(workers[i], &part) < 0) /* <!! */
			return 1;
		total += part;
		rf_chan_release(workers[i]);
	}
	rf_chan_release(p);
	rf_chan_release(c);
	printf("%d items through %d consumers: total %lld\n", ITEMS, WORKERS, (long long)total);
	return total == (rf_val)ITEMS * (ITEMS - 1) / 2 ? 0 : 1;
}
