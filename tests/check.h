/* tests/check.h: the one check for code that runs off the test's own thread.
 *
 * cmocka's assert_* longjmp back to the test function, which is only defined on the
 * thread that runs the test: from another thread, a fiber or a fork/join task a failed
 * assert would jump onto a foreign stack. RF_CHECK works from any thread or fiber: a
 * failed check prints file, line and the condition and aborts, which fails the test.
 * RF_CHECK_EQ also prints both values (as long long).
 */
#ifndef RF_TESTS_CHECK_H
#define RF_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn, cold)) static inline void rf_check_failed(const char *file, int line,
                                                                   const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	fflush(stderr);
	abort();
}

#define RF_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			rf_check_failed(__FILE__, __LINE__, #cond);                                \
	} while (0)

#define RF_CHECK_EQ(a, b)                                                                          \
	do {                                                                                       \
		long long rf_check_a_ = (long long)(a), rf_check_b_ = (long long)(b);              \
		if (rf_check_a_ != rf_check_b_) {                                                  \
			fprintf(stderr, "%s:%d: %lld != %lld\n", __FILE__, __LINE__, rf_check_a_,  \
			        rf_check_b_);                                                      \
			rf_check_failed(__FILE__, __LINE__, #a " == " #b);                         \
		}                                                                                  \
	} while (0)

#endif
