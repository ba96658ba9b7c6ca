/* The tutorial's refs example: nine people collect donations, recording the total and
 * the count in one transaction, while one person tweets the total and another the
 * average, computed in a transaction so that total and count belong together.
 *
 *   (def total-donations (ref 0))
 *   (def count-donations (ref 0))
 *   (dotimes [_ 9] (doto (Thread. (fn [] (dosync (alter total-donations + 10)
 *                                                (alter count-donations inc)))) .start))
 *   (tweet (str "We collected $" @total-donations " total!"))
 *   (when (pos? @count-donations)
 *     (tweet (str "Average donation: $" (double (dosync (/ @total-donations
 *                                                          @count-donations))))))
 *
 * Checks its own answer: every average seen is exactly $10, the final total is
 * 9 * ROUNDS * $10, and the count matches. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include <ringfold.h>

#define COLLECTORS 9
#define ROUNDS 20000

static rf_ref *total_donations, *count_donations;
static atomic_int collecting = COLLECTORS;

/* (dosync (alter total-donations + 10) (alter count-donations inc)) */
static int record_donation(rf_val amount, rf_val *out)
{
	int rc = rf_ref_alter(total_donations, rf_add, amount, NULL);
	return rc ? rc : rf_ref_alter(count_donations, rf_inc, 0, NULL);
}

static void *collector(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) /* go collect $10 ... then record it */
		if (rf_dosync(record_donation, 10, NULL))
			return (void *)1;
	atomic_fetch_sub(&collecting, 1);
	return NULL;
}

/* (dosync (/ @total-donations @count-donations)), in cents to stay exact */
static int average_cents(rf_val arg, rf_val *out)
{
	rf_val total, count;
	int rc;
	if ((rc = rf_deref(total_donations, &total)) || (rc = rf_deref(count_donations, &count)))
		return rc;
	*out = count ? total * 100 / count : 0;
	return 0;
}

static void *average_tweeter(void *arg)
{
	long tweets = 0, wrong = 0;
	do {
		rf_val count, cents;
		rf_deref(count_donations, &count);
		if (count > 0) { /* (when (pos? @count-donations) ...) */
			if (rf_dosync(average_cents, 0, &cents) || cents != 1000)
				wrong++;
			tweets++;
		}
	} while (atomic_load(&collecting) > 0);
	printf("average tweeter: %ld tweets of \"Average donation: $10.0\", %ld wrong\n", tweets,
	       wrong);
	return wrong ? (void *)1 : NULL;
}

int main(void)
{
	if (rf_ref_new(0, &total_donations) || rf_ref_new(0, &count_donations))
		return 1;
	pthread_t people[COLLECTORS], tweeter;
	void *failed = NULL, *r;
	pthread_create(&tweeter, NULL, average_tweeter, NULL);
	for (int i = 0; i < COLLECTORS; i++)
		pthread_create(&people[i], NULL, collector, NULL);
	for (int i = 0; i < COLLECTORS; i++) {
		pthread_join(people[i], &r);
		failed = failed ? failed : r;
	}
	pthread_join(tweeter, &r);
	failed = failed ? failed : r;

	rf_val total, count;
	rf_deref(total_donations, &total);
	rf_deref(count_donations, &count);
	printf("We collected $%lld total! (%lld donations)\n", (long long)total, (long long)count);
	rf_ref_free(total_donations);
	rf_ref_free(count_donations);
	return failed || total != COLLECTORS * ROUNDS * 10 || count != COLLECTORS * ROUNDS;
}
