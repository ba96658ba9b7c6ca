/* Allocation failure: every operation of the three collections, with its k-th allocation
 * made to fail for every k until it succeeds, returns -ENOMEM, leaves its input as it was
 * and leaks nothing (ASan/LSan in the asan preset; element references counted here).
 * malloc, calloc and the collections' block caches are wrapped at link time (-Wl,--wrap); only the
 * test's own thread ever sees a failure, so the runtime's threads are untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "persistent/pvec_iota.h"
#include "ringfold.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_cmem_alloc(size_t n);
void *__real_cmem_node_alloc(size_t n);

static _Thread_local long countdown; /* > 0: the countdown-th allocation from now fails */
static _Thread_local long injected;  /* failures made so far: proves the wrap is in place */

static bool fail_now(void)
{
	if (countdown > 0 && --countdown == 0) {
		injected++;
		return true;
	}
	return false;
}
void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}
void *__wrap_cmem_alloc(size_t n) /* the nodes' caches (runtime/coll/cmem.h): hits fail too */
{
	return fail_now() ? NULL : __real_cmem_alloc(n);
}
void *__wrap_cmem_node_alloc(size_t n)
{
	return fail_now() ? NULL : __real_cmem_node_alloc(n);
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
static const rf_coll_ops counted = {.size = sizeof(rf_coll_ops),
                                    .retain = retain_,
                                    .release = release_,
                                    .key_retain = retain_,
                                    .key_release = release_};
/* Run op with its k-th allocation failing, k = 1, 2, ...: each failure must return
 * -ENOMEM and leave `live` (the references held) as it was; then it must succeed. */
typedef int (*op_fn)(void *state, void **result);
static void each_failure(op_fn op, void *state, void (*drop)(void *))
{
	for (long k = 1; k < 5000; k++) {
		long before = atomic_load(&live);
		void *result = NULL;
		countdown = k;
		int rc = op(state, &result);
		bool failed_inside = countdown == 0;
		countdown = 0;
		if (rc == 0) {
			assert_false(failed_inside); /* an allocation failed and was not reported */
			drop(result);
			return;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(atomic_load(&live), before);
	}
	fail_msg("never succeeded");
}

/* ---- vectors ---- */

static rf_pvec *vec_of(size_t n)
{
	rf_pvec *v, *w;
	assert_int_equal(rf_pvec_new(&counted, &v), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rf_pvec_conj(v, (rf_val)i, &w), 0);
		rf_pvec_release(v);
		v = w;
	}
	return v;
}
static void drop_vec(void *p)
{
	rf_pvec_release(p);
}
static void drop_tvec(void *p)
{
	rf_tvec_free(p);
}

static int v_conj(void *s, void **r)
{
	return rf_pvec_conj(s, 7, (rf_pvec **)r);
}
static int v_assoc_trie(void *s, void **r)
{
	return rf_pvec_assoc(s, 3, 7, (rf_pvec **)r);
}
static int v_pop(void *s, void **r)
{
	return rf_pvec_pop(s, (rf_pvec **)r);
}
static int v_subvec(void *s, void **r)
{
	return rf_pvec_subvec(s, 1, 40, (rf_pvec **)r);
}
static int v_transient_ops(void *s, void **r)
{
	rf_tvec *t;
	int rc = rf_pvec_transient(s, &t);
	if (rc < 0)
		return rc;
	/* t is consumed on failure here: the test's own cleanup, as a caller would do */
	for (int i = 0; i < 70 && rc == 0; i++)
		rc = rf_tvec_conj(t, i);
	for (int i = 0; i < 40 && rc == 0; i++)
		rc = rf_tvec_pop(t);
	if (rc == 0)
		rc = rf_tvec_assoc(t, 5, 9);
	if (rc < 0) {
		rf_tvec_free(t);
		return rc;
	}
	*r = t;
	return 0;
}

static void vectors(void **state)
{
	static const size_t sizes[] = {5, 32, 33, 1056, 1057, 1100};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		rf_pvec *v = vec_of(n);
		each_failure(v_conj, v, drop_vec);
		each_failure(v_assoc_trie, v, drop_vec);
		each_failure(v_pop, v, drop_vec);
		if (n >= 40)
			each_failure(v_subvec, v, drop_vec);
		each_failure(v_transient_ops, v, drop_tvec);
		assert_pvec_iota(v, n);
		rf_pvec_release(v);
	}
	assert_int_equal(atomic_load(&live), 0);
	print_message("%ld allocation failures injected\n", injected);
	assert_true(injected > 50);
}

/* ---- hash maps ---- */

static uint64_t collide(rf_val k, rf_val ctx)
{
	return rf_hash_int(k % 5, 0); /* collision nodes under bitmap nodes */
}

