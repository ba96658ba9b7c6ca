/* The tutorial's volatile stop flag: one thread tells another to stop looping.
 *
 *   (def keep-running? (volatile! true))
 *   (def thread1 (Thread. (fn [] (Thread/sleep 10000) (vreset! keep-running? false))))
 *   (def thread2 (Thread. (fn [] (while @keep-running?
 *                                  (Thread/sleep 1000)
 *                                  (println "Still running!")))))
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <ringfold.h>

static rf_volatile keep_running;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void *thread1(void *arg)
{
	sleep_ms(50);
	rf_volatile_reset(&keep_running, false); /* (vreset! keep-running? false) */
	return NULL;
}

static int loops;

static void *thread2(void *arg)
{
	rf_val running;
	while (rf_deref(&keep_running, &running), running) { /* (while @keep-running? ...) */
		sleep_ms(5);
		if (loops++ < 3)
			printf("Still running!\n");
	}
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	rf_volatile_init(&keep_running, true); /* (def keep-running? (volatile! true)) */
	pthread_create(&t2, NULL, thread2, NULL);
	pthread_create(&t1, NULL, thread1, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL); /* returns only because thread2 saw the flag */
	printf("thread2 stopped after %d loops\n", loops);
	return loops > 0 ? 0 : 1;
}
