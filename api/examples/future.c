/* The tutorial's future:
 *
 *   (def the-answer (future ;; do a lot of work in a new thread ... then
 *                     42))
 *   (println (deref the-answer))
 *
 *   (def f (future (throw (Exception. "Hello from the future!"))))
 *   (deref f) ;; this will throw the Exception
 *
 * The body runs as a fiber on ringfold's executor; its failure is kept and handed to
 * whoever derefs, every time.
 */
#include <ringfold.h>
#include <stdio.h>

static int a_lot_of_work(rf_val arg, rf_val *out)
{
	*out = 42; /* the value of the last expression is delivered */
	return 0;
}

static int hello_from_the_future(rf_val arg, rf_val *out)
{
	return -EPROTO;
}

int main(void)
{
	rf_future *the_answer, *f;
	if (rf_future_call(a_lot_of_work, 0, &the_answer) < 0)
		return 1;
	/* in the main thread, do some work, then get the answer */
	rf_val v;
	rf_deref(the_answer, &v);
	printf("%lld\n", (long long)v);

	rf_future_call(hello_from_the_future, 0, &f); /* the error is stored in the future */
	rf_val ignored;
	int first = rf_deref(f, &ignored); /* deref "throws": returns the body's code */
	int second = rf_deref(f, &ignored);
	printf("%s\n", rf_strerror(first));
	rf_future_free(f);
	rf_future_free(the_answer);
	return v == 42 && first == -EPROTO && second == -EPROTO ? 0 : 1;
}