static void drop_map(void *p)
{
	rf_phm_release(p);
}
static int m_assoc_new(void *s, void **r)
{
	return rf_phm_assoc(s, 100003, 1, (rf_phm **)r);
}
static int m_assoc_old(void *s, void **r)
{
	return rf_phm_assoc(s, 17, -1, (rf_phm **)r);
}
static int m_dissoc(void *s, void **r)
{
	return rf_phm_dissoc(s, 17, (rf_phm **)r);
}
static int m_transient_ops(void *s, void **r)
{
	rf_thm *t;
	int rc = rf_phm_transient(s, &t);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 300 && rc == 0; i++)
		rc = rf_thm_assoc(t, 1000 + i, i);
	for (int i = 0; i < 300 && rc == 0; i += 3)
		rc = rf_thm_dissoc(t, i);
	rf_phm *m = NULL;
	if (rc == 0)
		rc = rf_thm_persistent(t, &m);
	if (rc < 0) {
		rf_thm_free(t);
		return rc;
	}
	*r = m;
	return 0;
}
static int m_merge(void *s, void **r)
{
	rf_phm **ab = s;
	return rf_phm_merge(ab[0], ab[1], (rf_phm **)r);
}

static void maps_with(const rf_coll_ops *ops)
{
	rf_phm *m, *n, *b;
	assert_int_equal(rf_phm_new(ops, &m), 0);
	assert_int_equal(rf_phm_new(ops, &b), 0);
	for (int k = 0; k < 300; k++) {
		assert_int_equal(rf_phm_assoc(m, k, k, &n), 0);
		rf_phm_release(m);
		m = n;
		assert_int_equal(rf_phm_assoc(b, k * 2, -k, &n), 0);
		rf_phm_release(b);
		b = n;
	}
	each_failure(m_assoc_new, m, drop_map);
	each_failure(m_assoc_old, m, drop_map);
	each_failure(m_dissoc, m, drop_map);
	each_failure(m_transient_ops, m, drop_map);
	rf_phm *pair[2] = {m, b};
	each_failure(m_merge, pair, drop_map);
	assert_int_equal(rf_phm_count(m), 300);
	for (int k = 0; k < 300; k++) {
		rf_val v;
		assert_int_equal(rf_phm_get(m, k, -1, &v), 0);
		assert_int_equal(v, k);
	}
	rf_phm_release(m);
	rf_phm_release(b);
	assert_int_equal(atomic_load(&live), 0);
}

static void maps(void **state)
{
	long before = injected;
	maps_with(&counted);
	assert_true(injected > before + 100);
	rf_coll_ops c = counted;
	c.hash = collide;
	maps_with(&c);
}

/* ---- sorted maps ---- */

static void drop_sorted(void *p)
{
	rf_psorted_release(p);
}
static int s_assoc(void *s, void **r)
{
	return rf_psorted_assoc(s, 150, 1, (rf_psorted **)r);
}
static int s_dissoc(void *s, void **r)
{
	return rf_psorted_dissoc(s, 64, (rf_psorted **)r);
}

/* A batch through a transient; an assoc! or dissoc! that fails leaves the transient's
 * entries as they were (checked here), and the transient is then freed. */
static int s_transient_ops(void *s, void **r)
{
	rf_tsorted *t;
	int rc = rf_psorted_transient(s, &t);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 120 && rc == 0; i++) {
		rf_val k = i % 3 ? 2 * i + 1 : 4 * i, before, after;
		size_t n = rf_tsorted_count(t);
		assert_int_equal(rf_tsorted_get(t, k, -1, &before), 0);
		rc = i % 5 == 4 ? rf_tsorted_dissoc(t, k) : rf_tsorted_assoc(t, k, 1000 + i);
		if (rc < 0) {
			assert_int_equal(rf_tsorted_count(t), n);
			assert_int_equal(rf_tsorted_get(t, k, -1, &after), 0);
			assert_int_equal(after, before);
		}
	}
	rf_psorted *m = NULL;
	if (rc == 0)
		rc = rf_tsorted_persistent(t, &m);
	if (rc < 0) {
		rf_tsorted_free(t);
		return rc;
	}
	*r = m;
	return 0;
}

static void sorted(void **state)
{
	rf_psorted *m, *n;
	assert_int_equal(rf_psorted_new(NULL, 0, &counted, &m), 0);
	for (int k = 0; k < 300; k += 2) {
		assert_int_equal(rf_psorted_assoc(m, k, k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	each_failure(s_assoc, m, drop_sorted);
	long before = injected;
	each_failure(s_dissoc, m, drop_sorted);
	assert_true(injected > before);
	before = injected;
	each_failure(s_transient_ops, m, drop_sorted);
	assert_true(injected > before + 50);
	assert_int_equal(rf_psorted_count(m), 150);
	for (int k = 0; k < 300; k++)
		assert_int_equal(rf_psorted_contains(m, k), k % 2 == 0);
	rf_psorted_release(m);
	assert_int_equal(atomic_load(&live), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vectors),
	    cmocka_unit_test(maps),
	    cmocka_unit_test(sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
