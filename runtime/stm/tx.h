/* runtime/stm/tx.h: hooks of the STM for the other families (internal).
 *
 * Agents: a send made inside a transaction is held and goes out once, after the commit,
 * and is dropped when the attempt retries or the transaction aborts (Clojure's
 * LockingTransaction.actions). The agent family asks stm_tx_running() and, when true,
 * hands the dispatch to stm_tx_defer(). io!: rf_io_guard() in ringfold/ref.h.
 * Every function here acts on the transaction of the calling fiber or thread.
 */
#ifndef RF_STM_TX_H
#define RF_STM_TX_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the calling context runs a transaction body. Cost: one TLS load. Any context. */
bool stm_tx_running(void);

/* Hold fn(arg) until the running transaction commits, then call it once on the
 * committing context, after the watches, outside the transaction; if this attempt
 * retries or the transaction aborts, call drop(arg) instead (drop may be NULL).
 * Returns 0, RF_ENOTX (no transaction: nothing held, caller dispatches itself), -EINVAL
 * (fn NULL), -ENOMEM. Never blocks. */
int stm_tx_defer(void (*fn)(void *arg), void *arg, void (*drop)(void *arg));

/* Totals over all transactions so far (for rf_stats: stm_commits, stm_retries). Each
 * count is read relaxed; the pair is not one instant. Any context. */
void stm_stats(uint64_t *commits, uint64_t *retries);

#endif
