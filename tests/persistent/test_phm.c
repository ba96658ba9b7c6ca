/* persistent hash maps: random assoc/dissoc/update sequences checked against a plain
 * table, under the built-in hash, a constant hash (every key collides), a hash whose low
 * 60 bits are equal (deepest trie) and string keys; integer keys made to share long hash
 * prefixes under the built-in hash; old versions unchanged; transients;
 * merge; iteration; owned keys and values balanced; nodes a transient made, then lent by
 * a persistent copy, then met by another transient; threads copying the same nodes at
 * once (lending ones and collision nodes); bad input. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"

#define K 600            /* keys 0..K-1 */
#define ABSENT INT64_MIN /* the model's "no entry" */

typedef struct model {
	rf_val v[K];
	size_t n;
} model;

static void check(const rf_phm *m, const model *mo)
{
	assert_int_equal(rf_phm_count(m), mo->n);
	for (int k = 0; k < K; k++) {
		rf_val v = 12345;
		assert_int_equal(rf_phm_get(m, k, ABSENT, &v), 0);
		if (v != mo->v[k])
			fail_msg("key %d: %lld, want %lld", k, (long long)v, (long long)mo->v[k]);
		assert_int_equal(rf_phm_contains(m, k), mo->v[k] != ABSENT);
	}
	/* iteration visits each entry once */
	static unsigned char seen[K];
	memset(seen, 0, sizeof(seen));
	rf_coll_iter it;
	rf_val k, v;
	size_t n = 0;
	rf_phm_iter_init(m, &it);
	while (rf_coll_iter_next(&it, &k, &v)) {
		assert_true(k >= 0 && k < K);
		assert_false(seen[k]);
		seen[k] = 1;
		assert_int_equal(v, mo->v[k]);
		n++;
	}
	assert_int_equal(n, mo->n);
}

static uint64_t const_hash(rf_val k, rf_val ctx)
{
	return 42;
}
/* Equal in the low 60 bits: every pair of keys shares a path down to the last level. */
static uint64_t top_hash(rf_val k, rf_val ctx)
{
	return ((uint64_t)k << 60) | 0x0abcdef012345678ull;
}
/* Few distinct hashes: collision nodes under bitmap nodes, and bitmap nodes over them. */
static uint64_t few_hash(rf_val k, rf_val ctx)
{
	return rf_hash_int(k % 7, 0);
}
static const rf_coll_ops const_ops = {.size = sizeof(rf_coll_ops), .hash = const_hash};
static const rf_coll_ops top_ops = {.size = sizeof(rf_coll_ops), .hash = top_hash};
static const rf_coll_ops few_ops = {.size = sizeof(rf_coll_ops), .hash = few_hash};

static int plus(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg;
	return 0;
}

static void random_ops_with(const rf_coll_ops *ops, int steps, unsigned seed)
{
	enum { KEEP = 24 };
	srand(seed);
	model mo;
	for (int k = 0; k < K; k++)
		mo.v[k] = ABSENT;
	mo.n = 0;
	rf_phm *m;
	assert_int_equal(rf_phm_new(ops, &m), 0);
	rf_phm *kept[KEEP];
	model *kept_m = malloc(KEEP * sizeof(model));
	int nkept = 0;
	for (int s = 0; s < steps; s++) {
		if (s % (steps / KEEP) == steps / KEEP - 1 && nkept < KEEP) {
			rf_phm_retain(m);
			kept[nkept] = m;
			kept_m[nkept++] = mo;
		}
		int op = rand() % 10, k = rand() % K;
		rf_val v = rand() % 1000;
		rf_phm *n;
		if (op < 5) {
			assert_int_equal(rf_phm_assoc(m, k, v, &n), 0);
			mo.n += mo.v[k] == ABSENT;
			mo.v[k] = v;
		} else if (op < 6) {
			assert_int_equal(rf_phm_update(m, k, plus, v, &n), 0);
			mo.n += mo.v[k] == ABSENT;
			mo.v[k] = (mo.v[k] == ABSENT ? 0 : mo.v[k]) + v;
		} else {
			assert_int_equal(rf_phm_dissoc(m, k, &n), 0);
			mo.n -= mo.v[k] != ABSENT;
			mo.v[k] = ABSENT;
		}
		rf_phm_release(m);
		m = n;
		if (s % 1999 == 0)
			check(m, &mo);
	}
	check(m, &mo);
	for (int i = 0; i < nkept; i++) {
		check(kept[i], &kept_m[i]);
		rf_phm_release(kept[i]);
	}
	/* empty it completely: the root goes back to nothing */
	for (int k = 0; k < K; k++) {
		rf_phm *n;
		assert_int_equal(rf_phm_dissoc(m, k, &n), 0);
		rf_phm_release(m);
		m = n;
	}
	assert_int_equal(rf_phm_count(m), 0);
	rf_phm_release(m);
	free(kept_m);
}

