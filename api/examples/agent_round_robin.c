/* The tutorial's ten agents summing one million numbers round-robin:
 *
 *   (def sums (map agent (repeat 10 0)))
 *   (def numbers (range 1000000))
 *   (doseq [[x agent] (map vector numbers (cycle sums))]
 *     (send agent + x))
 *   (apply await-for 10000 sums)
 *   (println (apply + (map deref sums)))
 */
#include <stdio.h>

#include <ringfold.h>

int main(void)
{
	rf_agent *sums[10];
	for (int i = 0; i < 10; i++)
		if (rf_agent_new(0, NULL, &sums[i]))
			return 1;
	for (rf_val x = 0; x < 1000000; x++)
		if (rf_agent_send(sums[x % 10], rf_add, x))
			return 1;
	if (rf_agent_await_for(sums, 10, 10000))
		return 1; /* await-for returned false */
	rf_val total = 0, v;
	for (int i = 0; i < 10; i++) {
		rf_deref(sums[i], &v);
		total += v;
	}
	printf("%lld\n", (long long)total);
	for (int i = 0; i < 10; i++)
		rf_agent_free(sums[i]);
	rf_shutdown();
	return total == 499999500000 ? 0 : 1;
}
