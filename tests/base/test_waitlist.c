/* tests/base/test_waitlist.c: the one waiter list every family uses (runtime/base/
 * waitlist.h): FIFO order, a waiter that keeps its turn goes first, unlinking from any
 * position keeps both ends right, claimed or timed-out waiters are skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/base/waitlist.h"

static void pending(waiter *w)
{
	atomic_init(&w->state, WAITER_PENDING);
}

static void test_fifo_and_front(void **state)
{
	waitlist l;
	waitlist_init(&l);
	waiter w[4];
	for (int i = 0; i < 4; i++)
		pending(&w[i]);
	waitlist_add(&l, &w[0]);
	waitlist_add(&l, &w[1]);
	waitlist_add(&l, &w[2]);
	waitlist_add_front(&l, &w[3]);
	assert_true(waitlist_has(&l, &w[0]) && waitlist_has(&l, &w[3]));
	assert_ptr_equal(waitlist_claim_one(&l), &w[3]);
	assert_ptr_equal(waitlist_claim_one(&l), &w[0]);
	assert_false(waitlist_has(&l, &w[0]));
	assert_ptr_equal(waitlist_claim_one(&l), &w[1]);
	assert_ptr_equal(waitlist_claim_one(&l), &w[2]);
	assert_null(waitlist_claim_one(&l));
	assert_null(l.head);
	assert_null(l.tail);
}

static void test_unlink_anywhere(void **state)
{
	for (int gone = 0; gone < 3; gone++) {
		waitlist l;
		waitlist_init(&l);
		waiter w[3];
		for (int i = 0; i < 3; i++) {
			pending(&w[i]);
			waitlist_add(&l, &w[i]);
		}
		waitlist_unlink(&l, &w[gone]);
		assert_false(waitlist_has(&l, &w[gone]));
		waiter x;
		pending(&x);
		waitlist_add(&l, &x); /* the tail is right after the unlink */
		int order[3], n = 0;
		for (int i = 0; i < 3; i++)
			if (i != gone)
				order[n++] = i;
		assert_ptr_equal(waitlist_claim_one(&l), &w[order[0]]);
		assert_ptr_equal(waitlist_claim_one(&l), &w[order[1]]);
		assert_ptr_equal(waitlist_claim_one(&l), &x);
		assert_null(waitlist_claim_one(&l));
	}
}

/* A waiter no longer pending (timed out, or claimed through another list) is taken off
 * and skipped; claim_all chains the claimed ones, first listed last. */
static void test_skip_unclaimable(void **state)
{
	waitlist l;
	waitlist_init(&l);
	waiter w[3];
	for (int i = 0; i < 3; i++) {
		pending(&w[i]);
		waitlist_add(&l, &w[i]);
	}
	atomic_store(&w[1].state, WAITER_TIMEDOUT);
	waiter *chain = waitlist_claim_all(&l);
	assert_ptr_equal(chain, &w[2]);
	assert_ptr_equal(chain->link[0], &w[0]);
	assert_null(w[0].link[0]);
	assert_false(waitlist_has(&l, &w[1]));
	assert_int_equal(atomic_load(&w[0].state) & WAITER_STAGE, WAITER_CLAIMED);
	assert_null(l.head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_and_front),
	    cmocka_unit_test(test_unlink_anywhere),
	    cmocka_unit_test(test_skip_unclaimable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
