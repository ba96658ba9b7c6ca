/* tests/persistent/pvec_iota.h: the check that a vector holds 0, 1, ... n - 1 and nothing
 * else. */
#ifndef RF_TESTS_PVEC_IOTA_H
#define RF_TESTS_PVEC_IOTA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ringfold.h"

static inline void assert_pvec_iota(const rf_pvec *v, size_t n)
{
	assert_int_equal(rf_pvec_count(v), n);
	for (size_t i = 0; i < n; i++) {
		rf_val x;
		assert_int_equal(rf_pvec_nth(v, i, &x), 0);
		assert_int_equal(x, (rf_val)i);
	}
}

#endif
