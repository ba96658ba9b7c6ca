/* Collections as values shared between threads and fibers: swap! with assoc on an owning
 * atom from several threads and from fibers (futures), alter in dosync on an owning ref,
 * agents conj'ing into a vector, maps carried by a promise and a channel. Values are
 * counted (retain/release through the map's ops): after the references are freed and the
 * grace period has passed, nothing is left alive and nothing was released twice (ASan and
 * TSan builds run this too). Many threads derive versions from one map or vector at once,
 * and race to conj onto one vector version.
 * Checks on other threads abort with file and line. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check.h"
#include "executor/fiber_check.h"
#include "persistent/pvec_iota.h"
#include "ringfold.h"

#define THREADS 4
#define PER (2000 / SCALE)

static _Atomic long live;
static void v_retain(rf_val x, rf_val ctx)
{
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
}
static void v_release(rf_val x, rf_val ctx)
{
	RF_CHECK(atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed) > 0);
}
static const rf_coll_ops counted = {
    .size = sizeof(rf_coll_ops), .retain = v_retain, .release = v_release};

/* (swap! m assoc k (* 2 k)) */
static int assoc_twice(rf_val old, rf_val k, rf_val *out)
{
	rf_phm *n;
	int rc = rf_phm_assoc(rf_to_ptr(old), k, 2 * k, &n);
	if (rc == 0)
		*out = rf_from_ptr(n);
	return rc;
}

/* (swap! counters update k (fnil inc 0)) */
static int bump(rf_val old, rf_val k, rf_val *out)
{
	rf_phm *n;
	int rc = rf_phm_update(rf_to_ptr(old), k, rf_inc, 0, &n);
	if (rc == 0)
		*out = rf_from_ptr(n);
	return rc;
}

static rf_atom *shared;

static void *swapper(void *arg)
{
	rf_val base = (rf_val)(intptr_t)arg * PER;
	for (rf_val i = 0; i < PER; i++) {
		RF_CHECK(rf_atom_swap(shared, assoc_twice, base + i, NULL) == 0);
		RF_CHECK(rf_atom_swap(shared, bump, -1 - i % 8, NULL) == 0);
	}
	return NULL;
}

static void check_shared(size_t distinct)
{
	rf_val v;
	rf_reclaim_read_begin();
	assert_int_equal(rf_atom_deref(shared, &v), 0);
	const rf_phm *m = rf_to_ptr(v);
	assert_int_equal(rf_phm_count(m), distinct + 8);
	for (rf_val k = 0; k < (rf_val)distinct; k++) {
		rf_val x;
		assert_int_equal(rf_phm_get(m, k, -1, &x), 0);
		assert_int_equal(x, 2 * k);
	}
	rf_val total = 0;
	for (rf_val k = -8; k < 0; k++) {
		rf_val x;
		assert_int_equal(rf_phm_get(m, k, 0, &x), 0);
		total += x;
	}
	assert_int_equal(total, (rf_val)distinct);
	rf_reclaim_read_end();
}

static void finish_shared(void)
{
	rf_atom_free(shared);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live), 0);
}

