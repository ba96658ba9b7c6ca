/* The tutorial's single-agent sum:
 *
 *   (def sum (agent 0))
 *   (def numbers [0 9 3 4 5 5 4 44 4 2 5 6 7 775])
 *   (doseq [x numbers] (send sum + x))
 *   (await sum)
 *   (println @sum)
 */
#include <stdio.h>

#include <ringfold.h>

int main(void)
{
	rf_agent *sum;
	if (rf_agent_new(0, NULL, &sum))
		return 1;
	const rf_val numbers[] = {0, 9, 3, 4, 5, 5, 4, 44, 4, 2, 5, 6, 7, 775};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (rf_agent_send(sum, rf_add, numbers[i]))
			return 1;
	if (rf_agent_await(&sum, 1))
		return 1;
	rf_val v;
	rf_deref(sum, &v);
	printf("%lld\n", (long long)v);
	rf_agent_free(sum);
	rf_shutdown();
	return v == 873 ? 0 : 1;
}
