/* perf/stm/tm_peer.c: the GCC transactional-memory peer (-fgnu-tm, libitm), compiled
 * apart because only this file is built with -fgnu-tm. */
#include "tm_peer.h"

void tm_transfer(long *acct, int from, int to, long x)
{
	__transaction_atomic
	{
		acct[from] -= x;
		acct[to] += x;
	}
}

void tm_donate(long *total, long *count)
{
	__transaction_atomic
	{
		*total += 10;
		*count += 1;
	}
}
