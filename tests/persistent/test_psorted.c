/* persistent sorted maps: random assoc/dissoc sequences checked against a plain table
 * (get, count, in-order iteration, nth, iteration from a key), the weight balance and
 * sizes of every node, old versions unchanged, a user comparator (strings, descending),
 * owned keys and values balanced; transients (batches against the model, runs, owned
 * elements, old versions); bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/coll/ptree.h"

#define K 700
#define ABSENT INT64_MIN

typedef struct model {
	rf_val v[K];
	size_t n;
} model;

/* sizes right, weights within delta 3, keys in order; returns the height */
static int check_tree(const tnode *t, rf_val lo, rf_val hi)
{
	if (!t)
		return 0;
	assert_true(t->k >= lo && t->k <= hi);
	size_t sl = t_size(t->l), sr = t_size(t->r);
	assert_int_equal(t->size, sl + sr + 1);
	if (sl + sr > 1) {
		assert_true(sl <= 3 * sr);
		assert_true(sr <= 3 * sl);
	}
	int hl = check_tree(t->l, lo, t->k - 1), hr = check_tree(t->r, t->k + 1, hi);
	return 1 + (hl > hr ? hl : hr);
}

static void check(const rf_psorted *m, const model *mo)
{
	assert_int_equal(rf_psorted_count(m), mo->n);
	int h = check_tree(m->root, INT64_MIN, INT64_MAX);
	assert_true(h <= TMAX_HEIGHT);
	rf_coll_iter it;
	rf_val k, v;
	rf_psorted_iter_init(m, &it);
	size_t i = 0;
	for (int key = 0; key < K; key++) {
		rf_val got;
		assert_int_equal(rf_psorted_get(m, key, ABSENT, &got), 0);
		assert_int_equal(got, mo->v[key]);
		if (mo->v[key] == ABSENT)
			continue;
		assert_true(rf_coll_iter_next(&it, &k, &v)); /* in key order */
		assert_int_equal(k, key);
		assert_int_equal(v, mo->v[key]);
		rf_val nk;
		assert_int_equal(rf_psorted_nth(m, i++, &nk, NULL), 0);
		assert_int_equal(nk, key);
	}
	assert_false(rf_coll_iter_next(&it, &k, &v));
	assert_int_equal(rf_psorted_nth(m, i, &k, &v), -ERANGE);
	/* (subseq m >= 350) */
	rf_psorted_iter_from(m, 350, &it);
	for (int key = 350; key < K; key++)
		if (mo->v[key] != ABSENT) {
			assert_true(rf_coll_iter_next(&it, &k, NULL));
			assert_int_equal(k, key);
		}
	assert_false(rf_coll_iter_next(&it, &k, NULL));
}

static void random_ops(void **state)
{
	enum { STEPS = 30000, KEEP = 10 };
	srand(17);
	model mo = {.n = 0}, kept_m[KEEP];
	for (int k = 0; k < K; k++)
		mo.v[k] = ABSENT;
	rf_psorted *m, *kept[KEEP];
	int nkept = 0;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (int s = 0; s < STEPS; s++) {
		if (s % 3000 == 2999 && nkept < KEEP) {
			rf_psorted_retain(m);
			kept[nkept] = m;
			kept_m[nkept++] = mo;
		}
		int k = rand() % K;
		rf_psorted *n;
		if (rand() % 3) {
			rf_val v = rand() % 100;
			assert_int_equal(rf_psorted_assoc(m, k, v, &n), 0);
			mo.n += mo.v[k] == ABSENT;
			mo.v[k] = v;
		} else {
			assert_int_equal(rf_psorted_dissoc(m, k, &n), 0);
			mo.n -= mo.v[k] != ABSENT;
			mo.v[k] = ABSENT;
		}
		rf_psorted_release(m);
		m = n;
		if (s % 2503 == 0)
			check(m, &mo);
	}
	check(m, &mo);
	for (int i = 0; i < nkept; i++) {
		check(kept[i], &kept_m[i]);
		rf_psorted_release(kept[i]);
	}
	rf_psorted_release(m);
}

