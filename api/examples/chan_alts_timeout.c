/* alts with a timeout: wait for a slow answer, but no longer than 50 ms.
 *
 *   (let [slow (chan)]
 *     (go (<! (timeout 500)) (>! slow :late))
 *     (let [[v ch] (alts!! [slow (timeout 50)])]
 *       (if (= ch slow) v :timed-out)))            ;=> :timed-out
 * and the same with a fast answer, which wins. */
#include <stdio.h>

#include <ringfold.h>

static int answer_after(rf_val ms_and_chan, rf_val *out)
{
	rf_val *args = rf_to_ptr(ms_and_chan);
	rf_chan *t, *c = rf_to_ptr(args[1]);
	rf_val dummy;
	if (rf_chan_timeout(args[0], &t) < 0)
		return -ENOMEM;
	rf_chan_take(t, &dummy); /* (<! (timeout ms)) */
	rf_chan_release(t);
	rf_chan_put_timeout(c, 42, 1000); /* nobody may be listening any more */
	return 0;
}

/* Which came first: 1 = the answer, 0 = the timeout, -1 = error. */
static int race(int64_t answer_ms, int64_t timeout_ms)
{
	rf_chan *slow, *t, *proc;
	if (rf_chan_new(&slow) < 0)
		return -1;
	rf_val args[2] = {answer_ms, rf_from_ptr(slow)};
	if (rf_go(answer_after, rf_from_ptr(args), &proc) < 0 ||
	    rf_chan_timeout(timeout_ms, &t) < 0)
		return -1;
	rf_alt ops[] = {{.ch = slow}, {.ch = t}};
	int which;
	rf_val v;
	int rc = rf_alts(ops, 2, 0, &which, &v);
	rf_val ignored;
	rf_chan_take(proc, &ignored); /* let the answering process finish before args go */
	rf_chan_release(proc);
	rf_chan_release(t);
	rf_chan_release(slow);
	if (which == 0 && rc == 0 && v == 42)
		return 1;
	return which == 1 && rc == RF_ECLOSED ? 0 : -1;
}

int main(void)
{
	int late = race(500, 50), early = race(0, 2000);
	printf("slow answer vs 50 ms timeout: %s\n", late == 0 ? ":timed-out" : "answer?!");
	printf("fast answer vs 2 s timeout:   %s\n", early == 1 ? "42" : "timed out?!");
	return late == 0 && early == 1 ? 0 : 1;
}