static void random_ops(void **state)
{
	random_ops_with(NULL, 40000, 3);
}
static void constant_hash(void **state)
{
	random_ops_with(&const_ops, 6000, 4);
}
static void deepest_paths(void **state)
{
	random_ops_with(&top_ops, 20000, 5);
}
static void few_hashes(void **state)
{
	random_ops_with(&few_ops, 8000, 6);
}

/* The inverse of a multiply by odd c mod 2^64 (Newton's iteration). */
static uint64_t mul_inverse(uint64_t c)
{
	uint64_t x = c; /* right in the low 3 bits */
	for (int i = 0; i < 5; i++)
		x *= 2 - c * x;
	return x;
}

/* The key whose rf_hash_int is h: rf_hash_int undone step by step (x ^= x >> 33 is its own
 * inverse). */
static rf_val key_with_hash(uint64_t h)
{
	h ^= h >> 33;
	h *= mul_inverse(0xc4ceb9fe1a85ec53ull);
	h ^= h >> 33;
	h *= mul_inverse(0xff51afd7ed558ccdull);
	h ^= h >> 33;
	return (rf_val)h;
}

/* Integer keys under the built-in hash (the get path that walks its own loop) whose hashes
 * share their low 35, 40, 45, 55 and 60 bits: paths of 8 to 13 levels, present and absent
 * keys at each depth, in a map built persistently and one built through a transient. */
static void word_keys_deep_paths(void **state)
{
	enum { SHARED = 5, PER = 6 };
	static const unsigned bits[SHARED] = {35, 40, 45, 55, 60};
	rf_val keys[SHARED][PER];
	for (int s = 0; s < SHARED; s++)
		for (int i = 0; i < PER; i++) {
			uint64_t h = 0x0123456789abcdefull & ((1ull << bits[s]) - 1);
			h |= (uint64_t)(s * PER + i + 1) << bits[s];
			keys[s][i] = key_with_hash(h);
			assert_true(rf_hash_int(keys[s][i], 0) == h);
		}
	rf_phm *e, *m, *n, *tm;
	rf_thm *t;
	assert_int_equal(rf_phm_new(NULL, &e), 0);
	assert_int_equal(rf_phm_transient(e, &t), 0);
	m = e;
	rf_phm_retain(m);
	/* even i present, odd i absent; plus ordinary keys around them */
	for (int s = 0; s < SHARED; s++)
		for (int i = 0; i < PER; i += 2) {
			assert_int_equal(rf_phm_assoc(m, keys[s][i], s * 100 + i, &n), 0);
			rf_phm_release(m);
			m = n;
			assert_int_equal(rf_thm_assoc(t, keys[s][i], s * 100 + i), 0);
		}
	for (rf_val k = 0; k < 300; k++) {
		assert_int_equal(rf_phm_assoc(m, k, -k, &n), 0);
		rf_phm_release(m);
		m = n;
		assert_int_equal(rf_thm_assoc(t, k, -k), 0);
	}
	assert_int_equal(rf_thm_persistent(t, &tm), 0);
	rf_phm *maps[2] = {m, tm};
	for (int x = 0; x < 2; x++) {
		assert_int_equal(rf_phm_count(maps[x]), SHARED * PER / 2 + 300);
		for (int s = 0; s < SHARED; s++)
			for (int i = 0; i < PER; i++) {
				rf_val v = 7;
				assert_int_equal(rf_phm_get(maps[x], keys[s][i], ABSENT, &v), 0);
				assert_int_equal(v, i % 2 ? ABSENT : s * 100 + i);
				assert_int_equal(rf_phm_contains(maps[x], keys[s][i]), i % 2 == 0);
			}
		for (rf_val k = 0; k < 300; k++) {
			rf_val v = 7;
			assert_int_equal(rf_phm_get(maps[x], k, ABSENT, &v), 0);
			assert_int_equal(v, -k);
		}
	}
	rf_phm_release(m);
	rf_phm_release(tm);
	rf_phm_release(e);
}

