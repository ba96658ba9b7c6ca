/* io/backend.h: the per-worker I/O backend as the executor sees it (internal).
 *
 * Each executor worker owns one rf_io, created and used on the worker's own thread
 * (io_uring SINGLE_ISSUER); only rf_io_wake() may be called from other threads. The
 * worker sleeps inside rf_io_poll(), so one call both reaps I/O completions and waits
 * for work, timers and wake-ups.
 *
 * The process picks one backend once (io_uring where it can be set up and a NOP can be
 * submitted, else epoll; RF_IO_BACKEND forces it) and every worker uses it.
 *
 * Wake-up contract with the executor: a sender publishes its work (inbox push, release),
 * then reads the worker's sleeping flag (seq_cst) and calls rf_io_wake() only if it is
 * set; the worker sets the flag (seq_cst), re-checks its inbox, then calls rf_io_poll().
 * Either the sender sees the flag or the worker sees the work (store-load ordering on
 * both sides). rf_io_wake() on a worker that is not asleep makes its next poll return
 * at once; wake-ups may coalesce.
 */
#ifndef RF_IO_BACKEND_H
#define RF_IO_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "ringfold/runtime.h"

typedef struct rf_io rf_io;

/* Decide the backend for the process (idempotent; first call decides). `want` is the
 * config's choice. Returns the backend chosen, or RF_ENOURING when RF_IO_URING was
 * demanded and cannot be had. Logs the choice once on stderr when it falls back. */
int rf_io_choose(rf_io_backend want);

/* The backend in use (RF_IO_AUTO before rf_io_choose). */
rf_io_backend rf_io_kind(void);

/* Create the calling worker's backend. Returns 0 or -errno. Worker thread only. */
int rf_io_create(rf_io **out, int worker);
void rf_io_destroy(rf_io *io);

/* Reap completions (resuming the fibers that wait on them) and, if none are ready and
 * deadline_ns is in the future, sleep until a completion, an rf_io_wake() or the
 * deadline (absolute CLOCK_MONOTONIC; 0 = do not sleep; RF_NO_DEADLINE = no bound).
 * Returns the number of completions handled. Owner worker only.
 * Under io_uring's DEFER_TASKRUN, completions are posted only inside this call: a
 * worker busy with ready fibers must still call rf_io_poll(io, 0) between batches: it
 * also submits the requests fibers queued (they are not submitted one by one). */
int rf_io_poll(rf_io *io, uint64_t deadline_ns);

/* Make the owner's current or next rf_io_poll() return. Any thread. Async-signal-unsafe. */
void rf_io_wake(rf_io *io);

/* Wake-ups between io_uring workers: true = a worker waking another posts a CQE into
 * its ring (IORING_OP_MSG_RING, where the probe finds it); false (default) = it writes
 * the target's eventfd like any other thread. Applies to rf_io created afterwards.
 * perf/io's wake_ring measures both. */
void rf_io_set_msg_ring(bool on);

/* Test hook: make the process-wide probe see io_uring setup fail with `err` (a negative
 * errno, 0 to stop) and forget an earlier decision, as if the process had just started.
 * Call only while no rf_io exists. */
void rf_io_test_fail_setup(int err);

#endif