static void swap_from_threads(void **state)
{
	rf_phm *m;
	assert_int_equal(rf_phm_new(&counted, &m), 0);
	assert_int_equal(rf_atom_new_owning(rf_from_ptr(m), rf_coll_release, 0, &shared), 0);
	pthread_t t[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, swapper, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	check_shared(THREADS * PER);
	finish_shared();
}

/* Many threads derive versions from one shared version at once (all copying its nodes
 * at the same moment, so each node lends to at most one of the copies), and hand their
 * versions to each other through slots, so that lenders and borrowers go on different
 * threads in any order. Every version reads as made; the shared one stays as it was;
 * nothing is left alive in the end. */
#define BASE_KEYS 500
static rf_phm *base_map;
static _Atomic(rf_phm *) handoff[8];

static void *deriver(void *arg)
{
	intptr_t me = (intptr_t)arg;
	for (rf_val i = 0; i < PER; i++) {
		rf_val k = (me * 7919 + i * 13) % (BASE_KEYS + 200);
		rf_phm *n, *x;
		rf_val v;
		if (i % 4 == 3) {
			RF_CHECK(rf_phm_dissoc(base_map, k, &n) == 0);
			RF_CHECK(!rf_phm_contains(n, k));
			RF_CHECK(rf_phm_count(n) == BASE_KEYS - (k < BASE_KEYS));
		} else {
			RF_CHECK(rf_phm_assoc(base_map, k, -k - 1, &n) == 0);
			RF_CHECK(rf_phm_get(n, k, 0, &v) == 0 && v == -k - 1);
			RF_CHECK(rf_phm_count(n) == BASE_KEYS + (k >= BASE_KEYS));
		}
		RF_CHECK(rf_phm_get(n, (k + 1) % BASE_KEYS, 0, &v) == 0);
		RF_CHECK(v == (k + 1) % BASE_KEYS || (k + 1) % BASE_KEYS == k);
		x = atomic_exchange(&handoff[(me + i) % 8], n); /* seq_cst: hands n over */
		rf_phm_release(x);
	}
	return NULL;
}

static void derive_from_one_version(void **state)
{
	rf_thm *t;
	rf_phm *e;
	assert_int_equal(rf_phm_new(&counted, &e), 0);
	assert_int_equal(rf_phm_transient(e, &t), 0);
	for (rf_val k = 0; k < BASE_KEYS; k++)
		assert_int_equal(rf_thm_assoc(t, k, k), 0);
	assert_int_equal(rf_thm_persistent(t, &base_map), 0);
	rf_phm_release(e);
	for (int round = 0; round < 2; round++) {
		pthread_t th[THREADS];
		for (intptr_t i = 0; i < THREADS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, deriver, (void *)i), 0);
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < 8; i++)
		rf_phm_release(atomic_exchange(&handoff[i], NULL));
	assert_int_equal(rf_phm_count(base_map), BASE_KEYS);
	for (rf_val k = 0; k < BASE_KEYS; k++) {
		rf_val v;
		assert_int_equal(rf_phm_get(base_map, k, -1, &v), 0);
		assert_int_equal(v, k);
	}
	rf_phm_release(base_map);
	assert_int_equal(atomic_load(&live), 0);
}

/* The same for vectors: threads assoc into, conj onto and pop one shared vector at once
 * (copies of the same trie paths), handing their versions to each other. */
#define BASE_LEN 3000
static rf_pvec *base_vec;
static _Atomic(rf_pvec *) vhandoff[8];

static void *vderiver(void *arg)
{
	intptr_t me = (intptr_t)arg;
	for (rf_val i = 0; i < PER; i++) {
		size_t at = (size_t)(me * 7919 + i * 31) % BASE_LEN;
		rf_pvec *n, *x;
		rf_val v;
		switch (i % 3) {
		case 0:
			RF_CHECK(rf_pvec_assoc(base_vec, at, -1, &n) == 0);
			RF_CHECK(rf_pvec_nth(n, at, &v) == 0 && v == -1);
			break;
		case 1: /* one thread claims the shared tail's next slot, the rest copy it */
			RF_CHECK(rf_pvec_conj(base_vec, -2 - me, &n) == 0);
			RF_CHECK(rf_pvec_count(n) == BASE_LEN + 1 && rf_pvec_peek(n, &v) == 0 &&
			         v == -2 - me);
			RF_CHECK(rf_pvec_conj(n, -100 - me, &x) == 0);
			RF_CHECK(rf_pvec_nth(x, BASE_LEN, &v) == 0 && v == -2 - me);
			RF_CHECK(rf_pvec_peek(x, &v) == 0 && v == -100 - me);
			rf_pvec_release(x);
			break;
		default:
			RF_CHECK(rf_pvec_pop(base_vec, &n) == 0);
			RF_CHECK(rf_pvec_count(n) == BASE_LEN - 1);
			break;
		}
		size_t other = (at + 1) % (BASE_LEN - 1);
		RF_CHECK(rf_pvec_nth(n, other, &v) == 0 && v == (rf_val)other);
		x = atomic_exchange(&vhandoff[(me + i) % 8], n); /* seq_cst: hands n over */
		rf_pvec_release(x);
	}
	return NULL;
}

static void derive_vectors_from_one(void **state)
{
	rf_val xs[BASE_LEN];
	for (int i = 0; i < BASE_LEN; i++)
		xs[i] = i;
	assert_int_equal(rf_pvec_from(xs, BASE_LEN, &counted, &base_vec), 0);
	for (int round = 0; round < 2; round++) {
		pthread_t th[THREADS];
		for (intptr_t i = 0; i < THREADS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, vderiver, (void *)i), 0);
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < 8; i++)
		rf_pvec_release(atomic_exchange(&vhandoff[i], NULL));
	assert_pvec_iota(base_vec, BASE_LEN);
	rf_pvec_release(base_vec);
	assert_int_equal(atomic_load(&live), 0);
}