static void transients_and_merge(void **state)
{
	rf_phm *e, *a, *b, *m;
	assert_int_equal(rf_phm_new(NULL, &e), 0);
	rf_thm *t;
	assert_int_equal(rf_phm_transient(e, &t), 0);
	model mo;
	for (int k = 0; k < K; k++)
		mo.v[k] = ABSENT;
	mo.n = 0;
	srand(9);
	for (int s = 0; s < 30000; s++) {
		int k = rand() % K, op = rand() % 3;
		if (op < 2) {
			assert_int_equal(rf_thm_assoc(t, k, s), 0);
			mo.n += mo.v[k] == ABSENT;
			mo.v[k] = s;
		} else {
			assert_int_equal(rf_thm_dissoc(t, k), 0);
			mo.n -= mo.v[k] != ABSENT;
			mo.v[k] = ABSENT;
		}
		assert_int_equal(rf_thm_count(t), mo.n);
		rf_val v;
		assert_int_equal(rf_thm_get(t, k, ABSENT, &v), 0);
		assert_int_equal(v, mo.v[k]);
	}
	assert_int_equal(rf_thm_persistent(t, &a), 0);
	check(a, &mo);
	assert_int_equal(rf_phm_count(e), 0);
	/* a transient of a shared version changes nothing of it */
	assert_int_equal(rf_phm_transient(a, &t), 0);
	for (int k = 0; k < K; k += 2)
		assert_int_equal(rf_thm_assoc(t, k, -k), 0);
	for (int k = 1; k < K; k += 4)
		assert_int_equal(rf_thm_dissoc(t, k), 0);
	assert_int_equal(rf_thm_persistent(t, &b), 0);
	check(a, &mo);
	/* (merge a b): b wins */
	model mb = mo, mm = mo;
	for (int k = 0; k < K; k++) {
		if (k % 2 == 0)
			mb.v[k] = -k;
		else if (k % 4 == 1)
			mb.v[k] = ABSENT;
	}
	mb.n = 0;
	for (int k = 0; k < K; k++)
		mb.n += mb.v[k] != ABSENT;
	check(b, &mb);
	assert_int_equal(rf_phm_merge(a, b, &m), 0);
	mm.n = 0;
	for (int k = 0; k < K; k++) {
		if (mb.v[k] != ABSENT)
			mm.v[k] = mb.v[k];
		mm.n += mm.v[k] != ABSENT;
	}
	check(m, &mm);
	rf_phm *same;
	assert_int_equal(rf_phm_merge(a, e, &same), 0); /* a's entries, a version of its own */
	assert_ptr_not_equal(same, a);
	check(same, &mo);
	rf_phm_release(same);
	rf_phm *s;
	assert_int_equal(rf_phm_new(&rf_coll_str, &s), 0);
	assert_int_equal(rf_phm_merge(a, s, &same), -EINVAL); /* different ops */
	rf_phm_release(s);
	rf_phm_release(m);
	rf_phm_release(b);
	rf_phm_release(a);
	rf_phm_release(e);
}

static void string_keys(void **state)
{
	char keys[200][16];
	rf_phm *m, *n;
	assert_int_equal(rf_phm_new(&rf_coll_str, &m), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
		assert_int_equal(rf_phm_assoc(m, rf_from_ptr(keys[i]), i, &n), 0);
		rf_phm_release(m);
		m = n;
	}
	char probe[16];
	for (int i = 0; i < 210; i++) {
		snprintf(probe, sizeof(probe), "key-%d", i); /* a different pointer, equal text */
		rf_val v;
		assert_int_equal(rf_phm_get(m, rf_from_ptr(probe), -1, &v), 0);
		assert_int_equal(v, i < 200 ? i : -1);
	}
	assert_int_equal(rf_phm_dissoc(m, rf_from_ptr("key-7"), &n), 0);
	assert_int_equal(rf_phm_count(n), 199);
	assert_false(rf_phm_contains(n, rf_from_ptr("key-7")));
	assert_true(rf_phm_contains(m, rf_from_ptr("key-7")));
	rf_phm_release(n);
	rf_phm_release(m);
}

