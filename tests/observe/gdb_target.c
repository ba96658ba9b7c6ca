/* A program for tests/observe/gdb.sh: two go blocks parked (one on a channel, one
 * asleep), then a stop at gdb_target_ready, where the test lists the fibers. */
#include <stdio.h>

#include "ringfold.h"

/* The empty asm after each call keeps it from being a tail call (its frame stays). */
__attribute__((noinline)) int gdb_target_waits_on_chan(rf_val c, rf_val *out)
{
	rf_val v;
	int rc = rf_chan_take(rf_to_ptr(c), &v);
	__asm__ volatile("" ::: "memory");
	return rc;
}

__attribute__((noinline)) int gdb_target_sleeps(rf_val ms, rf_val *out)
{
	int rc = rf_sleep_ms(ms);
	__asm__ volatile("" ::: "memory");
	return rc;
}

__attribute__((noinline)) void gdb_target_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	rf_chan *c, *r1, *r2;
	if (rf_chan_new(&c) < 0 || rf_go(gdb_target_waits_on_chan, rf_from_ptr(c), &r1) < 0 ||
	    rf_go(gdb_target_sleeps, 60000, &r2) < 0)
		return 1;
	rf_sleep_ms(300); /* both park well before this */
	gdb_target_ready();
	rf_chan_close(c);
	rf_val v;
	rf_chan_take(r1, &v);
	printf("done\n");
	return 0;
}
