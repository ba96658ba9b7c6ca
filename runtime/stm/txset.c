/* runtime/stm/txset.c: the sets of one transaction (entries, commutes, held sends, and
 * the values it made for refs with a release function).
 * Private to the context running the transaction (see txn.h); no shared state. */
#include <stdlib.h>
#include <string.h>

#include "runtime/stm/txn.h"

/* Room for more in an array of tx: its inline storage (inline_cap elements) at first,
 * then twice as much each time. 0 or -ENOMEM. */
static int grow(stm_tx *tx, void **arr, uint32_t *cap, void *inline_buf, uint32_t inline_cap,
                size_t size)
{
	if (!*cap) {
		*arr = inline_buf;
		*cap = inline_cap;
		return 0;
	}
	uint32_t ncap = *cap * 2;
	void *p;
	if (*arr == inline_buf) {
		p = malloc(ncap * size);
		if (p)
			memcpy(p, *arr, *cap * size);
	} else {
		p = realloc(*arr, ncap * size);
	}
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	tx->heap = true;
	return 0;
}

static uint32_t hash(const rf_ref *ref, uint32_t mask)
{
	uint64_t h = (uint64_t)(uintptr_t)ref * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t)(h >> 32) & mask;
}

static void index_put(stm_tx *tx, uint32_t i)
{
	uint32_t mask = tx->icap - 1;
	uint32_t k = hash(tx->e[i].ref, mask);
	while (tx->index[k])
		k = (k + 1) & mask;
	tx->index[k] = i + 1;
}