/* Owned keys and values: each element held while a version reaches it, none released
 * more often than retained, and every retain matched by a release in the end. Keys and
 * values are small integers, counted one by one. */
#define NEL 8192
static _Atomic long live_vals, live_keys, under;
static _Atomic int vcount[NEL], kcount[NEL];
static void count(_Atomic int *c, _Atomic long *live, rf_val x, int d)
{
	if (x < 0 || x >= NEL || atomic_fetch_add(&c[x], d) + d < 0)
		atomic_fetch_add(&under, 1); /* checked by the test thread */
	atomic_fetch_add(live, d);
}
static void v_retain(rf_val x, rf_val ctx)
{
	count(vcount, &live_vals, x, 1);
}
static void v_release(rf_val x, rf_val ctx)
{
	count(vcount, &live_vals, x, -1);
}
static void k_retain(rf_val x, rf_val ctx)
{
	count(kcount, &live_keys, x, 1);
}
static void k_release(rf_val x, rf_val ctx)
{
	count(kcount, &live_keys, x, -1);
}

/* Counted keys and values, hashed by the built-in hash and by few_hash (collisions). */
static const rf_coll_ops counted_ops[2] = {{.size = sizeof(rf_coll_ops),
                                            .retain = v_retain,
                                            .release = v_release,
                                            .key_retain = k_retain,
                                            .key_release = k_release},
                                           {.size = sizeof(rf_coll_ops),
                                            .hash = few_hash,
                                            .retain = v_retain,
                                            .release = v_release,
                                            .key_retain = k_retain,
                                            .key_release = k_release}};

/* Every counted key and value was released exactly as often as retained. */
static void assert_all_dropped(void)
{
	assert_int_equal(atomic_load(&live_vals), 0);
	assert_int_equal(atomic_load(&live_keys), 0);
	assert_int_equal(atomic_load(&under), 0);
}

/* The map k -> k for every k < n, built through a transient. */
static rf_phm *identity_map(const rf_coll_ops *ops, rf_val n)
{
	rf_phm *e, *m;
	rf_thm *t;
	assert_int_equal(rf_phm_new(ops, &e), 0);
	assert_int_equal(rf_phm_transient(e, &t), 0);
	for (rf_val k = 0; k < n; k++)
		assert_int_equal(rf_thm_assoc(t, k, k), 0);
	assert_int_equal(rf_thm_persistent(t, &m), 0);
	rf_phm_release(e);
	return m;
}

/* Every key and value m reaches is held. */
static void held(const rf_phm *m)
{
	rf_coll_iter it;
	rf_val k, v;
	rf_phm_iter_init(m, &it);
	while (rf_coll_iter_next(&it, &k, &v)) {
		assert_true(atomic_load(&kcount[k]) >= 1);
		assert_true(atomic_load(&vcount[v]) >= 1);
	}
}

