/* runtime/atom/reclaim.c: retirement of replaced values on liburcu-bp (see reclaim.h).
 *
 * Shared state: none of ours beyond liburcu's own (its registry of reader threads and
 * its call_rcu queue and worker). A retirement record is owned by the retiring thread
 * until call_rcu() takes it, then by the call_rcu worker, which frees it after calling
 * the release function.
 *
 * Ordering. The object's last use by a reader happens before the reader's read-unlock;
 * liburcu's grace period (membarrier + its reader-registry scan) guarantees that the
 * call_rcu callback starts after every read section that was open at call_rcu time has
 * ended. ThreadSanitizer cannot see that edge (liburcu is not instrumented and membarrier
 * is a syscall), nor the hand-over of a record through liburcu's queue, so TSan builds add
 * explicit edges: each read-unlock and each retire is a release RMW on tsan_grace, each
 * callback an acquire load of it (all writes to it are RMWs: one release sequence).
 */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <urcu-bp.h>
#include <urcu/call-rcu.h>

#include "runtime/atom/reclaim.h"

struct rf_retired {
	struct rcu_head head; /* first: the callback gets &head */
	rf_val value;
	rf_release_fn release;
	rf_val ctx;
};

#ifdef RF_TSAN
static _Atomic unsigned long tsan_grace;

/* liburcu synchronises its own records (rcu_barrier's completion, queue nodes) through
 * futexes and uatomic operations that TSan cannot see; suppress races reported inside
 * liburcu-bp itself. Its mutexes stay visible (they order the reuse of a dead thread's
 * reader record), and our own records and values carry the explicit edges above. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:liburcu-bp.so\n";
}
#endif

void rf_reclaim_read_begin(void)
{
	urcu_bp_read_lock();
}

void rf_reclaim_read_end(void)
{
#ifdef RF_TSAN
	/* Pairs with the acquire in release_cb: the section's reads happen before release. */
	atomic_fetch_add_explicit(&tsan_grace, 1, memory_order_release);
#endif
	urcu_bp_read_unlock();
}

bool rf_reclaim_read_ongoing(void)
{
	return urcu_bp_read_ongoing();
}

rf_retired *rf_reclaim_node_alloc(void)
{
	return malloc(sizeof(rf_retired));
}

void rf_reclaim_node_free(rf_retired *node)
{
	free(node);
}

static void release_cb(struct rcu_head *head)
{
	rf_retired *node = (rf_retired *)head;
#ifdef RF_TSAN
	(void)atomic_load_explicit(&tsan_grace, memory_order_acquire);
#endif
	node->release(node->value, node->ctx);
	free(node);
}

void rf_reclaim_retire(rf_retired *node, rf_val value, rf_release_fn release, rf_val ctx)
{
	node->value = value;
	node->release = release;
	node->ctx = ctx;
#ifdef RF_TSAN
	/* Pairs with the acquire in release_cb: the record's fields (written here, read
	 * there) travel through liburcu's uninstrumented queue. */
	atomic_fetch_add_explicit(&tsan_grace, 1, memory_order_release);
#endif
	urcu_bp_call_rcu(&node->head, release_cb);
}

void rf_reclaim_retire_now_or_wait(rf_val value, rf_release_fn release, rf_val ctx)
{
	rf_retired *node = rf_reclaim_node_alloc();
	if (node) {
		rf_reclaim_retire(node, value, release, ctx);
		return;
	}
	urcu_bp_synchronize_rcu();
#ifdef RF_TSAN
	(void)atomic_load_explicit(&tsan_grace, memory_order_acquire);
#endif
	release(value, ctx);
}

void rf_reclaim_barrier(void)
{
	urcu_bp_barrier();
}
