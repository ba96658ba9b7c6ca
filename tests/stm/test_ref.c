/* Refs and transactions: semantics (unit), one test per rule of Clojure's STM. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/sched/wait.h"
#include "runtime/stm/tx.h"

static rf_ref *A, *B;

static void make_refs(rf_val a, rf_val b)
{
	RF_CHECK_EQ(rf_ref_new(a, &A), 0);
	RF_CHECK_EQ(rf_ref_new(b, &B), 0);
}

static void free_refs(void)
{
	rf_ref_free(A);
	rf_ref_free(B);
}

static rf_val value(rf_ref *r)
{
	rf_val v;
	RF_CHECK_EQ(rf_ref_deref(r, &v), 0);
	return v;
}

/* Threads of this process (entries of /proc/self/task). */
static int threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	RF_CHECK((d) != NULL);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int inc_body(rf_val arg, rf_val *out)
{
	return rf_ref_alter(A, rf_inc, 0, out);
}

/* Runs first: transactions from plain threads need no executor, so they start none
 * (they read their retry limit without starting the runtime). */
static void transactions_start_no_workers(void **state)
{
	make_refs(0, 0);
	int before = threads();
	rf_val v;
	assert_int_equal(rf_dosync(inc_body, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(threads(), before);
	free_refs();
}

static void outside_transaction(void **state)
{
	make_refs(1, 2);
	rf_val v;
	assert_int_equal(rf_ref_alter(A, rf_inc, 0, &v), RF_ENOTX);
	assert_int_equal(rf_ref_set(A, 5), RF_ENOTX);
	assert_int_equal(rf_ref_commute(A, rf_inc, 0, &v), RF_ENOTX);
	assert_int_equal(rf_ref_ensure(A, &v), RF_ENOTX);
	assert_int_equal(rf_io_guard(), 0);
	assert_false(rf_in_transaction());
	assert_int_equal(rf_ref_deref(NULL, &v), -EINVAL);
	assert_int_equal(rf_ref_deref(A, NULL), -EINVAL);
	assert_int_equal(rf_dosync(NULL, 0, &v), -EINVAL);
	assert_int_equal(rf_ref_new(0, NULL), -EINVAL);
	rf_ref *r = A;
	assert_int_equal(rf_ref_new_opts(0, &(rf_ref_opts){.min_history = 1}, &r), -EINVAL);
	assert_int_equal(
	    rf_ref_new_opts(
	        0, &(rf_ref_opts){.size = sizeof(rf_ref_opts), .min_history = 5, .max_history = 2},
	        &r),
	    -EINVAL);
	assert_null(r);
	assert_int_equal(rf_ref_history_count(NULL), -EINVAL);
	assert_int_equal(value(A), 1);
	assert_int_equal(rf_deref(A, &v), 0);
	assert_int_equal(v, 1);
	free_refs();
}

/* (dosync (alter a + 10) (alter b inc) (+ @a @b)) */
static int transfer_body(rf_val arg, rf_val *out)
{
	rf_val a, b;
	int rc;
	if ((rc = rf_ref_alter(A, rf_add, arg, &a)) || (rc = rf_ref_alter(B, rf_inc, 0, &b)))
		return rc;
	RF_CHECK_EQ(rf_io_guard(), RF_EIOINTX);
	RF_CHECK(rf_in_transaction());
	RF_CHECK(stm_tx_running());
	rf_val a2, b2;
	if ((rc = rf_ref_deref(A, &a2)) || (rc = rf_ref_deref(B, &b2)))
		return rc;
	RF_CHECK_EQ(a2, a); /* a transaction sees its own writes */
	*out = a2 + b2;
	return 0;
}

static void alter_commits(void **state)
{
	make_refs(100, 0);
	rf_val out;
	assert_int_equal(rf_dosync(transfer_body, 10, &out), 0);
	assert_int_equal(out, 111);
	assert_int_equal(value(A), 110);
	assert_int_equal(value(B), 1);
	assert_int_equal(rf_dosync(transfer_body, 10, NULL), 0);
	assert_false(rf_in_transaction());
	free_refs();
}

static int inner_body(rf_val arg, rf_val *out)
{
	RF_CHECK(rf_in_transaction());
	return rf_ref_alter(B, rf_add, arg, out);
}

static int outer_body(rf_val arg, rf_val *out)
{
	int rc;
	if ((rc = rf_ref_alter(A, rf_add, arg, NULL)))
		return rc;
	rf_val inner;
	if ((rc = rf_dosync(inner_body, arg, &inner)))
		return rc;
	/* the inner transaction joined ours: nothing is visible outside yet */
	RF_CHECK_EQ(rf_ref_deref(B, out), 0);
	RF_CHECK_EQ(*out, inner);
	return arg == 13 ? -77 : 0;
}

static void nested_dosync_joins(void **state)
{
	make_refs(0, 0);
	rf_val out;
	assert_int_equal(rf_dosync(outer_body, 5, &out), 0);
	assert_int_equal(out, 5);
	assert_int_equal(value(A), 5);
	assert_int_equal(value(B), 5);
	/* a failure after the inner dosync rolls back the inner writes too */
	assert_int_equal(rf_dosync(outer_body, 13, &out), -77);
	assert_int_equal(out, RF_NIL);
	assert_int_equal(value(A), 5);
	assert_int_equal(value(B), 5);
	free_refs();
}

static int failing_body(rf_val arg, rf_val *out)
{
	int rc;
	if ((rc = rf_ref_set(A, 999)) || (rc = rf_ref_commute(B, rf_add, 7, NULL)))
		return rc;
	return (int)arg;
}

static int failing_fn(rf_val old, rf_val arg, rf_val *out)
{
	return -1234;
}

static int alter_fails_body(rf_val arg, rf_val *out)
{
	int rc = rf_ref_set(B, 50);
	if (rc)
		return rc;
	return rf_ref_alter(A, failing_fn, 0, NULL);
}

static void error_rolls_back(void **state)
{
	make_refs(1, 2);
	assert_int_equal(rf_dosync(failing_body, -EIO, NULL), -EIO);
	assert_int_equal(value(A), 1);
	assert_int_equal(value(B), 2);
	assert_int_equal(rf_dosync(alter_fails_body, 0, NULL), -1234);
	assert_int_equal(value(A), 1);
	assert_int_equal(value(B), 2);
	assert_int_equal(rf_dosync(failing_body, 0, NULL), 0);
	assert_int_equal(value(A), 999);
	assert_int_equal(value(B), 9);
	free_refs();
}

static int set_after_commute_body(rf_val arg, rf_val *out)
{
	rf_val v;
	int rc = rf_ref_commute(A, rf_inc, 0, &v);
	if (rc)
		return rc;
	RF_CHECK_EQ(v, 2); /* in-transaction value of commute */
	RF_CHECK_EQ(rf_ref_deref(A, &v), 0);
	RF_CHECK_EQ(v, 2);
	RF_CHECK_EQ(rf_ref_set(A, 5), RF_ECOMMUTESET);
	RF_CHECK_EQ(rf_ref_alter(A, rf_inc, 0, NULL), RF_ECOMMUTESET);
	/* commute after set is fine and is not re-run at commit */
	if ((rc = rf_ref_set(B, 10)) || (rc = rf_ref_commute(B, rf_add, 5, &v)))
		return rc;
	RF_CHECK_EQ(v, 15);
	return (int)arg;
}

static void commute_then_set_is_an_error(void **state)
{
	make_refs(1, 0);
	assert_int_equal(rf_dosync(set_after_commute_body, RF_ECOMMUTESET, NULL), RF_ECOMMUTESET);
	assert_int_equal(value(A), 1);
	assert_int_equal(rf_dosync(set_after_commute_body, 0, NULL), 0);
	assert_int_equal(value(A), 2);
	assert_int_equal(value(B), 15);
	free_refs();
}

static int non_negative(rf_val v, rf_val min)
{
	return v >= min; /* 1 valid, 0 not */
}

static int not_seven(rf_val v, rf_val ctx)
{
	return v == 7 ? -ERANGE : 1;
}

/* Runs before any other test makes a validator: commits skip looking for validators until
 * the process has one, and one set on a ref that commits have written applies to the next
 * commit. */
static void first_validator_set_later(void **state)
{
	make_refs(3, 3);
	assert_int_equal(rf_dosync(transfer_body, 1, NULL), 0); /* B 4, no validator yet */
	assert_int_equal(rf_ref_set_validator(B, not_seven, 0), 0);
	assert_int_equal(rf_dosync(transfer_body, 1, NULL), 0);       /* B 5 */
	assert_int_equal(rf_dosync(transfer_body, 1, NULL), 0);       /* B 6 */
	assert_int_equal(rf_dosync(transfer_body, 1, NULL), -ERANGE); /* B would be 7 */
	assert_int_equal(value(A), 6);
	assert_int_equal(value(B), 6);
	free_refs();
}

static void validators(void **state)
{
	rf_ref *r;
	assert_int_equal(
	    rf_ref_new_opts(
	        -1, &(rf_ref_opts){.size = sizeof(rf_ref_opts), .validator = non_negative}, &r),
	    RF_EVALIDATOR);
	assert_int_equal(
	    rf_ref_new_opts(
	        5, &(rf_ref_opts){.size = sizeof(rf_ref_opts), .validator = non_negative}, &A),
	    0);
	assert_int_equal(rf_ref_new(5, &B), 0);
	/* a rejection aborts the whole transaction: B unchanged too */
	assert_int_equal(rf_dosync(transfer_body, -10, NULL), RF_EVALIDATOR);
	assert_int_equal(value(A), 5);
	assert_int_equal(value(B), 5);
	assert_int_equal(rf_dosync(transfer_body, -5, NULL), 0);
	assert_int_equal(value(A), 0);
	assert_int_equal(rf_ref_set_validator(B, not_seven, 0), 0);
	assert_int_equal(rf_dosync(transfer_body, 1, NULL), -ERANGE); /* B would be 7 */
	assert_int_equal(value(A), 0);
	rf_validator_fn got = NULL;
	rf_val got_ctx = 1;
	assert_int_equal(rf_ref_get_validator(A, &got, &got_ctx), 0);
	assert_ptr_equal(got, non_negative);
	assert_int_equal(got_ctx, 0);
	assert_int_equal(rf_ref_get_validator(NULL, &got, NULL), -EINVAL);
	assert_int_equal(rf_ref_set_validator(A, NULL, 0), 0);
	assert_int_equal(rf_ref_set_validator(B, NULL, 0), 0);
	assert_int_equal(rf_dosync(transfer_body, -1, NULL), 0);
	assert_int_equal(value(A), -1);
	assert_int_equal(rf_ref_set_validator(A, non_negative, 0), RF_EVALIDATOR);
	free_refs();
}

static struct {
	int calls;
	rf_val old, new_val;
	rf_val key;
	bool in_tx;
} seen;

static int watch(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx)
{
	RF_CHECK_EQ(ctx, 99);
	seen.calls++;
	seen.old = old_val;
	seen.new_val = new_val;
	seen.key = key;
	seen.in_tx = rf_in_transaction();
	RF_CHECK((ref) == (A));
	RF_CHECK_EQ(value(ref), new_val); /* after the commit */
	return 0;
}

static int add_twice_body(rf_val arg, rf_val *out);

/* A watch that fails with the code in ctx, counting its calls. */
static int failing_watch_calls;
static int failing_watch(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx)
{
	(void)key, (void)ref, (void)old_val, (void)new_val;
	failing_watch_calls++;
	return (int)ctx;
}

/* A watch's negative code comes back from rf_dosync after the commit; every other
 * watch still runs; the value stays changed; remove of an unknown key is 0. */
static void watch_codes(void **state)
{
	make_refs(10, 0);
	seen.calls = 0;
	failing_watch_calls = 0;
	assert_int_equal(rf_ref_add_watch(A, 1, failing_watch, -EPIPE), 0);
	assert_int_equal(rf_ref_add_watch(A, 2, watch, 99), 0);
	assert_int_equal(rf_ref_add_watch(A, 3, failing_watch, -EIO), 0);
	rf_val out = 0;
	assert_int_equal(rf_dosync(add_twice_body, 1, &out), -EPIPE); /* the first code */
	assert_int_equal(failing_watch_calls, 2);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(value(A), 12);                                /* committed */
	assert_int_equal(rf_ref_add_watch(A, 1, failing_watch, 0), 0); /* replaced by key */
	assert_int_equal(rf_dosync(add_twice_body, 1, &out), -EIO);
	assert_int_equal(value(A), 14);
	assert_int_equal(rf_ref_remove_watch(A, 3), 0);
	assert_int_equal(rf_dosync(add_twice_body, 1, &out), 0);
	assert_int_equal(rf_ref_remove_watch(A, 77), 0);
	assert_int_equal(rf_ref_remove_watch(NULL, 1), -EINVAL);
	free_refs();
}

static int add_twice_body(rf_val arg, rf_val *out)
{
	int rc;
	if ((rc = rf_ref_alter(A, rf_add, arg, NULL)) || (rc = rf_ref_alter(A, rf_add, arg, NULL)))
		return rc;
	return 0;
}

static void watches(void **state)
{
	make_refs(10, 0);
	rf_val key1 = 1, key2 = 2;
	assert_int_equal(rf_ref_add_watch(A, key1, watch, 99), 0);
	assert_int_equal(rf_ref_add_watch(A, key2, NULL, 0), -EINVAL);
	assert_int_equal(rf_dosync(add_twice_body, 1, NULL), 0);
	assert_int_equal(seen.calls, 1); /* once per commit, not per alter */
	assert_int_equal(seen.old, 10);
	assert_int_equal(seen.new_val, 12);
	assert_int_equal(seen.key, key1);
	assert_false(seen.in_tx);
	assert_int_equal(rf_dosync(add_twice_body, -EIO, NULL), 0);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(rf_dosync(failing_body, -EIO, NULL), -EIO); /* no commit, no call */
	assert_int_equal(seen.calls, 2);
	assert_int_equal(rf_ref_remove_watch(A, key1), 0);
	assert_int_equal(rf_ref_remove_watch(A, key1), 0);
	assert_int_equal(rf_dosync(add_twice_body, 1, NULL), 0);
	assert_int_equal(seen.calls, 2);
	free_refs();
}

static int sent, dropped;
static void send_fn(void *arg)
{
	sent += (int)(intptr_t)arg;
}
static void drop_fn(void *arg)
{
	dropped += (int)(intptr_t)arg;
}

static int attempts;

static int defer_body(rf_val arg, rf_val *out)
{
	int rc = stm_tx_defer(send_fn, (void *)(intptr_t)1, drop_fn);
	if (rc || (rc = rf_ref_alter(A, rf_inc, 0, NULL)))
		return rc;
	if (arg && ++attempts == 1)
		return RF_ETXRETRY; /* first attempt: retry, as after a conflict */
	return (int)arg;
}

static void held_sends(void **state)
{
	make_refs(0, 0);
	assert_int_equal(stm_tx_defer(send_fn, NULL, drop_fn), RF_ENOTX);
	assert_int_equal(rf_dosync(defer_body, 0, NULL), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(dropped, 0);
	/* dropped on retry, sent once after the commit */
	assert_int_equal(rf_dosync(defer_body, -EIO, NULL), -EIO);
	assert_int_equal(sent, 1);
	assert_int_equal(dropped, 2); /* the retried attempt, then the aborting one */
	assert_int_equal(value(A), 1);
	free_refs();
}

static int ensure_body(rf_val arg, rf_val *out)
{
	int rc;
	if ((rc = rf_ref_ensure(A, out)) || (rc = rf_ref_ensure(A, out)))
		return rc;
	if ((rc = rf_ref_alter(A, rf_inc, 0, NULL)) || (rc = rf_ref_ensure(A, out)))
		return rc;
	return rf_ref_ensure(B, NULL);
}

static void ensure_and_history(void **state)
{
	make_refs(3, 4);
	rf_val out;
	assert_int_equal(rf_dosync(ensure_body, 0, &out), 0);
	assert_int_equal(out, 4); /* own write seen */
	assert_int_equal(value(A), 4);
	assert_int_equal(rf_ref_history_count(A), 0); /* no reader faulted: no older version kept */
	rf_ref *r;
	assert_int_equal(
	    rf_ref_new_opts(
	        0, &(rf_ref_opts){.size = sizeof(rf_ref_opts), .min_history = 3, .max_history = 5},
	        &r),
	    0);
	rf_ref_free(A);
	A = r;
	for (int i = 0; i < 10; i++)
		assert_int_equal(rf_dosync(add_twice_body, 1, NULL), 0);
	assert_int_equal(rf_ref_history_count(A), 3); /* grown to min_history, no faults */
	assert_int_equal(value(A), 20);
	/* a ref made without history wants it once its min_history is raised */
	assert_int_equal(
	    rf_ref_new_opts(0, &(rf_ref_opts){.size = sizeof(rf_ref_opts), .max_history = 5}, &r),
	    0);
	rf_ref_free(A);
	A = r;
	assert_int_equal(rf_dosync(add_twice_body, 1, NULL), 0);
	assert_int_equal(rf_ref_history_count(A), 0);
	assert_int_equal(rf_ref_set_min_history(A, 2), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rf_dosync(add_twice_body, 1, NULL), 0);
	assert_int_equal(rf_ref_history_count(A), 2);
	assert_int_equal(value(A), 10);
	free_refs();
}

/* History limits set after creation ((ref-min-history r n), (ref-max-history r n)): the
 * history grows past the room the ref was made with (its versions move to bigger rings),
 * a snapshot reads a version many commits old from there, and lowering the limits keeps
 * the versions already kept, as Clojure does (checked with Clojure 1.11: after
 * (ref-max-history r 1) and a commit, (ref-history-count r) is unchanged). With a release
 * function every value the ref held is released exactly once. */
enum { HIST_MIN = 40, HIST_BEHIND = 30 };
static _Atomic int hist_released;
static int hist_attempts;

static void count_release(rf_val v, rf_val ctx)
{
	atomic_fetch_add(&hist_released, 1);
}

static void *commit_behind(void *arg)
{
	for (int i = 0; i < HIST_BEHIND; i++)
		RF_CHECK_EQ(rf_dosync(inc_body, 0, NULL), 0);
	return NULL;
}

/* Takes a snapshot (reads B), lets another thread commit HIST_BEHIND times to A (first
 * attempt only), then reads A as of the snapshot. */
static int old_snapshot_body(rf_val arg, rf_val *out)
{
	rf_val b;
	int rc = rf_ref_deref(B, &b);
	if (rc)
		return rc;
	if (hist_attempts++ == 0) {
		pthread_t t;
		RF_CHECK_EQ(pthread_create(&t, NULL, commit_behind, NULL), 0);
		pthread_join(t, NULL);
	}
	return rf_ref_deref(A, out);
}

static void history_limits(void **state)
{
	rf_ref *r;
	assert_int_equal(rf_ref_new(0, &r), 0);
	assert_int_equal(rf_ref_min_history(r), 0);
	assert_int_equal(rf_ref_max_history(r), 10); /* Clojure's defaults */
	assert_int_equal(rf_ref_set_max_history(r, 1000001), -EINVAL);
	assert_int_equal(rf_ref_set_min_history(r, 1000001), -EINVAL);
	assert_int_equal(rf_ref_set_min_history(NULL, 1), -EINVAL);
	assert_int_equal(rf_ref_set_max_history(NULL, 1), -EINVAL);
	assert_int_equal(rf_ref_min_history(NULL), -EINVAL);
	assert_int_equal(rf_ref_max_history(NULL), -EINVAL);
	assert_int_equal(rf_ref_max_history(r), 10);
	rf_ref_free(r);

	make_refs(0, 0);
	rf_ref_free(A);
	atomic_store(&hist_released, 0);
	assert_int_equal(rf_ref_new_opts(0,
	                                 &(rf_ref_opts){.size = sizeof(rf_ref_opts),
	                                                .max_history = 2,
	                                                .release = count_release},
	                                 &A),
	                 0);
	assert_int_equal(rf_ref_set_min_history(A, HIST_MIN), 0); /* above the max: it wins */
	assert_int_equal(rf_ref_min_history(A), HIST_MIN);
	for (int i = 0; i < HIST_MIN + 5; i++)
		assert_int_equal(rf_dosync(inc_body, 0, NULL), 0);
	assert_int_equal(rf_ref_history_count(A), HIST_MIN);
	assert_int_equal(value(A), HIST_MIN + 5);

	rf_val seen;
	hist_attempts = 0;
	assert_int_equal(rf_dosync(old_snapshot_body, 0, &seen), 0);
	assert_int_equal(hist_attempts, 1); /* no retry: the old version was kept */
	assert_int_equal(seen, HIST_MIN + 5);
	assert_int_equal(value(A), HIST_MIN + 5 + HIST_BEHIND);

	assert_int_equal(rf_ref_set_max_history(A, 1), 0);
	assert_int_equal(rf_ref_set_min_history(A, 0), 0);
	assert_int_equal(rf_dosync(inc_body, 0, NULL), 0);
	assert_int_equal(rf_ref_history_count(A), HIST_MIN); /* kept, as Clojure */
	assert_int_equal(rf_ref_max_history(A), 1);

	int values = HIST_MIN + 5 + HIST_BEHIND + 1; /* one per commit (0 is RF_NIL: none) */
	free_refs();
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&hist_released), values);
}

/* Many refs in one transaction (the write set's hash index), and an update function
 * that itself alters other refs (the write set grows under it). */
#define MANY 50
static rf_ref *many[MANY];

static int alter_rest(rf_val old, rf_val arg, rf_val *out)
{
	for (int i = 1; i < MANY; i++) {
		int rc = rf_ref_alter(many[i], rf_add, arg, NULL);
		if (rc)
			return rc;
	}
	*out = old + arg;
	return 0;
}

static int many_body(rf_val arg, rf_val *out)
{
	int rc = rf_ref_alter(many[0], alter_rest, arg, NULL);
	for (int i = 0; i < MANY && !rc; i++)
		rc = rf_ref_commute(many[i], rf_inc, 0, NULL); /* after a set: not re-run */
	for (int i = 0; i < MANY && !rc; i++) {
		rf_val v;
		if (!(rc = rf_ref_deref(many[i], &v)))
			*out += v;
	}
	return rc;
}

static void large_write_sets(void **state)
{
	for (int i = 0; i < MANY; i++)
		assert_int_equal(rf_ref_new(i, &many[i]), 0);
	rf_val sum;
	assert_int_equal(rf_dosync(many_body, 2, &sum), 0);
	assert_int_equal(sum, MANY * (MANY - 1) / 2 + 3 * MANY);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(value(many[i]), i + 3);
		rf_ref_free(many[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transactions_start_no_workers),
	    cmocka_unit_test(outside_transaction),
	    cmocka_unit_test(alter_commits),
	    cmocka_unit_test(nested_dosync_joins),
	    cmocka_unit_test(error_rolls_back),
	    cmocka_unit_test(commute_then_set_is_an_error),
	    cmocka_unit_test(first_validator_set_later),
	    cmocka_unit_test(validators),
	    cmocka_unit_test(watches),
	    cmocka_unit_test(watch_codes),
	    cmocka_unit_test(held_sends),
	    cmocka_unit_test(ensure_and_history),
	    cmocka_unit_test(history_limits),
	    cmocka_unit_test(large_write_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
