/* The tutorial's ExecutorService:
 *
 *   (def service (Executors/newFixedThreadPool 4))
 *   (def f (.submit service (fn [] ;; do some work
 *                             ...)))
 *   (println @f)
 */
#include <ringfold.h>
#include <stdio.h>

static int some_work(rf_val n, rf_val *out)
{
	rf_val sum = 0;
	for (rf_val i = 1; i <= n; i++)
		sum += i;
	*out = sum;
	return 0;
}

int main(void)
{
	rf_executor *service;
	rf_executor_new(4, &service); /* a thread pool with 4 threads */
	rf_future *f;
	rf_executor_submit(service, some_work, 100, &f); /* submit a task, keep the Future */
	rf_val v;
	rf_deref(f, &v); /* block on the Future */
	printf("%lld\n", (long long)v);
	rf_future_free(f);

	/* invokeAll, then shutdown: accepted tasks still run, new ones are refused */
	rf_task tasks[3] = {{some_work, 10}, {some_work, 20}, {some_work, 30}};
	rf_future *all[3];
	rf_executor_invoke_all(service, tasks, 3, all);
	rf_val total = 0;
	for (int i = 0; i < 3; i++) {
		rf_val r;
		rf_deref(all[i], &r);
		total += r;
		rf_future_free(all[i]);
	}
	rf_executor_shutdown(service);
	int refused = rf_executor_submit(service, some_work, 1, NULL);
	int terminated = rf_executor_await_termination(service, 10000);
	rf_executor_free(service);
	return v == 5050 && total == 55 + 210 + 465 && refused == RF_ESHUTDOWN && terminated == 0
	           ? 0
	           : 1;
}
