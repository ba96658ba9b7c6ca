/* runtime/coll/coll.c: what the collections share (ringfold/coll.h): edit tokens, the
 * built-in hashes, and references to a collection held in an rf_val. Shared state: the
 * token counter only (relaxed: it must hand out distinct numbers, and orders nothing). */
#include <string.h>

#include "ringfold/phm.h"
#include "ringfold/psorted.h"
#include "ringfold/pvec.h"
#include "runtime/coll/coll.h"

static _Atomic uint64_t next_token = 1;

uint64_t coll_edit_token(void)
{
	return atomic_fetch_add_explicit(&next_token, 1, memory_order_relaxed);
}

uint64_t rf_hash_int(rf_val key, rf_val ctx)
{
	return coll_mix64((uint64_t)key);
}

uint64_t rf_hash_str(rf_val key, rf_val ctx)
{
	const unsigned char *s = rf_to_ptr(key);
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	if (!s)
		return 0;
	for (; *s; s++)
		h = (h ^ *s) * 0x100000001b3ull;
	return coll_mix64(h);
}

bool rf_eq_str(rf_val a, rf_val b, rf_val ctx)
{
	const char *x = rf_to_ptr(a), *y = rf_to_ptr(b);
	if (x == y)
		return true;
	return x && y && strcmp(x, y) == 0;
}

const rf_coll_ops rf_coll_str = {.size = sizeof(rf_coll_ops), .hash = rf_hash_str, .eq = rf_eq_str};
const rf_coll_ops rf_coll_nested = {
    .size = sizeof(rf_coll_ops), .retain = rf_coll_retain, .release = rf_coll_release};

rf_coll_ops rf_coll_ops_default(void)
{
	return (rf_coll_ops){.size = sizeof(rf_coll_ops)};
}

bool coll_ops_ok(const rf_coll_ops *ops)
{
	/* copies share elements: a collection that releases must count each reference */
	return !ops || (ops->size >= sizeof(rf_coll_ops) && !ops->retain == !ops->release &&
	                !ops->key_retain == !ops->key_release);
}

void rf_coll_retain(rf_val v, rf_val ctx)
{
	coll_hdr *h = rf_to_ptr(v);
	if (h && h->kind == COLL_PVEC_MARK)
		rf_pvec_retain((rf_pvec *)h); /* its rc word is no count */
	else if (h)
		rc_retain(&h->rc);
}

void rf_coll_release(rf_val v, rf_val ctx)
{
	coll_hdr *h = rf_to_ptr(v);
	if (!h)
		return;
	if (h->kind == COLL_PVEC || h->kind == COLL_PVEC_MARK)
		rf_pvec_release((rf_pvec *)h);
	else if (h->kind == COLL_PSORTED)
		rf_psorted_release((rf_psorted *)h);
	else
		rf_phm_release((rf_phm *)h);
}

bool rf_coll_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val)
{
	if (!it)
		return false;
	uint32_t kind;
	memcpy(&kind, it, sizeof(kind));
	if (kind == COLL_PHM)
		return phm_iter_next(it, key, val);
	if (kind == COLL_PSORTED)
		return psorted_iter_next(it, key, val);
	return false;
}
