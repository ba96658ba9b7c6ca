/* The tutorial's vector of results built by an agent: futures do the work and send each
 * result to one agent, which conj'es it onto its vector, one action at a time; await,
 * then read the whole vector.
 *
 *   (def results (agent []))
 *   (defn work [i] (* i i))
 *   (run! deref (doall (for [i (range 20)] (future (send results conj (work i))))))
 *   (await results)
 *   (count @results)             ;=> 20
 *   (reduce + @results)          ;=> 2470
 *
 * The agent owns its vector (rf_coll_release as its release function): conj makes the
 * next version and the agent gives up the one it replaces, and the last one when it is
 * freed. The value is read after await, when no action replaces it any more.
 */
#include <stdio.h>

#include <ringfold.h>

enum { N = 20 };

static rf_agent *results;

/* (future (send results conj (work i))) */
static int work_and_send(rf_val i, rf_val *out)
{
	return rf_agent_send(results, rf_pvec_conj_op, i * i);
}

int main(void)
{
	rf_pvec *empty;
	rf_pvec_new(NULL, &empty); /* [] */
	rf_agent_opts owning = {.size = sizeof(owning), .release = rf_coll_release};
	rf_agent_new(rf_from_ptr(empty), &owning, &results); /* (agent []) */

	rf_future *f[N];
	for (int i = 0; i < N; i++)
		rf_future_call(work_and_send, i, &f[i]);
	for (int i = 0; i < N; i++) {
		rf_val ignored;
		rf_deref(f[i], &ignored);
		rf_future_free(f[i]);
	}
	rf_agent_await(&results, 1); /* (await results) */

	rf_val v, sum = 0;
	rf_deref(results, &v); /* @results */
	rf_pvec *all = rf_to_ptr(v);
	rf_r_reduce(rf_r_pvec(all), rf_add, 0, &sum); /* (reduce + @results) */
	size_t n = rf_pvec_count(all);                /* (count @results) */
	printf("%zu results, sum %lld\n", n, (long long)sum);

	rf_agent_free(results); /* and the vector with it */
	rf_shutdown();
	return n == N && sum == 2470 ? 0 : 1;
}
