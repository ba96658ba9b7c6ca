/* Refs that own pointer values (rf_ref_opts.release): every value made for such a ref is
 * released exactly once, never while a version or a running transaction can still see
 * it, whether it was committed, replaced in its transaction, retried or rolled back.
 *
 * Objects are `box`es with a serial number. The release function checks the box is live
 * and marks it dead in a table (a second release of one box fails the test), then frees
 * it: a release too early shows up as a dead box read by a transaction (checked) and, in
 * the ASan build, as a use after free. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringfold.h"

#define MAX_BOXES 200000
#define LIVE 0x11fe11feu

typedef struct box {
	unsigned magic;
	unsigned serial;
	rf_val n;
} box;

static _Atomic unsigned made;
static _Atomic unsigned released;
static _Atomic unsigned char dead[MAX_BOXES];
static _Atomic unsigned errors;

static rf_val new_box(rf_val n)
{
	box *b = malloc(sizeof(*b));
	unsigned serial = atomic_fetch_add(&made, 1);
	assert_non_null(b);
	assert_true(serial < MAX_BOXES);
	*b = (box){LIVE, serial, n};
	return rf_from_ptr(b);
}

static rf_val n_of(rf_val v)
{
	box *b = rf_to_ptr(v);
	if (b->magic != LIVE || atomic_load(&dead[b->serial]))
		atomic_fetch_add(&errors, 1);
	return b->n;
}

static void release_box(rf_val v, rf_val ctx)
{
	box *b = rf_to_ptr(v);
	assert_int_equal(ctx, 42);
	if (b->magic != LIVE || atomic_exchange(&dead[b->serial], 1))
		atomic_fetch_add(&errors, 1); /* released twice */
	b->magic = 0;
	free(b);
	atomic_fetch_add(&released, 1);
}

static void reset_counts(void)
{
	rf_reclaim_barrier();
	atomic_store(&made, 0);
	atomic_store(&released, 0);
	atomic_store(&errors, 0);
	for (unsigned i = 0; i < MAX_BOXES; i++)
		atomic_store(&dead[i], 0);
}

/* Made == released once the refs are freed and a grace period passed. */
static void assert_all_released(void)
{
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

static rf_ref *new_owning_ref(rf_val n, unsigned min_history, unsigned max_history)
{
	rf_ref *r;
	rf_ref_opts o = {.size = sizeof(o),
	                 .min_history = min_history,
	                 .max_history = max_history,
	                 .release = release_box,
	                 .release_ctx = 42};
	assert_int_equal(rf_ref_new_opts(new_box(n), &o, &r), 0);
	return r;
}

/* update functions and bodies */

static int box_add(rf_val old, rf_val arg, rf_val *out)
{
	*out = new_box(n_of(old) + arg);
	return 0;
}

static int same_box(rf_val old, rf_val arg, rf_val *out)
{
	*out = old;
	return 0;
}

static rf_ref *R, *S;

static int alter_r(rf_val arg, rf_val *out)
{
	return rf_ref_alter(R, box_add, arg, NULL);
}

static void committed_values_released_when_replaced(void **state)
{
	reset_counts();
	R = new_owning_ref(0, 0, 0);
	for (int i = 1; i <= 1000; i++)
		assert_int_equal(rf_dosync(alter_r, 1, NULL), 0);
	rf_val v;
	assert_int_equal(rf_ref_deref(R, &v), 0);
	assert_int_equal(n_of(v), 1000);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), 1000); /* all but the current one */
	assert_int_equal(rf_ref_history_count(R), 0);
	rf_ref_free(R);
	assert_all_released();
}

/* A body that fails after making a value: the value goes, the ref keeps its own. */
static int alter_then_fail(rf_val arg, rf_val *out)
{
	int rc = rf_ref_alter(R, box_add, arg, NULL);
	return rc ? rc : -ENOTSUP;
}

