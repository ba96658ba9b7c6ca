/* The tutorial's threads:
 *
 *   (def thread (Thread. (fn [] (println 1 2 3))))
 *   (.start thread)
 *
 * A thread cannot be stopped from outside: it watches a signal, here a promise, and
 * stops when it is delivered. Its return value, which Java throws away, comes back
 * through the future rf_thread_start gives.
 */
#include <ringfold.h>
#include <stdio.h>

static int print_1_2_3(rf_val arg, rf_val *out)
{
	printf("%d %d %d\n", 1, 2, 3);
	return 0;
}

/* Works in rounds until the stop promise is delivered; returns how many rounds (at least
 * one, even if the thread starts after the stop). */
static int worker(rf_val stop_arg, rf_val *out)
{
	rf_promise *stop = rf_to_ptr(stop_arg);
	rf_val rounds = 0;
	do {
		rounds++;
		rf_val ignored;
		rf_deref_timeout(stop, 1, &ignored); /* a round of work, or the stop signal */
	} while (!rf_promise_realized(stop));
	*out = rounds;
	return 0;
}

int main(void)
{
	rf_future *thread;
	rf_thread_start(print_1_2_3, 0, &thread); /* created and started in one step */
	rf_val v;
	int printed = rf_deref(thread, &v);
	rf_future_free(thread);

	rf_promise *stop;
	rf_promise_new(&stop);
	rf_future *looping;
	rf_thread_start(worker, rf_from_ptr(stop), &looping);
	rf_val rounds;
	bool running = rf_deref_timeout(looping, 50, &rounds) == -ETIMEDOUT; /* still running */
	rf_promise_deliver(stop, true);                                      /* ask it to stop */
	int stopped = rf_deref(looping, &rounds);
	printf("stopped after %lld rounds\n", (long long)rounds);
	rf_future_free(looping);
	rf_promise_free(stop);
	return printed == 0 && running && stopped == 0 && rounds >= 1 ? 0 : 1;
}
