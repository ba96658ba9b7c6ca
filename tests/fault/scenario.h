/* tests/fault/scenario.h: a pass over every family that survives any call failing. */
#ifndef RF_TEST_FAULT_SCENARIO_H
#define RF_TEST_FAULT_SCENARIO_H

/* Run it (starting and stopping the runtime); returns the number of broken
 * expectations (each printed on stderr). */
int scenario(void);

#endif
