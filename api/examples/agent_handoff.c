/* The tutorial's hand-off queue: ten summing agents pull numbers from a numbers agent
 * when they are ready for more, instead of round-robin.
 *
 *   (def sums (map agent (repeat 10 0)))
 *   (def numbers (agent (range 1000000)))
 *   (defn dequeue-and-add [sum-agent]
 *     (letfn [(add [current-sum x]
 *               (let [new-sum (+ current-sum x)]
 *                 (send numbers dequeue)
 *                 new-sum))
 *             (dequeue [xs]
 *               (when (not (empty? xs))
 *                 (send sum-agent add (first xs)))
 *               (rest xs))]
 *       (send numbers dequeue)))
 *   (doseq [sum-agent sums] (dequeue-and-add sum-agent))
 *   (loop [] (when (seq @numbers) (Thread/sleep 1000) (recur)))
 *   (println (apply + (map deref sums)))
 *
 * The numbers agent holds the range as the next number to hand out (the range's first
 * element; it ends at COUNT). dequeue receives its summing agent as its argument; add
 * finds itself through *agent* (rf_agent_self).
 */
#include <stdio.h>
#include <time.h>

#include <ringfold.h>

enum { COUNT = 1000000 };

static rf_agent *numbers;

static int dequeue(rf_val xs, rf_val sum_agent, rf_val *rest);

static int add(rf_val current_sum, rf_val x, rf_val *new_sum)
{
	*new_sum = current_sum + x;
	return rf_agent_send(numbers, dequeue, rf_from_ptr(rf_agent_self()));
}

static int dequeue(rf_val xs, rf_val sum_agent, rf_val *rest)
{
	if (xs < COUNT) {
		int rc = rf_agent_send(rf_to_ptr(sum_agent), add, xs);
		if (rc)
			return rc;
		*rest = xs + 1;
	} else {
		*rest = xs;
	}
	return 0;
}

int main(void)
{
	rf_agent *sums[10];
	for (int i = 0; i < 10; i++)
		if (rf_agent_new(0, NULL, &sums[i]))
			return 1;
	if (rf_agent_new(0, NULL, &numbers))
		return 1;
	for (int i = 0; i < 10; i++)
		if (rf_agent_send(numbers, dequeue, rf_from_ptr(sums[i])))
			return 1;

	/* Wait for the numbers to be cleared from the queue, with a timeout as the tutorial
	 * advises (60 s). */
	rf_val xs;
	for (int waited = 0; rf_deref(numbers, &xs) == 0 && xs < COUNT; waited++) {
		if (waited == 60000 || rf_agent_error(numbers))
			return 1;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	/* The last adds were sent by the last dequeues: await those, then the adds. */
	if (rf_agent_await(&numbers, 1) || rf_agent_await(sums, 10))
		return 1;

	rf_val total = 0, v;
	for (int i = 0; i < 10; i++) {
		rf_deref(sums[i], &v);
		total += v;
	}
	printf("%lld\n", (long long)total);
	/* Each add sent one more dequeue (finding the range empty): let those run, then
	 * nothing is left to do and the agents can go. */
	if (rf_agent_await(&numbers, 1))
		return 1;
	for (int i = 0; i < 10; i++)
		rf_agent_free(sums[i]);
	rf_agent_free(numbers);
	rf_shutdown();
	return total == 499999500000 ? 0 : 1;
}