static int validator_small(rf_val v, rf_val ctx)
{
	return n_of(v) < 10;
}

static void rolled_back_values_released_at_once(void **state)
{
	reset_counts();
	R = new_owning_ref(5, 0, 0);
	assert_int_equal(rf_dosync(alter_then_fail, 1, NULL), -ENOTSUP);
	assert_int_equal(atomic_load(&made), 2);
	assert_int_equal(atomic_load(&released), 1); /* at once: no grace period needed */
	assert_int_equal(rf_ref_set_validator(R, validator_small, 0), 0);
	assert_int_equal(rf_dosync(alter_r, 100, NULL), RF_EVALIDATOR);
	assert_int_equal(atomic_load(&released), 2);
	rf_val v;
	assert_int_equal(rf_ref_deref(R, &v), 0);
	assert_int_equal(n_of(v), 5);
	rf_ref_free(R);
	assert_all_released();
}

/* Values replaced inside one transaction are released at its end, not before (the
 * body may still hold them), and a value that comes back is not released. */
static rf_val first_made;

static int rewrite_body(rf_val arg, rf_val *out)
{
	rf_val a, b, c;
	int rc;
	if ((rc = rf_ref_alter(R, box_add, 1, &a)) || (rc = rf_ref_alter(R, box_add, 1, &b)))
		return rc;
	first_made = a;
	if (n_of(a) != 1 || n_of(b) != 2) /* a still valid here */
		return -EPROTO;
	if ((rc = rf_ref_alter(R, same_box, 0, &c)) || c != b)
		return rc ? rc : -EPROTO;
	c = new_box(77);
	if ((rc = rf_ref_set(R, c)) || (rc = rf_ref_set(R, b))) /* c replaced, b back */
		return rc;
	*out = b;
	return 0;
}

static void replaced_in_transaction(void **state)
{
	reset_counts();
	R = new_owning_ref(0, 0, 0);
	rf_val out;
	assert_int_equal(rf_dosync(rewrite_body, 0, &out), 0);
	assert_int_equal(atomic_load(&made), 4);     /* init, a, b, c */
	assert_int_equal(atomic_load(&released), 2); /* a and c, at the end of the attempt */
	rf_val v;
	assert_int_equal(rf_ref_deref(R, &v), 0);
	assert_int_equal(v, out);
	assert_int_equal(n_of(v), 2);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), 3); /* and init, after a grace period */
	rf_ref_free(R);
	assert_all_released();
}

/* Committing the value a ref already holds (an alter that returns its input, a ref-set
 * of the value read) takes nothing and releases nothing. */
static int set_same(rf_val arg, rf_val *out)
{
	rf_val v;
	int rc = rf_ref_deref(R, &v);
	if (!rc)
		rc = rf_ref_set(R, v);
	if (!rc)
		rc = rf_ref_alter(S, same_box, 0, NULL);
	return rc;
}

static void same_value_kept(void **state)
{
	reset_counts();
	R = new_owning_ref(1, 0, 0);
	S = new_owning_ref(2, 2, 4);
	for (int i = 0; i < 10; i++)
		assert_int_equal(rf_dosync(set_same, 0, NULL), 0);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), 0);
	assert_int_equal(rf_ref_history_count(S), 2); /* one object, three versions */
	rf_val v;
	assert_int_equal(rf_ref_deref(R, &v), 0);
	assert_int_equal(n_of(v), 1);
	assert_int_equal(rf_ref_deref(S, &v), 0);
	assert_int_equal(n_of(v), 2);
	rf_ref_free(R);
	rf_ref_free(S);
	assert_all_released();
}

/* History keeps older values alive until they drop out of it. */
static int read_r(rf_val arg, rf_val *out)
{
	return rf_ref_deref(R, out);
}

