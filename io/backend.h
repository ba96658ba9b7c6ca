/* io/backend.h: the per-worker I/O backend (internal to io/ and the composition root).
 *
 * Each executor worker owns one io_poller, created and used on the worker's own thread
 * (io_uring SINGLE_ISSUER); only io_wake() may be called from other threads. The
 * executor sees it through io_poller_ops, the implementation of its poller interface
 * (runtime/sched/poller.h, which states the wake-up contract).
 *
 * The process picks one backend once (io_uring where it can be set up and a NOP can be
 * submitted, else epoll; RF_IO_BACKEND forces it) and every worker uses it.
 */
#ifndef RF_IO_BACKEND_H
#define RF_IO_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "ringfold/runtime.h"
#include "runtime/sched/poller.h"

typedef struct io_poller io_poller;

/* The executor's view of this backend: sched_start takes it. */
extern const sched_poller_ops io_poller_ops;

/* Decide the backend for the process (idempotent; first call decides). `want` is the
 * config's choice. Returns the backend chosen, or RF_ENOURING when RF_IO_URING was
 * demanded and cannot be had. Logs the choice once on stderr when it falls back. */
int io_choose(rf_io_backend want);

/* The backend in use (RF_IO_AUTO before io_choose). */
rf_io_backend io_kind(void);

/* Create the calling worker's backend. Returns 0 or -errno. Worker thread only. */
int io_create(io_poller **out, int worker);
void io_destroy(io_poller *io);

/* Reap completions (resuming the fibers that wait on them) and, if none are ready and
 * deadline_ns is in the future, sleep until a completion, an io_wake() or the
 * deadline (absolute CLOCK_MONOTONIC; 0 = do not sleep; DEADLINE_NONE = no bound).
 * Returns the number of completions handled. Owner worker only.
 * Under io_uring's DEFER_TASKRUN, completions are posted only inside this call: a
 * worker busy with ready fibers must still call io_poll(io, 0) between batches: it
 * also submits the requests fibers queued (they are not submitted one by one). */
int io_poll(io_poller *io, uint64_t deadline_ns);

/* Make the owner's current or next io_poll() return. Any thread. Async-signal-unsafe. */
void io_wake(io_poller *io);

/* Wake-ups between io_uring workers: true = a worker waking another posts a CQE into
 * its ring (IORING_OP_MSG_RING, where the probe finds it); false (default) = it writes
 * the target's eventfd like any other thread. Applies to io_poller created afterwards.
 * perf/io's wake_ring measures both. */
void io_set_msg_ring(bool on);

/* Test hook: make the process-wide probe's next run see io_uring setup fail with `err`
 * (a negative errno, 0 for none) and forget an earlier decision, as if the process had
 * just started. Call only while no io_poller exists. */
void io_test_fail_setup(int err);

/* Test hook: turn off optional io_uring features (URF_* of io/io_impl.h, ORed) for rings,
 * listeners, readers and pools made afterwards, as on a kernel without them; 0 turns
 * them back on where the probe found them. */
void io_test_uring_off(unsigned features);

/* Bytes from which rf_io_send on an io_uring worker uses zero-copy SEND_ZC (SIZE_MAX:
 * never). perf/io's send_zc measures where it wins; the default comes from there. */
void io_set_zc_min(size_t bytes);

#endif