static void owned_entries_balance(void **state)
{
	for (int o = 0; o < 2; o++) {
		rf_phm *m, *n, *old = NULL;
		rf_val mo[300]; /* the values m should hold, -1: absent */
		for (int k = 0; k < 300; k++)
			mo[k] = -1;
		assert_int_equal(rf_phm_new(&counted_ops[o], &m), 0);
		srand(21);
		for (int s = 0; s < 6000; s++) {
			int k = rand() % 300;
			if (s == 3000) {
				rf_phm_retain(m);
				old = m;
			}
			if (rand() % 3) {
				assert_int_equal(rf_phm_assoc(m, k, s, &n), 0);
				mo[k] = s;
			} else {
				assert_int_equal(rf_phm_dissoc(m, k, &n), 0);
				mo[k] = -1;
			}
			rf_phm_release(m);
			m = n;
			if (s % 250 == 0) {
				held(m);
				if (old)
					held(old);
			}
		}
		held(m);
		held(old);
		/* counted_ops[0] has neither hash nor eq: its gets take the word-key path */
		for (int k = 0; k < 300; k++) {
			rf_val v;
			assert_int_equal(rf_phm_get(m, k, -1, &v), 0);
			assert_int_equal(v, mo[k]);
			assert_int_equal(rf_phm_contains(m, k), mo[k] != -1);
		}
		assert_int_equal(atomic_load(&under), 0);
		rf_thm *t;
		assert_int_equal(rf_phm_transient(m, &t), 0);
		for (int k = 0; k < 400; k++)
			assert_int_equal(rf_thm_assoc(t, k, k), 0);
		for (int k = 0; k < 400; k += 3)
			assert_int_equal(rf_thm_dissoc(t, k), 0);
		rf_phm *p;
		assert_int_equal(rf_thm_persistent(t, &p), 0);
		assert_int_equal(rf_phm_transient(p, &t), 0);
		assert_int_equal(rf_thm_assoc(t, 1000, 1), 0);
		rf_thm_free(t);
		rf_phm *mg;
		assert_int_equal(rf_phm_merge(old, p, &mg), 0);
		rf_phm_release(mg);
		rf_phm_release(p);
		rf_phm_release(old);
		rf_phm_release(m);
		assert_all_dropped();
	}
}

/* A node's link word holds a transient's token or, once it lends, its lender: nodes made
 * by a transient (tokens), frozen by persistent!, lend to a persistent copy; a second
 * transient of the old version meets those nodes (lender or dead token, neither its own)
 * and must copy them, never change them in place. Every version reads as made and every
 * key and value is released once. Under the built-in hash (bitmap nodes, which lend) and
 * a constant one (a collision node, which never lends: its copies take references). */
static void lent_nodes_meet_transients(void **state)
{
	enum { N = 2000 }; /* values up to 3N: under NEL */
	for (int o = 0; o < 2; o++) {
		int n = o ? 300 : N; /* a collision node's copy is linear in its size */
		rf_phm *m1 = identity_map(&counted_ops[o], n), *m2, *m3, *x;
		rf_thm *t;
		/* m2: every key of m1 replaced, one at a time, the versions between dropped */
		m2 = m1;
		rf_phm_retain(m2);
		for (rf_val k = 0; k < n; k++) {
			assert_int_equal(rf_phm_assoc(m2, k, n + k, &x), 0);
			rf_phm_release(m2);
			m2 = x;
		}
		/* a transient of m1 changes every key too, and adds and removes some */
		assert_int_equal(rf_phm_transient(m1, &t), 0);
		for (rf_val k = 0; k < n; k++)
			assert_int_equal(rf_thm_assoc(t, k, 2 * n + k), 0);
		for (rf_val k = 0; k < n; k += 3)
			assert_int_equal(rf_thm_dissoc(t, k), 0);
		for (rf_val k = n; k < n + 100; k++)
			assert_int_equal(rf_thm_assoc(t, k, k), 0);
		assert_int_equal(rf_thm_persistent(t, &m3), 0);
		assert_int_equal(atomic_load(&under), 0);
		assert_int_equal(rf_phm_count(m1), n);
		assert_int_equal(rf_phm_count(m2), n);
		assert_int_equal(rf_phm_count(m3), n - (n + 2) / 3 + 100);
		for (rf_val k = 0; k < n + 100; k++) {
			rf_val v1, v2, v3;
			assert_int_equal(rf_phm_get(m1, k, -1, &v1), 0);
			assert_int_equal(rf_phm_get(m2, k, -1, &v2), 0);
			assert_int_equal(rf_phm_get(m3, k, -1, &v3), 0);
			assert_int_equal(v1, k < n ? k : -1);
			assert_int_equal(v2, k < n ? n + k : -1);
			assert_int_equal(v3, k >= n ? k : k % 3 ? 2 * n + k : -1);
		}
		held(m1);
		held(m2);
		held(m3);
		/* the lender (m1) goes first: its borrowed words stay alive in m2 */
		rf_phm_release(m1);
		held(m2);
		rf_phm_release(m2);
		held(m3);
		rf_phm_release(m3);
		assert_all_dropped();
	}
}

/* Threads that copy the same nodes at once: each derives versions from one shared map
 * (made by a transient, so its nodes hold a dead token) and checks them, keeping a few
 * and dropping the rest, so that copies race to lend the same path nodes and lenders and
 * borrowers go in any order on any thread. Under few_hash the paths end in collision nodes
 * (copied with references of their own). The shared map reads as made throughout, and
 * every key and value is released once in the end. */
