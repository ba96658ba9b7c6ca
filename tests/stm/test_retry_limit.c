/* Retry limit: a transaction that conflicts on every attempt ends with RF_ERETRYLIMIT
 * after exactly the configured number of attempts, leaving its refs untouched. The
 * runtime is started with a small limit (rf_config.stm_retry_limit), so this test has
 * its own binary. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/stm/tx.h"

#define LIMIT 40

static rf_ref *r;
static sem_t go, done;
static _Atomic int stop;
static int attempts;

static int bump(rf_val arg, rf_val *out)
{
	return rf_ref_alter(r, rf_inc, 0, NULL);
}

/* The rival: one commit to r each time it is asked. */
static void *rival(void *arg)
{
	for (;;) {
		sem_wait(&go);
		if (atomic_load(&stop))
			return NULL;
		rf_dosync(bump, 0, NULL);
		sem_post(&done);
	}
}

/* Reads r, lets the rival commit to it, then alters it: always a conflict. */
static int doomed(rf_val arg, rf_val *out)
{
	rf_val v;
	int rc = rf_ref_deref(r, &v);
	if (rc)
		return rc;
	attempts++;
	sem_post(&go);
	sem_wait(&done);
	return rf_ref_alter(r, rf_add, 1000, NULL);
}

static void retry_limit_reached(void **state)
{
	pthread_t t;
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	assert_int_equal(rf_ref_new(0, &r), 0);
	pthread_create(&t, NULL, rival, NULL);
	uint64_t c0, r0, c1, r1;
	stm_stats(&c0, &r0);
	assert_int_equal(rf_dosync(doomed, 0, NULL), RF_ERETRYLIMIT);
	stm_stats(&c1, &r1);
	assert_int_equal(attempts, LIMIT);
	assert_int_equal(r1 - r0, LIMIT);
	assert_int_equal(c1 - c0, LIMIT); /* the rival's commits */
	rf_val v;
	assert_int_equal(rf_ref_deref(r, &v), 0);
	assert_int_equal(v, LIMIT); /* none of ours */
	atomic_store(&stop, 1);
	sem_post(&go);
	pthread_join(t, NULL);
	rf_ref_free(r);
	sem_destroy(&go);
	sem_destroy(&done);
}

int main(void)
{
	rf_config cfg;
	if (rf_config_default(&cfg) || (cfg.stm_retry_limit = LIMIT, rf_init(&cfg)))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(retry_limit_reached),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
