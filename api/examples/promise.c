/* The tutorial's promise:
 *
 *   (def the-answer (promise))
 *   (doto (Thread. (fn [] ;; do a lot of work, then deliver on your promise
 *                    (deliver the-answer 42))) .start)
 *   (println (deref the-answer))
 *
 * Each promise gets one answer: a second deliver changes nothing.
 */
#include <ringfold.h>
#include <stdio.h>

static rf_promise *the_answer;

static int worker(rf_val arg, rf_val *out)
{
	/* do a lot of work ... then deliver on your promise */
	rf_promise_deliver(the_answer, 42);
	return 0;
}

int main(void)
{
	rf_promise_new(&the_answer);
	rf_thread_start(worker, 0, NULL);
	/* in the original thread, do your own work, then get the answer (blocks) */
	rf_val v;
	rf_deref(the_answer, &v);
	printf("%lld\n", (long long)v);
	int again = rf_promise_deliver(the_answer, 43); /* can't be delivered again */
	rf_val still;
	rf_deref(the_answer, &still);
	rf_promise_free(the_answer);
	return v == 42 && again == RF_EDELIVERED && still == 42 ? 0 : 1;
}
