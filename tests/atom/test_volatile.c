/* tests/atom/test_volatile.c: volatiles: reset/deref/swap semantics and a flag written by
 * one thread seen by readers (with what was written before it). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"

static int fails(rf_val old, rf_val arg, rf_val *out)
{
	return -ENOSPC;
}

static void test_semantics(void **state)
{
	rf_volatile v, *h;
	rf_val x;
	assert_int_equal(rf_volatile_init(&v, 3), 0);
	assert_int_equal(rf_deref(&v, &x), 0);
	assert_int_equal(x, 3);
	assert_int_equal(rf_volatile_reset(&v, 10), 0);
	assert_int_equal(rf_volatile_swap(&v, rf_add, 5, &x), 0);
	assert_int_equal(x, 15);
	assert_int_equal(rf_volatile_swap(&v, fails, 0, &x), -ENOSPC);
	assert_int_equal(rf_deref(&v, &x), 0);
	assert_int_equal(x, 15);
	assert_int_equal(sizeof(rf_volatile), 8); /* no padding */
	assert_int_equal(rf_volatile_init(NULL, 0), -EINVAL);
	assert_int_equal(rf_volatile_deref(&v, NULL), -EINVAL);
	assert_int_equal(rf_volatile_reset(NULL, 0), -EINVAL);
	assert_int_equal(rf_volatile_swap(&v, NULL, 0, NULL), -EINVAL);
	assert_int_equal(rf_volatile_destroy(&v), 0);
	assert_int_equal(rf_volatile_destroy(NULL), -EINVAL);
	assert_int_equal(rf_volatile_new(7, &h), 0);
	assert_int_equal(rf_deref(h, &x), 0);
	assert_int_equal(x, 7);
	rf_volatile_free(h);
}

/* One writer publishes data then flips the flag; readers that see the flag see the data
 * (release store / acquire load). */
enum { READERS = 3, ROUNDS = 2000 };
static rf_volatile flag;
static long payload[ROUNDS + 1];

static void *flag_reader(void *arg)
{
	rf_val seen = 0, x;
	while (seen < ROUNDS) {
		RF_CHECK_EQ(rf_deref(&flag, &x), 0);
		RF_CHECK(x >= seen); /* one writer: never goes back */
		if (x > seen) {
			/* plain read, ordered by the acquire load of the flag */
			RF_CHECK_EQ(payload[x], x * 7);
			seen = x;
		}
	}
	return NULL;
}

static void test_flag_seen(void **state)
{
	pthread_t t[READERS];
	assert_int_equal(rf_volatile_init(&flag, 0), 0);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, flag_reader, NULL), 0);
	for (long r = 1; r <= ROUNDS; r++) {
		payload[r] = r * 7;
		assert_int_equal(rf_volatile_swap(&flag, rf_inc, 0, NULL), 0); /* pattern 3 */
	}
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_semantics),
	    cmocka_unit_test(test_flag_seen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
