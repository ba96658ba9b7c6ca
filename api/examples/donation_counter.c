/* The tutorial's atom donation counter: nine people collect money and add it to one atom; a
 * tenth tweets the running total, which is always a valid count (a sum of some subset of
 * the donations), never a half-written number.
 *
 *   (def donation-count (atom 0))
 *   (dotimes [_ 9]
 *     (doto (Thread. (fn [] (Thread/sleep 3000) (swap! donation-count inc) ...)) .start))
 *   (doto (Thread. (fn [] (Thread/sleep 100000)
 *                    (tweet (str "We collected $" @donation-count " total!")))) .start)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <ringfold.h>

enum { COLLECTORS = 9, DONATIONS = 2000 };

static rf_atom donation_count;

static void sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static void *collector(void *arg)
{
	for (int i = 0; i < DONATIONS; i++) {
		if (i % 500 == 0)
			sleep_us(100);                          /* go collect $1 */
		rf_atom_swap(&donation_count, rf_inc, 0, NULL); /* (swap! donation-count inc) */
	}
	/* and sometimes $10: (swap! donation-count + 10) */
	rf_atom_swap(&donation_count, rf_add, 10, NULL);
	return NULL;
}

static _Atomic int collecting = COLLECTORS;
static int bad_tweets;

static void *tweeter(void *arg)
{
	rf_val last = 0, now;
	do {
		sleep_us(200);
		rf_deref(&donation_count, &now);
		/* every value seen is a valid count: it only grows and never passes the total */
		if (now < last || now > COLLECTORS * (DONATIONS + 10))
			bad_tweets++;
		last = now;
		printf("We collected $%lld so far!\n", (long long)now);
	} while (atomic_load(&collecting) > 0);
	return NULL;
}

int main(void)
{
	pthread_t c[COLLECTORS], t;
	rf_atom_init(&donation_count, 0); /* (def donation-count (atom 0)) */
	pthread_create(&t, NULL, tweeter, NULL);
	for (int i = 0; i < COLLECTORS; i++)
		pthread_create(&c[i], NULL, collector, NULL);
	for (int i = 0; i < COLLECTORS; i++) {
		pthread_join(c[i], NULL);
		atomic_fetch_sub(&collecting, 1);
	}
	pthread_join(t, NULL);
	rf_val total;
	rf_deref(&donation_count, &total);
	printf("We collected a total of $%lld!!\n", (long long)total);
	long expect = COLLECTORS * (DONATIONS + 10);
	if (total != expect || bad_tweets) {
		fprintf(stderr, "wrong: total %lld, expected %ld; %d bad tweets\n",
		        (long long)total, expect, bad_tweets);
		return 1;
	}
	rf_atom_destroy(&donation_count);
	return 0;
}
