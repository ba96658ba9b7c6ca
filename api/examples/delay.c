/* The tutorial's delay:
 *
 *   (def the-answer (delay (* 100 (long-calculation 45))))
 *   (when need-the-answer? (println (deref the-answer)))
 *
 *   (def resource (delay (initialize-shared-resource)))
 *   (dotimes [x 100] (doto (Thread. (fn [] (let [resource @resource] ...))) .start))
 *
 * The body runs zero times if nobody derefs, and once however many threads do.
 */
#include <ringfold.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic int calculations;

static int long_calculation(rf_val n, rf_val *out)
{
	atomic_fetch_add(&calculations, 1);
	rf_val a = 0, b = 1;
	for (rf_val i = 0; i < n; i++) {
		rf_val t = a + b;
		a = b;
		b = t;
	}
	*out = 100 * a;
	return 0;
}

static rf_delay *resource;

static int use_resource(rf_val arg, rf_val *out)
{
	return rf_deref(resource, out);
}

int main(void)
{
	rf_delay *the_answer;
	rf_delay_new(long_calculation, 45, &the_answer);
	/* that long calculation has not been done at this point */
	if (atomic_load(&calculations) != 0)
		return 1;
	bool need_the_answer = true;
	rf_val v = 0;
	if (need_the_answer) {
		rf_deref(the_answer, &v); /* the thread blocks until the answer is calculated */
		printf("%lld\n", (long long)v);
	}
	rf_delay_free(the_answer);

	/* start 100 threads that use the resource */
	rf_delay_new(long_calculation, 10, &resource);
	rf_future *threads[100];
	for (int x = 0; x < 100; x++)
		rf_thread_start(use_resource, 0, &threads[x]);
	int ok = 0;
	for (int x = 0; x < 100; x++) {
		rf_val r;
		ok += rf_deref(threads[x], &r) == 0 && r == 5500;
		rf_future_free(threads[x]);
	}
	rf_delay_free(resource);
	/* only one of those threads initialized it */
	return v == 113490317000 && ok == 100 && atomic_load(&calculations) == 2 ? 0 : 1;
}