#define SH_KEYS 700
#define SH_THREADS 4
static rf_phm *shared_map;

static void *copier(void *arg)
{
	intptr_t me = (intptr_t)arg;
	rf_phm *kept[8] = {0};
	rf_val kept_k[8];
	for (rf_val i = 0; i < 1500; i++) {
		rf_val k = (me * 7919 + i * 31) % (SH_KEYS + 100), v;
		rf_phm *n;
		RF_CHECK(rf_phm_assoc(shared_map, k, NEL - 1 - k, &n) == 0);
		RF_CHECK(rf_phm_count(n) == SH_KEYS + (k >= SH_KEYS));
		RF_CHECK(rf_phm_get(n, k, -1, &v) == 0 && v == NEL - 1 - k);
		rf_val o = (k + 1) % SH_KEYS;
		RF_CHECK(rf_phm_get(n, o, -1, &v) == 0 && v == o);
		RF_CHECK(rf_phm_get(shared_map, k, -1, &v) == 0 && v == (k < SH_KEYS ? k : -1));
		rf_phm *x = kept[i % 8];
		if (x) {
			RF_CHECK(rf_phm_get(x, kept_k[i % 8], -1, &v) == 0 &&
			         v == NEL - 1 - kept_k[i % 8]);
			rf_phm_release(x);
		}
		kept[i % 8] = n;
		kept_k[i % 8] = k;
	}
	for (int j = 0; j < 8; j++)
		rf_phm_release(kept[j]);
	return NULL;
}

static void threads_copy_the_same_nodes(void **state)
{
	for (int o = 0; o < 2; o++) {
		shared_map = identity_map(&counted_ops[o], SH_KEYS);
		pthread_t th[SH_THREADS];
		for (intptr_t i = 0; i < SH_THREADS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, copier, (void *)i), 0);
		for (int i = 0; i < SH_THREADS; i++)
			pthread_join(th[i], NULL);
		assert_int_equal(rf_phm_count(shared_map), SH_KEYS);
		for (rf_val k = 0; k < SH_KEYS + 100; k++) {
			rf_val v;
			assert_int_equal(rf_phm_get(shared_map, k, -1, &v), 0);
			assert_int_equal(v, k < SH_KEYS ? k : -1);
		}
		held(shared_map);
		rf_phm_release(shared_map);
		assert_all_dropped();
	}
}

/* A map of vectors (rf_coll_nested): the inner vectors live exactly as long as a map
 * version holds them. */
static void nested_collections(void **state)
{
	rf_phm *m, *n;
	assert_int_equal(rf_phm_new(&rf_coll_nested, &m), 0);
	for (int k = 0; k < 50; k++) {
		rf_pvec *v, *w;
		assert_int_equal(rf_pvec_new(NULL, &v), 0);
		assert_int_equal(rf_pvec_conj(v, k, &w), 0);
		rf_pvec_release(v);
		assert_int_equal(rf_phm_assoc(m, k, rf_from_ptr(w), &n), 0);
		rf_pvec_release(w); /* the map holds its own reference */
		rf_phm_release(m);
		m = n;
	}
	rf_val v;
	assert_int_equal(rf_phm_get(m, 17, RF_NIL, &v), 0);
	rf_val x;
	assert_int_equal(rf_pvec_nth(rf_to_ptr(v), 0, &x), 0);
	assert_int_equal(x, 17);
	rf_coll_release(rf_from_ptr(m), 0); /* ASan/LSan: every vector freed with it */
}

static int failing(rf_val old, rf_val arg, rf_val *out)
{
	return -EDOM;
}

