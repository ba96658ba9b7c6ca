/* perf/stm/tm_peer.h: GCC transactional memory versions of the STM benchmarks' bodies. */
#ifndef RF_PERF_TM_PEER_H
#define RF_PERF_TM_PEER_H

void tm_transfer(long *acct, int from, int to, long x);
void tm_donate(long *total, long *count);

#endif