static void history_keeps_values(void **state)
{
	reset_counts();
	R = new_owning_ref(0, 3, 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_dosync(alter_r, 1, NULL), 0);
	rf_reclaim_barrier();
	assert_int_equal(rf_ref_history_count(R), 3);
	assert_int_equal(atomic_load(&released), 0); /* all four kept */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_dosync(alter_r, 1, NULL), 0);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), 3); /* the three oldest dropped out */
	rf_val v;
	assert_int_equal(rf_dosync(read_r, 0, &v), 0);
	assert_int_equal(n_of(v), 6);
	rf_ref_free(R);
	assert_all_released();
}

/* commute: the body's value is replaced by the one computed again at commit. */
static int commute_r(rf_val arg, rf_val *out)
{
	return rf_ref_commute(R, box_add, arg, NULL);
}

static void commute_recomputed(void **state)
{
	reset_counts();
	R = new_owning_ref(0, 0, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rf_dosync(commute_r, 2, NULL), 0);
	rf_val v;
	assert_int_equal(rf_ref_deref(R, &v), 0);
	assert_int_equal(n_of(v), 200);
	assert_int_equal(atomic_load(&made), 201);
	rf_ref_free(R);
	assert_all_released();
}

/* Under contention: writers retry, readers read in transactions and outside them;
 * no reader ever sees a released value, and every made value is released once. */
#define THREADS 4
#define ROUNDS 5000

static int transfer(rf_val arg, rf_val *out)
{
	int rc = rf_ref_alter(R, box_add, -arg, NULL);
	if (!rc)
		rc = rf_ref_commute(S, box_add, arg, NULL);
	return rc;
}

static int sum_body(rf_val arg, rf_val *out)
{
	rf_val a, b;
	int rc;
	if ((rc = rf_ref_deref(R, &a)) || (rc = rf_ref_deref(S, &b)))
		return rc;
	*out = n_of(a) + n_of(b);
	return 0;
}

static void *worker(void *arg)
{
	long self = (long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		if (self % 2) {
			if (rf_dosync(transfer, 1 + i % 3, NULL))
				atomic_fetch_add(&errors, 1);
		} else {
			rf_val sum;
			if (rf_dosync(sum_body, 0, &sum) || sum != 1000000)
				atomic_fetch_add(&errors, 1);
			rf_val v;
			rf_reclaim_read_begin();
			rf_ref_deref(R, &v);
			n_of(v);
			rf_reclaim_read_end();
		}
	}
	return NULL;
}

static void contended_owners(void **state)
{
	reset_counts();
	R = new_owning_ref(1000000, 0, 0);
	S = new_owning_ref(0, 0, 0);
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&errors), 0);
	rf_val a, b;
	assert_int_equal(rf_ref_deref(R, &a), 0);
	assert_int_equal(rf_ref_deref(S, &b), 0);
	assert_int_equal(n_of(a) + n_of(b), 1000000);
	rf_ref_free(R);
	rf_ref_free(S);
	assert_all_released();
}

/* The same from fibers, where a transaction may park while its read section is open. */
static int fiber_rounds(rf_val arg, rf_val *out)
{
	worker((void *)(long)arg);
	return 0;
}

static void contended_owners_fibers(void **state)
{
	reset_counts();
	R = new_owning_ref(1000000, 0, 0);
	S = new_owning_ref(0, 0, 0);
	rf_future *f[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(rf_future_call(fiber_rounds, i, &f[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(f[i], &v), 0);
		rf_future_free(f[i]);
	}
	assert_int_equal(atomic_load(&errors), 0);
	rf_ref_free(R);
	rf_ref_free(S);
	assert_all_released();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(committed_values_released_when_replaced),
	    cmocka_unit_test(rolled_back_values_released_at_once),
	    cmocka_unit_test(replaced_in_transaction),
	    cmocka_unit_test(same_value_kept),
	    cmocka_unit_test(history_keeps_values),
	    cmocka_unit_test(commute_recomputed),
	    cmocka_unit_test(contended_owners),
	    cmocka_unit_test(contended_owners_fibers),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
