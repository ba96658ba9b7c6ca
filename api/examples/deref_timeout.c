/* The tutorial's "a word about deref":
 *
 *   (realized? the-answer)
 *   ;; wait four seconds; if we don't have an answer by then, :cheeseburger
 *   (deref the-answer 4000 :cheeseburger)
 *
 * Here nobody ever delivers, so after the wait the default comes back, and the result
 * -ETIMEDOUT says it is the default rather than a delivered value that happens to equal
 * it. (The wait is shortened to 400 ms to keep the test suite quick.)
 */
#include <ringfold.h>
#include <stdio.h>

#define CHEESEBURGER ((rf_val)0xc4ee5eb)

int main(void)
{
	rf_promise *the_answer;
	rf_promise_new(&the_answer);
	bool realized = rf_promise_realized(the_answer); /* anything in the box yet? */
	rf_val v;
	int timed_out = rf_deref_default(the_answer, 400, CHEESEBURGER, &v) == -ETIMEDOUT;
	puts(v == CHEESEBURGER ? ":cheeseburger" : "an answer");
	/* once delivered, the same deref returns the answer at once */
	rf_promise_deliver(the_answer, 42);
	rf_val w;
	int rc = rf_deref_default(the_answer, 4000, CHEESEBURGER, &w);
	rf_promise_free(the_answer);
	return !realized && timed_out && v == CHEESEBURGER && rc == 0 && w == 42 ? 0 : 1;
}
