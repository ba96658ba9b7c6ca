/* tests/fault/inject.h: fail the Nth allocation or resource call (inject.c). */
#ifndef RF_TEST_FAULT_INJECT_H
#define RF_TEST_FAULT_INJECT_H

#include <stdbool.h>

/* Start counting wrapped calls from zero; the one numbered `at` fails (0: none). */
void inject_arm(long at);
/* Stop counting; returns the calls counted since inject_arm. */
long inject_disarm(void);
/* How many calls were made to fail since inject_arm (0 or 1). */
long inject_failed(void);

#endif