/* (Re)build the index with room for twice the entries' capacity. */
static int index_build(stm_tx *tx)
{
	uint32_t icap = 16;
	while (icap < tx->cap * 2)
		icap *= 2;
	if (icap != tx->icap) {
		uint32_t *idx = realloc(tx->index, icap * sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		tx->index = idx;
		tx->heap = true;
		tx->icap = icap;
	}
	memset(tx->index, 0, tx->icap * sizeof(*tx->index));
	for (uint32_t i = 0; i < tx->n; i++)
		index_put(tx, i);
	return 0;
}

tx_entry *tx_find_hashed(stm_tx *tx, rf_ref *ref)
{
	uint32_t mask = tx->icap - 1;
	for (uint32_t k = hash(ref, mask); tx->index[k]; k = (k + 1) & mask)
		if (tx->e[tx->index[k] - 1].ref == ref)
			return &tx->e[tx->index[k] - 1];
	return NULL;
}

tx_entry *tx_add_indexed(stm_tx *tx, rf_ref *ref)
{
	if (tx->n == tx->cap &&
	    grow(tx, (void **)&tx->e, &tx->cap, tx->e_inline, TX_INLINE, sizeof(tx_entry)) < 0)
		return NULL;
	tx_entry *e = &tx->e[tx->n++];
	*e = (tx_entry){.ref = ref, .flags = ref->release ? E_RELEASE : 0};
	tx->seen |= e->flags;
	if (tx->n == TX_INLINE + 1 || (tx->n > TX_INLINE && tx->icap < tx->cap * 2)) {
		if (index_build(tx) < 0) {
			tx->n--;
			return NULL;
		}
	} else if (tx->n > TX_INLINE) {
		index_put(tx, tx->n - 1);
	}
	return e;
}

int tx_add_commute(stm_tx *tx, uint32_t entry, rf_update_fn fn, rf_val arg)
{
	if (tx->nc == tx->ccap && grow(tx, (void **)&tx->c, &tx->ccap, tx->c_inline, TX_INLINE_AUX,
	                               sizeof(tx_commute)) < 0)
		return -ENOMEM;
	tx->c[tx->nc++] = (tx_commute){entry, fn, arg};
	return 0;
}

int tx_add_deferred(stm_tx *tx, void (*fn)(void *), void *arg, void (*drop)(void *))
{
	if (tx->nd == tx->dcap && grow(tx, (void **)&tx->d, &tx->dcap, tx->d_inline, TX_INLINE_AUX,
	                               sizeof(tx_deferred)) < 0)
		return -ENOMEM;
	tx->d[tx->nd++] = (tx_deferred){fn, arg, drop};
	return 0;
}

int tx_grow_discard(stm_tx *tx)
{
	return grow(tx, (void **)&tx->x, &tx->xcap, tx->x_inline, TX_INLINE_AUX,
	            sizeof(tx_discard));
}

int tx_made_owned(stm_tx *tx, const tx_entry *e, rf_val old, rf_val nv, int rc)
{
	if (!rc)
		rc = tx_reserve_discard(tx, e); /* grows the discards, not the entries: e stays */
	if (rc && (e->flags & E_RELEASE) && nv != old && nv != e->base)
		e->ref->release(nv, e->ref->release_ctx); /* made, never seen by anyone */
	return rc;
}

void tx_replace_owned(stm_tx *tx, tx_entry *e, rf_val nv)
{
	uint32_t entry = (uint32_t)(e - tx->e);
	if (e->flags & E_OWNED)
		tx->x[tx->nx++] = (tx_discard){entry, e->val}; /* room reserved by the caller */
	e->flags &= ~(uint32_t)E_OWNED;
	e->val = nv;
	if (nv == e->base)
		return;
	e->flags |= E_OWNED;
	for (uint32_t i = 0; i < tx->nx; i++) { /* made earlier, replaced, and now back */
		if (tx->x[i].entry == entry && tx->x[i].val == nv) {
			tx->x[i] = tx->x[--tx->nx];
			break;
		}
	}
}

static void release(rf_ref *r, rf_val v)
{
	if (v != RF_NIL)
		r->release(v, r->release_ctx);
}

void tx_release_made_all(stm_tx *tx, bool committed)
{
	/* Released at once, not retired: no other context ever saw these values. */
	for (uint32_t i = 0; i < tx->nx; i++)
		release(tx->e[tx->x[i].entry].ref, tx->x[i].val);
	tx->nx = 0;
	for (uint32_t i = 0; i < tx->n; i++) {
		if ((tx->e[i].flags & E_OWNED) && !committed)
			release(tx->e[i].ref, tx->e[i].val);
		tx->e[i].flags &= ~(uint32_t)E_OWNED;
	}
}

void tx_release_ensures_all(stm_tx *tx)
{
	for (uint32_t i = 0; i < tx->n; i++) {
		if (tx->e[i].flags & E_ENSURED) {
			atomic_fetch_sub_explicit(&tx->e[i].ref->ensurers, 1, memory_order_release);
			tx->e[i].flags &= ~(uint32_t)E_ENSURED;
		}
	}
}

void tx_run_deferred(stm_tx *tx, bool committed)
{
	for (uint32_t i = 0; i < tx->nd; i++)
		if (committed)
			tx->d[i].fn(tx->d[i].arg);
		else if (tx->d[i].drop)
			tx->d[i].drop(tx->d[i].arg);
	tx->nd = 0;
}

void stm_tx_reset(stm_tx *tx)
{
	if (tx->nd)
		tx_run_deferred(tx, false);
	tx->n = 0;
	tx->nc = 0;
	tx->seen = 0;
	if (tx->icap)
		memset(tx->index, 0, tx->icap * sizeof(*tx->index));
}

void tx_free_heap(stm_tx *tx)
{
	if (tx->e != tx->e_inline)
		free(tx->e);
	if (tx->ccap && tx->c != tx->c_inline)
		free(tx->c);
	if (tx->dcap && tx->d != tx->d_inline)
		free(tx->d);
	if (tx->xcap && tx->x != tx->x_inline)
		free(tx->x);
	if (tx->ocap && tx->order != tx->o_inline)
		free(tx->order);
	if (tx->index)
		free(tx->index);
}
