/* The tutorial's humidity sensors, both safe patterns of a volatile.
 *
 * Pattern 2 (n writers, m readers; writers only vreset!):
 *   (def latest-humidity (volatile! nil))
 *   (dotimes [sensor-id 10] (Thread. (fn [] (while true (Thread/sleep 5000)
 *                              (vreset! latest-humidity (read-sensor sensor-id))))))
 *   (Thread. (fn [] (while true (Thread/sleep 1000)
 *                     (println "Latest humidity reading" @latest-humidity))))
 *
 * Pattern 3 (one writer that may also read, m readers):
 *   (def highest-humidity (volatile! Long/MIN_VALUE))
 *   (Thread. (fn [] (while true (Thread/sleep 5000)
 *                     (dotimes [sensor-id 10]
 *                       (vswap! highest-humidity max (read-sensor sensor-id))))))
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <ringfold.h>

enum { SENSORS = 10, READINGS = 200 };

/* Reading r of sensor s: a made-up humidity in per-mille, unique per (s, r). */
static rf_val read_sensor(int s, int r)
{
	return (rf_val)(r * 37 % 1000) * 100 + s;
}

static void sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static rf_volatile latest_humidity, highest_humidity;
static _Atomic int writing;
static int bad;

static void *sensor_thread(void *arg) /* pattern 2: a writer never reads */
{
	int id = (int)(intptr_t)arg;
	for (int r = 0; r < READINGS; r++) {
		sleep_us(50);
		rf_volatile_reset(&latest_humidity, read_sensor(id, r));
	}
	atomic_fetch_sub(&writing, 1);
	return NULL;
}

static void *max_thread(void *arg) /* pattern 3: the only writer may vswap */
{
	for (int r = 0; r < READINGS; r++) {
		sleep_us(50);
		for (int id = 0; id < SENSORS; id++)
			rf_volatile_swap(&highest_humidity, rf_max, read_sensor(id, r), NULL);
	}
	atomic_fetch_sub(&writing, 1);
	return NULL;
}

static void *poller(void *arg)
{
	int printed = 0;
	rf_val last_high = INT64_MIN;
	while (atomic_load(&writing) > 0) {
		sleep_us(200);
		rf_val latest, high;
		rf_deref(&latest_humidity, &latest);
		rf_deref(&highest_humidity, &high);
		/* every value read is one some sensor produced; the maximum never goes down */
		if (latest != -1 && (latest % 100 >= SENSORS || latest < 0))
			bad++;
		if (high < last_high)
			bad++;
		last_high = high;
		if (printed++ < 3)
			printf("Latest humidity reading %lld, highest %lld\n", (long long)latest,
			       (long long)high);
	}
	return NULL;
}

int main(void)
{
	pthread_t s[SENSORS], m, p;
	rf_volatile_init(&latest_humidity, -1);         /* (volatile! nil) */
	rf_volatile_init(&highest_humidity, INT64_MIN); /* (volatile! Long/MIN_VALUE) */
	atomic_store(&writing, SENSORS + 1);
	pthread_create(&p, NULL, poller, NULL);
	for (int i = 0; i < SENSORS; i++)
		pthread_create(&s[i], NULL, sensor_thread, (void *)(intptr_t)i);
	pthread_create(&m, NULL, max_thread, NULL);
	for (int i = 0; i < SENSORS; i++)
		pthread_join(s[i], NULL);
	pthread_join(m, NULL);
	pthread_join(p, NULL);

	rf_val latest, high, expect = INT64_MIN;
	for (int id = 0; id < SENSORS; id++)
		for (int r = 0; r < READINGS; r++)
			if (read_sensor(id, r) > expect)
				expect = read_sensor(id, r);
	rf_deref(&latest_humidity, &latest);
	rf_deref(&highest_humidity, &high);
	printf("Latest humidity reading %lld\nHighest humidity reading %lld\n", (long long)latest,
	       (long long)high);
	/* the last value written is some sensor's last reading; the maximum is exact */
	if (bad || high != expect || latest != read_sensor((int)(latest % 100), READINGS - 1)) {
		fprintf(stderr, "wrong: bad=%d high=%lld expect=%lld latest=%lld\n", bad,
		        (long long)high, (long long)expect, (long long)latest);
		return 1;
	}
	return 0;
}