/* Ascending and descending runs: the worst cases for an unbalanced tree. */
static void sequential_keys(void **state)
{
	rf_psorted *m, *n;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (rf_val k = 0; k < 100000; k++) {
		assert_int_equal(rf_psorted_assoc(m, k % 2 ? k : -k, k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	int h = check_tree(m->root, INT64_MIN, INT64_MAX);
	assert_true(h <= 2 * 17 + 1); /* about 2.4 log2(n) at worst; far less in practice */
	for (rf_val k = 0; k < 100000; k += 2) {
		assert_int_equal(rf_psorted_dissoc(m, -k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	assert_int_equal(rf_psorted_count(m), 50000);
	check_tree(m->root, INT64_MIN, INT64_MAX);
	rf_psorted_release(m);
}

static int by_string_desc(rf_val a, rf_val b, rf_val ctx)
{
	assert_int_equal(ctx, 5);
	return -strcmp(rf_to_ptr(a), rf_to_ptr(b));
}

static void user_order(void **state)
{
	static const char *words[] = {"pear", "apple", "fig", "kiwi", "banana", "cherry"};
	static const char *want[] = {"pear", "kiwi", "fig", "cherry", "banana", "apple"};
	rf_psorted *m, *n;
	assert_int_equal(rf_psorted_new(by_string_desc, 5, NULL, &m), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rf_psorted_assoc(m, rf_from_ptr(words[i]), i, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	char probe[8] = "fig";
	rf_val v;
	assert_int_equal(rf_psorted_get(m, rf_from_ptr(probe), -1, &v), 0);
	assert_int_equal(v, 2);
	rf_coll_iter it;
	rf_val k;
	rf_psorted_iter_init(m, &it);
	for (int i = 0; i < 6; i++) {
		assert_true(rf_coll_iter_next(&it, &k, NULL));
		assert_string_equal(rf_to_ptr(k), want[i]);
	}
	assert_false(rf_coll_iter_next(&it, &k, NULL));
	rf_psorted_release(m);
}

static _Atomic long live;
static void retain_(rf_val x, rf_val ctx)
{
	atomic_fetch_add(&live, 1);
}
static void release_(rf_val x, rf_val ctx)
{
	atomic_fetch_sub(&live, 1);
}

static void owned_entries_balance(void **state)
{
	const rf_coll_ops ops = {.size = sizeof(rf_coll_ops),
	                         .retain = retain_,
	                         .release = release_,
	                         .key_retain = retain_,
	                         .key_release = release_};
	rf_psorted *m, *n, *old = NULL;
	assert_int_equal(rf_psorted_new(NULL, 0, &ops, &m), 0);
	srand(23);
	for (int s = 0; s < 8000; s++) {
		if (s == 4000) {
			rf_psorted_retain(m);
			old = m;
		}
		int k = rand() % 500;
		if (rand() % 3)
			assert_int_equal(rf_psorted_assoc(m, k, s, &n), 0);
		else
			assert_int_equal(rf_psorted_dissoc(m, k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	rf_coll_release(rf_from_ptr(old), 0);
	assert_int_equal(atomic_load(&live), 2 * (long)rf_psorted_count(m));
	rf_psorted_release(m);
	assert_int_equal(atomic_load(&live), 0);
}

/* Transients: random assoc!/dissoc! batches against the model, each started from the
 * last batch's version (so a transient copies frozen nodes, then owns them); the tree
 * stays balanced, and every earlier version and the one a batch started from read as
 * they were. */
static void transient_batches(void **state)
{
	enum { ROUNDS = 12, BATCH = 2500 };
	srand(29);
	model mo = {.n = 0}, was[ROUNDS];
	for (int k = 0; k < K; k++)
		mo.v[k] = ABSENT;
	rf_psorted *m, *v[ROUNDS];
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (int r = 0; r < ROUNDS; r++) {
		rf_tsorted *t;
		assert_int_equal(rf_psorted_transient(m, &t), 0);
		for (int s = 0; s < BATCH; s++) {
			int k = rand() % K;
			if (rand() % 4) {
				rf_val x = rand() % 100;
				assert_int_equal(rf_tsorted_assoc(t, k, x), 0);
				mo.n += mo.v[k] == ABSENT;
				mo.v[k] = x;
			} else {
				assert_int_equal(rf_tsorted_dissoc(t, k), 0);
				mo.n -= mo.v[k] != ABSENT;
				mo.v[k] = ABSENT;
			}
			if (s % 500 == 0) {
				assert_int_equal(rf_tsorted_count(t), mo.n);
				for (int j = 0; j < K; j++) {
					rf_val got;
					assert_int_equal(rf_tsorted_get(t, j, ABSENT, &got), 0);
					assert_int_equal(got, mo.v[j]);
				}
				assert_true(check_tree(t->root, INT64_MIN, INT64_MAX) <=
				            TMAX_HEIGHT);
			}
		}
		if (r > 0)
			check(m, &was[r - 1]); /* the version t started from */
		v[r] = m;
		assert_int_equal(rf_tsorted_persistent(t, &m), 0);
		was[r] = mo;
		check(m, &mo);
	}
	for (int r = 1; r < ROUNDS; r++)
		check(v[r], &was[r - 1]);
	for (int r = 0; r < ROUNDS; r++)
		rf_psorted_release(v[r]);
	rf_psorted_release(m);
}

/* Ascending and descending runs through a transient: only in-place rotations keep it
 * balanced. */
static void transient_runs(void **state)
{
	rf_psorted *e, *m;
	rf_tsorted *t;
	model mo = {.n = K};
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &e), 0);
	for (int dir = 0; dir < 2; dir++) {
		assert_int_equal(rf_psorted_transient(e, &t), 0);
		for (int i = 0; i < K; i++) {
			int k = dir ? K - 1 - i : i;
			assert_int_equal(rf_tsorted_assoc(t, k, 3 * k), 0);
			mo.v[k] = 3 * k;
		}
		assert_int_equal(rf_tsorted_persistent(t, &m), 0);
		check(m, &mo);
		rf_psorted_release(m);
	}
	assert_int_equal(rf_psorted_count(e), 0);
	rf_psorted_release(e);
}

/* A version of 2 to 1 + span random assoc's of keys 0..63 (key = value) built from an
 * empty map, and its reference in mo (ABSENT where no key). */
static rf_psorted *random_small_map(int span, rf_val mo[64])
{
	rf_psorted *m, *n;
	for (int k = 0; k < 64; k++)
		mo[k] = ABSENT;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (int i = 2 + rand() % span; i > 0; i--) {
		int k = rand() % 64;
		assert_int_equal(rf_psorted_assoc(m, k, k, &n), 0);
		rf_psorted_release(m);
		m = n;
		mo[k] = k;
	}
	return m;
}

/* An insert that ends in a double rotation whose inner grandchild the transient does not
 * own yet (it is still shared with the version the transient came from): the rotation
 * takes a copy from the reserve the insert filled first. Seen through the reserve: an
 * insert at depth d leaves max(before, d) spare nodes unless a rotation used some. Small
 * random maps until that has happened a few times; every transient and its origin are
 * checked after each batch. */
static void transient_rotations_of_shared_nodes(void **state)
{
	int seen = 0;
	srand(37);
	for (int trial = 0; trial < 400000 && seen < 3; trial++) {
		rf_tsorted *t;
		rf_val mo[64], tm[64], got;
		rf_psorted *m = random_small_map(40, mo);
		assert_int_equal(rf_psorted_transient(m, &t), 0);
		memcpy(tm, mo, sizeof(tm));
		for (int j = 1 + rand() % 6; j > 0; j--) {
			int k = rand() % 64;
			size_t depth = 1;
			const tnode *p = t->root;
			while (p && p->k != k) {
				p = k < p->k ? p->l : p->r;
				depth++;
			}
			size_t before = t->nspare, want = before > depth ? before : depth;
			assert_int_equal(rf_tsorted_assoc(t, k, -k), 0);
			seen += !p && t->nspare < want;
			tm[k] = -k;
		}
		assert_true(check_tree(t->root, INT64_MIN, INT64_MAX) <= TMAX_HEIGHT);
		size_t cnt = 0;
		for (int k = 0; k < 64; k++) {
			assert_int_equal(rf_tsorted_get(t, k, ABSENT, &got), 0);
			assert_int_equal(got, tm[k]);
			cnt += got != ABSENT;
			assert_int_equal(rf_psorted_get(m, k, ABSENT, &got), 0);
			assert_int_equal(got, mo[k]);
		}
		assert_int_equal(rf_tsorted_count(t), cnt);
		rf_tsorted_free(t);
		rf_psorted_release(m);
	}
	assert_true(seen >= 3);
}

/* Counting element ops: retains and releases apart. */
static _Atomic long retains, releases;
static void count_retain(rf_val x, rf_val ctx)
{
	atomic_fetch_add(&retains, 1);
}
static void count_release(rf_val x, rf_val ctx)
{
	atomic_fetch_add(&releases, 1);
}

/* dissoc! on nodes the transient owns changes them in place: a copy would retain the key
 * and value of every node it copies, and here a dissoc! retains nothing and releases
 * exactly the removed key and value. Random order, against the model: the tree stays
 * balanced and holds exactly the model's entries after each; the empty map it came from
 * stays empty. */
static void transient_dissoc_in_place(void **state)
{
	const rf_coll_ops ops = {.size = sizeof(rf_coll_ops),
	                         .retain = count_retain,
	                         .release = count_release,
	                         .key_retain = count_retain,
	                         .key_release = count_release};
	rf_psorted *e, *m;
	rf_tsorted *t;
	model mo = {.n = K};
	int order[K];
	assert_int_equal(rf_psorted_new(NULL, 0, &ops, &e), 0);
	assert_int_equal(rf_psorted_transient(e, &t), 0);
	for (int k = 0; k < K; k++) {
		assert_int_equal(rf_tsorted_assoc(t, k, 5 * k), 0);
		mo.v[k] = 5 * k;
		order[k] = k;
	}
	srand(41);
	for (int i = K - 1; i > 0; i--) {
		int j = rand() % (i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (int i = 0; i < K; i++) {
		int k = order[i];
		long r0 = atomic_load(&retains), d0 = atomic_load(&releases);
		assert_int_equal(rf_tsorted_dissoc(t, k), 0);
		assert_int_equal(atomic_load(&retains), r0);
		assert_int_equal(atomic_load(&releases), d0 + 2);
		assert_int_equal(rf_tsorted_dissoc(t, k), 0); /* absent now: nothing */
		assert_int_equal(atomic_load(&releases), d0 + 2);
		mo.v[k] = ABSENT;
		mo.n--;
		assert_true(check_tree(t->root, INT64_MIN, INT64_MAX) <= TMAX_HEIGHT);
		assert_int_equal(rf_tsorted_count(t), mo.n);
		if (i % 50 == 0 || mo.n < 20)
			for (int x = 0; x < K; x++) {
				rf_val got;
				assert_int_equal(rf_tsorted_get(t, x, ABSENT, &got), 0);
				assert_int_equal(got, mo.v[x]);
			}
		if (i == K / 2) { /* the half left, in order, through persistent! */
			assert_int_equal(rf_tsorted_persistent(t, &m), 0);
			check(m, &mo);
			assert_int_equal(rf_psorted_transient(m, &t), 0);
			rf_psorted_release(m);        /* t holds the tree */
			for (int x = 0; x < K; x++) { /* t owns every node again */
				if (mo.v[x] == ABSENT)
					continue;
				assert_int_equal(rf_tsorted_assoc(t, x, ++mo.v[x]), 0);
			}
		}
	}
	assert_int_equal(rf_tsorted_count(t), 0);
	assert_null(t->root);
	rf_tsorted_free(t);
	assert_int_equal(rf_psorted_count(e), 0);
	rf_psorted_release(e);
	assert_int_equal(atomic_load(&retains), atomic_load(&releases));
}

/* Nodes dissoc! takes through in a transient fresh from a version: k's node and its
 * replacement's path (the larger side's end), as tsorted.c walks them. */
static size_t dissoc_path_len(const tnode *n, rf_val k)
{
	size_t d = 0;
	for (; n; d++) {
		if (k == n->k) {
			if (!n->l || !n->r)
				return d + 1;
			bool left = t_size(n->l) > t_size(n->r);
			for (n = left ? n->l : n->r; n; n = left ? n->r : n->l)
				d++;
			return d + 1;
		}
		n = k < n->k ? n->l : n->r;
	}
	return 0;
}

/* Mixed assoc!/dissoc! (mostly dissoc!) on transients of small random versions: each
 * op is checked against a reference (exact entries, balance) and the version the
 * transient came from reads as before. A dissoc! whose rebalancing rotates a side it
 * does not own yet (still shared with that version) owns it from the reserve it filled
 * first: seen as fewer spares than it reserved (two per node on the path). Runs until
 * that has happened a few times. */
static void transient_mixed_of_shared_nodes(void **state)
{
	int seen = 0;
	srand(43);
	for (int trial = 0; trial < 400000 && seen < 5; trial++) {
		rf_psorted *m, *n;
		rf_tsorted *t;
		rf_val mo[64], tm[64], got;
		m = random_small_map(50, mo);
		assert_int_equal(rf_psorted_transient(m, &t), 0);
		memcpy(tm, mo, sizeof(tm));
		for (int j = 1 + rand() % 12; j > 0; j--) {
			int k = rand() % 64;
			if (rand() % 4 == 0) {
				assert_int_equal(rf_tsorted_assoc(t, k, -k), 0);
				tm[k] = -k;
			} else {
				size_t d = dissoc_path_len(t->root, k), before = t->nspare;
				size_t want = before > 2 * d ? before : 2 * d;
				assert_int_equal(rf_tsorted_dissoc(t, k), 0);
				seen += d && t->nspare < want;
				tm[k] = ABSENT;
			}
			assert_true(check_tree(t->root, INT64_MIN, INT64_MAX) <= TMAX_HEIGHT);
			size_t cnt = 0;
			for (int x = 0; x < 64; x++) {
				assert_int_equal(rf_tsorted_get(t, x, ABSENT, &got), 0);
				assert_int_equal(got, tm[x]);
				cnt += got != ABSENT;
			}
			assert_int_equal(rf_tsorted_count(t), cnt);
		}
		assert_int_equal(rf_tsorted_persistent(t, &n), 0);
		rf_coll_iter it;
		rf_val k, v;
		rf_psorted_iter_init(n, &it);
		for (int x = 0; x < 64; x++) {
			if (tm[x] != ABSENT) {
				assert_true(rf_coll_iter_next(&it, &k, &v));
				assert_int_equal(k, x);
				assert_int_equal(v, tm[x]);
			}
			assert_int_equal(rf_psorted_get(m, x, ABSENT, &got), 0);
			assert_int_equal(got, mo[x]);
		}
		assert_false(rf_coll_iter_next(&it, &k, &v));
		rf_psorted_release(n);
		rf_psorted_release(m);
	}
	assert_true(seen >= 5);
}

/* Owned keys and values through transients: a transient freed unfinished and one made
 * persistent, from a version also kept, leave each element held once per node. */
static void transient_owned_balance(void **state)
{
	const rf_coll_ops ops = {.size = sizeof(rf_coll_ops),
	                         .retain = retain_,
	                         .release = release_,
	                         .key_retain = retain_,
	                         .key_release = release_};
	rf_psorted *m, *n;
	rf_tsorted *t;
	assert_int_equal(rf_psorted_new(NULL, 0, &ops, &m), 0);
	srand(31);
	for (int round = 0; round < 6; round++) {
		assert_int_equal(rf_psorted_transient(m, &t), 0);
		for (int s = 0; s < 1500; s++) {
			int k = rand() % 400;
			if (rand() % 3)
				assert_int_equal(rf_tsorted_assoc(t, k, s), 0);
			else
				assert_int_equal(rf_tsorted_dissoc(t, k), 0);
		}
		if (round % 2) {
			rf_tsorted_free(t);
			continue;
		}
		assert_int_equal(rf_tsorted_persistent(t, &n), 0);
		rf_psorted_release(m);
		m = n;
		assert_int_equal(atomic_load(&live), 2 * (long)rf_psorted_count(m));
	}
	rf_psorted_release(m);
	assert_int_equal(atomic_load(&live), 0);
}

static void bad_input(void **state)
{
	rf_psorted *m, *n;
	rf_val v;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, NULL), -EINVAL);
	rf_coll_ops unsized = {.size = 1};
	assert_int_equal(rf_psorted_new(NULL, 0, &unsized, &m), -EINVAL);
	assert_int_equal(rf_psorted_count(NULL), 0);
	assert_false(rf_psorted_contains(NULL, 1));
	assert_int_equal(rf_psorted_get(NULL, 1, 0, &v), -EINVAL);
	assert_int_equal(rf_psorted_assoc(NULL, 1, 1, &n), -EINVAL);
	assert_int_equal(rf_psorted_dissoc(NULL, 1, &n), -EINVAL);
	assert_int_equal(rf_psorted_nth(NULL, 0, &v, &v), -EINVAL);
	rf_psorted_release(NULL);
	rf_coll_iter it;
	rf_psorted_iter_init(NULL, &it);
	assert_false(rf_coll_iter_next(&it, &v, &v));
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	assert_int_equal(rf_psorted_nth(m, 0, &v, &v), -ERANGE);
	assert_int_equal(rf_psorted_nth(m, SIZE_MAX, &v, &v), -ERANGE);
	rf_val keys[] = {INT64_MAX, INT64_MIN, 0, -1, 1};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rf_psorted_assoc(m, keys[i], i, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	rf_val k;
	assert_int_equal(rf_psorted_nth(m, 0, &k, NULL), 0);
	assert_int_equal(k, INT64_MIN);
	assert_int_equal(rf_psorted_nth(m, 4, &k, NULL), 0);
	assert_int_equal(k, INT64_MAX);
	/* absent: an equal map, never m itself (owning references, atom.h) */
	assert_int_equal(rf_psorted_dissoc(m, 42, &n), 0);
	assert_ptr_not_equal(n, m);
	assert_int_equal(rf_psorted_count(n), 5);
	rf_psorted_release(n);
	assert_int_equal(rf_psorted_assoc(m, 0, 2, &n), 0); /* 0 -> 2 already */
	assert_ptr_not_equal(n, m);
	assert_int_equal(rf_psorted_get(n, 0, -5, &v), 0);
	assert_int_equal(v, 2);
	rf_psorted_release(n);
	rf_tsorted *t;
	assert_int_equal(rf_psorted_transient(NULL, &t), -EINVAL);
	assert_int_equal(rf_psorted_transient(m, NULL), -EINVAL);
	assert_int_equal(rf_tsorted_assoc(NULL, 1, 1), -EINVAL);
	assert_int_equal(rf_tsorted_dissoc(NULL, 1), -EINVAL);
	assert_int_equal(rf_tsorted_get(NULL, 1, 0, &v), -EINVAL);
	assert_int_equal(rf_tsorted_count(NULL), 0);
	assert_int_equal(rf_tsorted_persistent(NULL, &n), -EINVAL);
	rf_tsorted_free(NULL);
	assert_int_equal(rf_psorted_transient(m, &t), 0);
	assert_int_equal(rf_tsorted_get(t, 1, 0, NULL), -EINVAL);
	assert_int_equal(rf_tsorted_persistent(t, NULL), -EINVAL);
	assert_int_equal(rf_tsorted_dissoc(t, 42), 0); /* absent: nothing changes */
	assert_int_equal(rf_tsorted_count(t), 5);
	assert_int_equal(rf_tsorted_assoc(t, INT64_MIN, 1), 0); /* the same value */
	assert_int_equal(rf_tsorted_get(t, INT64_MIN, -1, &v), 0);
	assert_int_equal(v, 1);
	rf_tsorted_free(t);
	rf_psorted_release(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_ops),
	    cmocka_unit_test(sequential_keys),
	    cmocka_unit_test(user_order),
	    cmocka_unit_test(owned_entries_balance),
	    cmocka_unit_test(transient_batches),
	    cmocka_unit_test(transient_runs),
	    cmocka_unit_test(transient_owned_balance),
	    cmocka_unit_test(transient_rotations_of_shared_nodes),
	    cmocka_unit_test(transient_dissoc_in_place),
	    cmocka_unit_test(transient_mixed_of_shared_nodes),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