/* Threads conj onto one version at once, round after round: its tail's fill is its
 * length, so each round one conj claims the next slot (and the tail's reference, in the
 * same CAS) and the rest copy the tail; every 32nd round the tail is full and they all
 * copy the path. A slot claimed twice shows as another thread's element in a result, a
 * reference taken or dropped wrongly as a leak or a double release of an element. */
#define RACE_ROUNDS (1000 / SCALE)
static rf_pvec *race_vec; /* 0 .. count - 1; main's alone between the barriers */
static pthread_barrier_t race_go, race_done;

static void *racer(void *arg)
{
	rf_val me = (rf_val)(intptr_t)arg;
	for (int r = 0; r < RACE_ROUNDS; r++) {
		pthread_barrier_wait(&race_go); /* race_vec is this round's */
		size_t len = rf_pvec_count(race_vec);
		rf_pvec *n, *x;
		rf_val v;
		RF_CHECK(rf_pvec_conj(race_vec, -1 - me, &n) == 0);
		RF_CHECK(rf_pvec_conj(n, -100 - me, &x) == 0);
		RF_CHECK(rf_pvec_count(x) == len + 2);
		RF_CHECK(rf_pvec_nth(x, len, &v) == 0 && v == -1 - me);
		RF_CHECK(rf_pvec_peek(x, &v) == 0 && v == -100 - me);
		RF_CHECK(rf_pvec_nth(x, len - 1, &v) == 0 && v == (rf_val)(len - 1));
		rf_pvec_release(n);
		RF_CHECK(rf_pvec_peek(x, &v) == 0 && v == -100 - me);
		rf_pvec_release(x);
		pthread_barrier_wait(&race_done);
	}
	return NULL;
}

static void conj_race_on_one_version(void **state)
{
	assert_int_equal(pthread_barrier_init(&race_go, NULL, THREADS + 1), 0);
	assert_int_equal(pthread_barrier_init(&race_done, NULL, THREADS + 1), 0);
	assert_int_equal(rf_pvec_new(&counted, &race_vec), 0);
	pthread_t th[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, (void *)i), 0);
	for (int r = 0; r < RACE_ROUNDS; r++) {
		rf_pvec *n; /* one more element: a claim, so n's tail's fill is n's length */
		assert_int_equal(rf_pvec_conj(race_vec, (rf_val)r, &n), 0);
		rf_pvec_release(race_vec);
		race_vec = n;
		pthread_barrier_wait(&race_go);
		pthread_barrier_wait(&race_done);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_pvec_iota(race_vec, RACE_ROUNDS);
	rf_pvec_release(race_vec);
	assert_int_equal(atomic_load(&live), 0);
	pthread_barrier_destroy(&race_go);
	pthread_barrier_destroy(&race_done);
}

static int swap_body(rf_val arg, rf_val *out)
{
	swapper((void *)(intptr_t)arg);
	return 0;
}

static void swap_from_fibers(void **state)
{
	enum { FIBERS = 8 };
	rf_phm *m;
	assert_int_equal(rf_phm_new(&counted, &m), 0);
	assert_int_equal(rf_atom_new_owning(rf_from_ptr(m), rf_coll_release, 0, &shared), 0);
	rf_future *f[FIBERS];
	for (int i = 0; i < FIBERS; i++)
		assert_int_equal(rf_future_call(swap_body, i, &f[i]), 0);
	for (int i = 0; i < FIBERS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(f[i], &v), 0);
		rf_future_free(f[i]);
	}
	check_shared(FIBERS * PER);
	finish_shared();
}

/* (dosync (alter r assoc k (* 2 k))) from threads, on a ref that owns its maps. */
static rf_ref *shared_ref;
static int alter_body(rf_val k, rf_val *out)
{
	return rf_ref_alter(shared_ref, assoc_twice, k, NULL);
}
static void *alterer(void *arg)
{
	rf_val base = (rf_val)(intptr_t)arg * PER;
	for (rf_val i = 0; i < PER / 4; i++)
		RF_CHECK(rf_dosync(alter_body, base + i, NULL) == 0);
	return NULL;
}