static void bad_input(void **state)
{
	rf_phm *m, *n;
	rf_val v;
	assert_int_equal(rf_phm_new(NULL, NULL), -EINVAL);
	rf_coll_ops unsized = {.size = sizeof(rf_coll_ops) - 1, .hash = const_hash};
	assert_int_equal(rf_phm_new(&unsized, &m), -EINVAL);
	assert_int_equal(rf_phm_count(NULL), 0);
	assert_false(rf_phm_contains(NULL, 1));
	assert_int_equal(rf_phm_get(NULL, 1, 0, &v), -EINVAL);
	assert_int_equal(rf_phm_assoc(NULL, 1, 1, &n), -EINVAL);
	assert_int_equal(rf_phm_dissoc(NULL, 1, &n), -EINVAL);
	assert_int_equal(rf_phm_merge(NULL, NULL, &n), -EINVAL);
	assert_int_equal(rf_phm_transient(NULL, &(rf_thm *){NULL}), -EINVAL);
	assert_int_equal(rf_thm_assoc(NULL, 1, 1), -EINVAL);
	rf_phm_release(NULL);
	rf_thm_free(NULL);
	rf_coll_iter it;
	rf_phm_iter_init(NULL, &it);
	assert_false(rf_coll_iter_next(&it, &v, &v));
	assert_int_equal(rf_phm_new(NULL, &m), 0);
	assert_int_equal(rf_phm_update(m, 1, failing, 0, &n), -EDOM);
	assert_int_equal(rf_phm_update(m, 1, NULL, 0, &n), -EINVAL);
	/* extreme keys, nil as a key; dissoc of an absent key gives an equal map, not m */
	rf_val keys[] = {INT64_MIN, INT64_MAX, RF_NIL, -1};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rf_phm_assoc(m, keys[i], i + 10, &n), 0);
		rf_phm_release(m);
		m = n;
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rf_phm_get(m, keys[i], -5, &v), 0);
		assert_int_equal(v, i + 10);
	}
	assert_int_equal(rf_phm_dissoc(m, 77, &n), 0);
	assert_ptr_not_equal(n, m);
	assert_int_equal(rf_phm_count(n), 4);
	rf_phm_release(n);
	assert_int_equal(rf_phm_assoc(m, INT64_MIN, 10, &n), 0); /* the same value */
	assert_ptr_not_equal(n, m);
	assert_int_equal(rf_phm_get(n, INT64_MIN, -5, &v), 0);
	assert_int_equal(v, 10);
	rf_phm_release(n);
	rf_phm_release(m);
}

/* An owning atom takes an update's result equal to the value it holds as that same
 * reference (atom.h): an update that changes nothing must not hand back m itself. */
static int assoc_same(rf_val m, rf_val key, rf_val *out)
{
	rf_phm *n = NULL;
	int rc = rf_phm_assoc(rf_to_ptr(m), key, key, &n);
	*out = rf_from_ptr(n);
	return rc;
}
static int merge_empty(rf_val m, rf_val empty, rf_val *out)
{
	rf_phm *n = NULL;
	int rc = rf_phm_merge(rf_to_ptr(m), rf_to_ptr(empty), &n);
	*out = rf_from_ptr(n);
	return rc;
}

static void owning_atom_changes_nothing(void **state)
{
	(void)state;
	rf_phm *e;
	rf_atom *a;
	assert_int_equal(rf_phm_new(&counted_ops[1], &e), 0);
	assert_int_equal(rf_atom_new_owning(rf_from_ptr(identity_map(&counted_ops[1], 40)),
	                                    rf_coll_release, 0, &a),
	                 0);
	assert_int_equal(rf_atom_swap(a, assoc_same, 7, NULL), 0);        /* 7 -> 7 already */
	assert_int_equal(rf_atom_swap(a, rf_phm_dissoc_op, 99, NULL), 0); /* absent */
	assert_int_equal(rf_atom_swap(a, merge_empty, rf_from_ptr(e), NULL), 0);
	rf_atom_free(a);
	rf_phm_release(e);
	rf_reclaim_barrier();
	assert_all_dropped();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_ops),
	    cmocka_unit_test(constant_hash),
	    cmocka_unit_test(deepest_paths),
	    cmocka_unit_test(few_hashes),
	    cmocka_unit_test(word_keys_deep_paths),
	    cmocka_unit_test(transients_and_merge),
	    cmocka_unit_test(string_keys),
	    cmocka_unit_test(owned_entries_balance),
	    cmocka_unit_test(nested_collections),
	    cmocka_unit_test(lent_nodes_meet_transients),
	    cmocka_unit_test(threads_copy_the_same_nodes),
	    cmocka_unit_test(owning_atom_changes_nothing),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
