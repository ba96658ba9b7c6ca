/* runtime/sched/poller.h: what the executor needs from an I/O backend (internal).
 *
 * Each worker owns one poller, created and used on the worker's own thread; only wake
 * may be called from other threads. The worker sleeps inside poll, so one call both
 * reaps I/O completions and waits for work, timers and wake-ups. Backends (io/: the
 * io_uring and epoll ones) implement these operations; the composition root hands them
 * to sched_start.
 *
 * Wake-up contract: a sender publishes its work (inbox push, release), then reads the
 * worker's sleeping flag (seq_cst) and calls wake only if it is set; the worker sets the
 * flag (seq_cst), re-checks its inbox, then calls poll. Either the sender sees the flag
 * or the worker sees the work (store-load ordering on both sides). wake on a worker that
 * is not asleep makes its next poll return at once; wake-ups may coalesce.
 */
#ifndef RF_SCHED_POLLER_H
#define RF_SCHED_POLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "ringfold/runtime.h"

typedef struct sched_poller_ops {
	/* Decide the backend for the process (idempotent); `want` is the config's choice.
	 * Returns the backend chosen or a negative code. Called before workers start. */
	int (*choose)(rf_io_backend want);
	/* Create the calling worker's poller. Returns 0 or -errno. Worker thread only. */
	int (*create)(void **out, int worker);
	void (*destroy)(void *poller);
	/* Reap completions and, if none are ready and deadline_ns (absolute
	 * CLOCK_MONOTONIC; 0 = do not sleep) is in the future, sleep until a completion, a
	 * wake or the deadline. Returns the completions handled. Owner only. */
	int (*poll)(void *poller, uint64_t deadline_ns);
	/* Make the owner's current or next poll return. Any thread. */
	void (*wake)(void *poller);
	/* Whether poll(…, 0) has work, told without a syscall: completions to reap, or
	 * requests queued for it to submit. The idle worker polls before spinning only if
	 * so, and watches it while it spins. NULL where the backend cannot tell; such a
	 * backend must not queue requests for poll to submit (the worker then skips its
	 * poll(…, 0) before sleeping). Owner only. */
	bool (*pending)(void *poller);
	/* Shutdown: end every request in flight promptly (their waits are firm, see
	 * runtime/sched/wait.h), so the fibers parked on them return. NULL when the
	 * backend's waits are cancellable already. Owner only. */
	void (*cancel)(void *poller);
} sched_poller_ops;

#endif