static void alter_from_threads(void **state)
{
	rf_phm *m;
	assert_int_equal(rf_phm_new(&counted, &m), 0);
	rf_ref_opts opts = {.size = sizeof(rf_ref_opts), .release = rf_coll_release};
	assert_int_equal(rf_ref_new_opts(rf_from_ptr(m), &opts, &shared_ref), 0);
	pthread_t t[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, alterer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	rf_val v;
	rf_reclaim_read_begin();
	assert_int_equal(rf_ref_deref(shared_ref, &v), 0);
	assert_int_equal(rf_phm_count(rf_to_ptr(v)), THREADS * (PER / 4));
	rf_reclaim_read_end();
	rf_ref_free(shared_ref);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live), 0);
}

/* (send a conj x): the action makes the next vector and gives up the old one, which only
 * the agent held (agent.h: the action that replaces a value owns it). */
static int conj_owned(rf_val old, rf_val x, rf_val *out)
{
	rf_pvec *n;
	int rc = rf_pvec_conj(rf_to_ptr(old), x, &n);
	if (rc < 0)
		return rc;
	rf_pvec_release(rf_to_ptr(old));
	*out = rf_from_ptr(n);
	return 0;
}

static void agents_conj(void **state)
{
	enum { AGENTS = 4, SENDS = 500 };
	rf_agent *a[AGENTS];
	for (int i = 0; i < AGENTS; i++) {
		rf_pvec *v;
		assert_int_equal(rf_pvec_new(&counted, &v), 0);
		assert_int_equal(rf_agent_new(rf_from_ptr(v), NULL, &a[i]), 0);
	}
	for (int s = 0; s < SENDS; s++)
		for (int i = 0; i < AGENTS; i++)
			assert_int_equal(rf_agent_send(a[i], conj_owned, s * AGENTS + i), 0);
	assert_int_equal(rf_agent_await(a, AGENTS), 0);
	for (int i = 0; i < AGENTS; i++) {
		rf_val v;
		assert_int_equal(rf_agent_deref(a[i], &v), 0);
		rf_pvec *vec = rf_to_ptr(v);
		assert_int_equal(rf_pvec_count(vec), SENDS);
		for (size_t s = 0; s < SENDS; s++) {
			rf_val x;
			assert_int_equal(rf_pvec_nth(vec, s, &x), 0);
			assert_int_equal(x, (rf_val)s * AGENTS + i);
		}
		rf_agent_free(a[i]);
		rf_pvec_release(vec);
	}
	assert_int_equal(atomic_load(&live), 0);
}

/* A promise and a channel carry a reference from one thread to another. */
static void *producer(void *arg)
{
	rf_chan *ch = arg;
	rf_phm *m, *n;
	RF_CHECK(rf_phm_new(&counted, &m) == 0);
	for (rf_val k = 0; k < 300; k++) {
		RF_CHECK(rf_phm_assoc(m, k, k, &n) == 0);
		rf_phm_retain(n); /* one reference travels, one stays to derive the next */
		RF_CHECK(rf_chan_put(ch, rf_from_ptr(n)) == 0);
		rf_phm_release(m);
		m = n;
	}
	rf_phm_release(m);
	rf_chan_close(ch);
	return NULL;
}

static void promise_and_channel(void **state)
{
	rf_promise *p;
	rf_phm *m;
	assert_int_equal(rf_promise_new(&p), 0);
	assert_int_equal(rf_phm_new(&counted, &m), 0);
	assert_int_equal(rf_promise_deliver(p, rf_from_ptr(m)), 0); /* the reference moves */
	rf_val v;
	assert_int_equal(rf_promise_deref(p, &v), 0);
	assert_int_equal(rf_phm_count(rf_to_ptr(v)), 0);
	rf_phm_release(rf_to_ptr(v));
	rf_promise_free(p);

	rf_chan *ch;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &ch), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, ch), 0);
	size_t want = 1;
	while (rf_chan_take(ch, &v) == 0) {
		rf_phm *got = rf_to_ptr(v);
		assert_int_equal(rf_phm_count(got), want);
		assert_true(rf_phm_contains(got, (rf_val)want - 1));
		rf_phm_release(got);
		want++;
	}
	pthread_join(t, NULL);
	assert_int_equal(want, 301);
	rf_chan_release(ch);
	assert_int_equal(atomic_load(&live), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(swap_from_threads),       cmocka_unit_test(swap_from_fibers),
	    cmocka_unit_test(alter_from_threads),      cmocka_unit_test(agents_conj),
	    cmocka_unit_test(promise_and_channel),     cmocka_unit_test(derive_from_one_version),
	    cmocka_unit_test(derive_vectors_from_one), cmocka_unit_test(conj_race_on_one_version),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
