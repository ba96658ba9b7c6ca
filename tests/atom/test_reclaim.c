/* tests/atom/test_reclaim.c: atoms that own pointer values. Under ASan these show that no
 * reader ever touches a released object and that every object is released exactly once;
 * a stalled reader holds back releases only while it is pinned. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"

#define LIVE 0x11FE11FE11FE11FEull
#define DEAD 0xDEADDEADDEADDEADull

struct obj {
	_Atomic uint64_t magic; /* LIVE until released (atomic: readers race the release) */
	long n, twice;          /* immutable once published: twice == 2 * n */
};

static _Atomic long made, released;

static rf_val make(long n)
{
	struct obj *o = malloc(sizeof(*o));
	RF_CHECK((o) != NULL);
	atomic_init(&o->magic, LIVE);
	o->n = n;
	o->twice = 2 * n;
	atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
	return rf_from_ptr(o);
}

static void release(rf_val v, rf_val ctx)
{
	struct obj *o = rf_to_ptr(v);
	RF_CHECK_EQ(ctx, 42);
	/* a second release of the same object would find DEAD (or ASan a double free) */
	RF_CHECK(atomic_exchange_explicit(&o->magic, DEAD, memory_order_relaxed) == LIVE);
	free(o);
	atomic_fetch_add_explicit(&released, 1, memory_order_relaxed);
}

static void check_live(rf_val v)
{
	struct obj *o = rf_to_ptr(v);
	RF_CHECK(atomic_load_explicit(&o->magic, memory_order_relaxed) == LIVE);
	RF_CHECK_EQ(o->twice, 2 * o->n);
}

static int next(rf_val old, rf_val arg, rf_val *out)
{
	check_live(old);
	*out = make(((struct obj *)rf_to_ptr(old))->n + arg);
	return 0;
}

static int keep(rf_val old, rf_val arg, rf_val *out)
{
	*out = old; /* returning the old object: nothing to release */
	return 0;
}

static int small(rf_val v, rf_val ctx)
{
	return ((struct obj *)rf_to_ptr(v))->n < ctx;
}

static void reset_counts(void)
{
	rf_reclaim_barrier();
	atomic_store_explicit(&made, 0, memory_order_relaxed);
	atomic_store_explicit(&released, 0, memory_order_relaxed);
}

static void test_ownership(void **state)
{
	rf_atom a;
	rf_val v, o;
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&a, make(1), release, 42), 0);
	assert_int_equal(rf_atom_swap(&a, next, 1, &v), 0); /* 1 retired */
	assert_int_equal(((struct obj *)rf_to_ptr(v))->n, 2);
	assert_int_equal(rf_atom_swap(&a, keep, 0, NULL), 0); /* nothing retired */
	assert_int_equal(rf_atom_reset(&a, make(10)), 0);     /* 2 retired */
	rf_val same;
	assert_int_equal(rf_deref(&a, &same), 0);
	assert_int_equal(rf_atom_reset(&a, same), 0); /* the same object: not retired */
	/* a validator's rejection releases the candidate at once (nobody else saw it) */
	assert_int_equal(rf_atom_set_validator(&a, small, 100), 0);
	assert_int_equal(rf_atom_swap(&a, next, 1000, NULL), RF_EVALIDATOR);
	assert_int_equal(atomic_load(&released) >= 1, 1);
	/* a refused reset leaves the value with the caller */
	rf_val mine = make(500);
	assert_int_equal(rf_atom_reset(&a, mine), RF_EVALIDATOR);
	check_live(mine);
	/* a failed compare_and_set too; a successful one retires the old value */
	assert_int_equal(rf_atom_compare_and_set(&a, mine, mine), RF_EVALIDATOR);
	rf_val other = make(5);
	assert_int_equal(rf_atom_compare_and_set(&a, mine, other), 0); /* mine is not current */
	check_live(other);
	release(mine, 42);
	release(other, 42);
	rf_val fresh = make(20);
	assert_int_equal(rf_atom_compare_and_set(&a, same, fresh), 1); /* 10 retired */
	rf_reclaim_read_begin();
	assert_int_equal(rf_atom_reset_vals(&a, make(30), &o), 0); /* 20 retired */
	check_live(o); /* still pinned: the old value may be used */
	assert_int_equal(((struct obj *)rf_to_ptr(o))->n, 20);
	rf_reclaim_read_end();
	rf_atom_destroy(&a); /* 30 retired */
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* Readers use what they deref inside read sections while writers replace it as fast as
 * they can: ASan would report any use after release. */
enum { READERS = 2, WRITERS = 2, WRITES = 20000 };
static rf_atom shared;
static _Atomic int writers_left;

static void *reader(void *arg)
{
	long reads = 0;
	while (atomic_load_explicit(&writers_left, memory_order_acquire) > 0 || reads < 1000) {
		rf_val v;
		rf_reclaim_read_begin();
		RF_CHECK_EQ(rf_deref(&shared, &v), 0);
		check_live(v);
		rf_reclaim_read_end();
		reads++;
	}
	return NULL;
}

static void *writer(void *arg)
{
	for (int i = 0; i < WRITES; i++) {
		switch (i % 3) {
		case 0:
			RF_CHECK_EQ(rf_atom_swap(&shared, next, 1, NULL), 0);
			break;
		case 1:
			RF_CHECK_EQ(rf_atom_reset(&shared, make(i)), 0);
			break;
		default: {
			rf_val cur, nv = make(-i);
			rf_reclaim_read_begin(); /* cur must not be released and reused under us */
			RF_CHECK_EQ(rf_deref(&shared, &cur), 0);
			int rc = rf_atom_compare_and_set(&shared, cur, nv);
			rf_reclaim_read_end();
			RF_CHECK(rc == 0 || rc == 1);
			if (rc == 0)
				release(nv, 42); /* not taken: still ours */
		}
		}
	}
	atomic_fetch_sub_explicit(&writers_left, 1, memory_order_release);
	return NULL;
}

static void test_stress(void **state)
{
	pthread_t t[READERS + WRITERS];
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&shared, make(0), release, 42), 0);
	atomic_store(&writers_left, WRITERS);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[READERS + i], NULL, writer, NULL), 0);
	for (int i = 0; i < READERS + WRITERS; i++)
		pthread_join(t[i], NULL);
	rf_atom_destroy(&shared);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* A reader stalled inside a read section holds back releases; once it leaves, all of
 * them happen. */
static sem_t pinned, go_on;

static void *stalled_reader(void *arg)
{
	rf_val v;
	rf_reclaim_read_begin();
	RF_CHECK_EQ(rf_deref(&shared, &v), 0);
	sem_post(&pinned);
	sem_wait(&go_on);
	check_live(v); /* replaced hundreds of times meanwhile, still not released */
	rf_reclaim_read_end();
	return NULL;
}

static void test_stalled_reader(void **state)
{
	enum { RESETS = 500 };
	pthread_t t;
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&shared, make(0), release, 42), 0);
	sem_init(&pinned, 0, 0);
	sem_init(&go_on, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, stalled_reader, NULL), 0);
	sem_wait(&pinned);
	for (int i = 0; i < RESETS; i++)
		assert_int_equal(rf_atom_reset(&shared, make(i)), 0);
	/* No grace period can end while the reader is pinned: nothing retired since it pinned
	 * has been released (all RESETS values were retired after it pinned). */
	assert_int_equal(atomic_load(&released), 0);
	sem_post(&go_on);
	pthread_join(t, NULL);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), RESETS);
	rf_atom_destroy(&shared);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
	sem_destroy(&pinned);
	sem_destroy(&go_on);
}

/* Integer atoms never open read sections: no reclamation state is touched. Read sections
 * nest. */
static void test_nesting(void **state)
{
	rf_atom a;
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&a, make(1), release, 42), 0);
	rf_reclaim_read_begin();
	rf_reclaim_read_begin();
	rf_val v;
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(rf_atom_reset(&a, make(2)), 0);
	rf_reclaim_read_end();
	check_live(v); /* still inside the outer section */
	rf_reclaim_read_end();
	rf_atom_destroy(&a);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* RF_NIL is never handed to the release function. */
static void test_nil(void **state)
{
	rf_atom a;
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&a, RF_NIL, release, 42), 0); /* (atom nil) */
	assert_int_equal(rf_atom_reset(&a, make(1)), 0);
	assert_int_equal(rf_atom_reset(&a, RF_NIL), 0);
	rf_atom_destroy(&a);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* A swap function that itself retires many values (more than a batch) on the same
 * thread while the outer swap holds its reservation: nothing lost, nothing twice. */
static rf_atom inner;

static int busy_next(rf_val old, rf_val arg, rf_val *out)
{
	for (int i = 0; i < 150; i++)
		RF_CHECK_EQ(rf_atom_reset(&inner, make(i)), 0);
	return next(old, arg, out);
}

static void test_nested_retire(void **state)
{
	rf_atom a;
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&a, make(0), release, 42), 0);
	assert_int_equal(rf_atom_init_owning(&inner, make(0), release, 42), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_atom_swap(&a, busy_next, 1, NULL), 0);
	rf_val v;
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(((struct obj *)rf_to_ptr(v))->n, 3);
	rf_atom_destroy(&a);
	rf_atom_destroy(&inner);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* The inline sections under stress: readers use what they load while writers replace
 * it, and short-lived reader threads keep registering and exiting (their records leave
 * the registry while grace periods scan it). ASan would report a use after release or a
 * scan of a dead thread's record; check_live a released object. */
enum { CHURN_THREADS = 40, CHURN_READS = 300 };

static void *churn_reader(void *arg)
{
	for (int i = 0; i < CHURN_READS; i++) {
		rf_val v;
		rf_reclaim_enter();
		RF_CHECK_EQ(rf_deref(&shared, &v), 0);
		rf_reclaim_enter(); /* nested, mixed with the calls */
		rf_reclaim_read_begin();
		check_live(v);
		rf_reclaim_read_end();
		rf_reclaim_exit();
		check_live(v);
		rf_reclaim_exit();
	}
	return NULL;
}

static void *churn(void *arg)
{
	for (int i = 0; i < CHURN_THREADS; i++) {
		pthread_t t;
		RF_CHECK_EQ(pthread_create(&t, NULL, churn_reader, NULL), 0);
		pthread_join(t, NULL);
	}
	return NULL;
}

static void *inline_reader(void *arg)
{
	long reads = 0;
	while (atomic_load_explicit(&writers_left, memory_order_acquire) > 0 || reads < 1000) {
		rf_val v;
		rf_reclaim_enter();
		RF_CHECK_EQ(rf_deref(&shared, &v), 0);
		check_live(v);
		rf_reclaim_exit();
		reads++;
	}
	return NULL;
}

static void test_inline_stress_and_thread_exit(void **state)
{
	pthread_t t[READERS + WRITERS + 1];
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&shared, make(0), release, 42), 0);
	atomic_store(&writers_left, WRITERS);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, inline_reader, NULL), 0);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[READERS + i], NULL, writer, NULL), 0);
	assert_int_equal(pthread_create(&t[READERS + WRITERS], NULL, churn, NULL), 0);
	for (int i = 0; i < READERS + WRITERS + 1; i++)
		pthread_join(t[i], NULL);
	rf_atom_destroy(&shared);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* Fibers may park inside a section: the value loaded before parking is still live after
 * it, while other fibers of the same worker (parking outside sections) and a writer
 * replace it. */
enum { FIBERS = 16, FIBER_ROUNDS = 20 };
static _Atomic int fibers_done, replaced_while_parked;

static int fiber_reader(rf_val arg, rf_val *out)
{
	for (int i = 0; i < FIBER_ROUNDS; i++) {
		rf_val v;
		if (arg & 1) {
			rf_reclaim_enter();
			RF_CHECK_EQ(rf_deref(&shared, &v), 0);
			RF_CHECK_EQ(rf_sleep_ms(1), 0); /* parks inside the section */
			check_live(v);
			rf_val now;
			RF_CHECK_EQ(rf_deref(&shared, &now), 0);
			if (now != v)
				atomic_fetch_add(&replaced_while_parked, 1);
			rf_reclaim_exit();
		} else {
			rf_reclaim_enter();
			RF_CHECK_EQ(rf_deref(&shared, &v), 0);
			check_live(v);
			rf_reclaim_exit();
			rf_yield(); /* parks outside */
		}
	}
	*out = 1;
	atomic_fetch_add_explicit(&fibers_done, 1, memory_order_release);
	return 0;
}

static void test_fibers_park_in_sections(void **state)
{
	rf_chan *res[FIBERS];
	reset_counts();
	assert_int_equal(rf_atom_init_owning(&shared, make(0), release, 42), 0);
	for (int i = 0; i < FIBERS; i++)
		assert_int_equal(rf_go(fiber_reader, i, &res[i]), 0);
	/* replace the value until every fiber is done (bounded: a few thousand ms of sleeps) */
	for (int i = 0; atomic_load_explicit(&fibers_done, memory_order_acquire) < FIBERS; i++) {
		assert_int_equal(rf_atom_reset(&shared, make(i)), 0);
		if (i % 64 == 0)
			sched_yield();
	}
	assert_true(atomic_load(&replaced_while_parked) > 0);
	for (int i = 0; i < FIBERS; i++) {
		rf_val v = 0;
		assert_int_equal(rf_chan_take(res[i], &v), 0);
		assert_int_equal(v, 1);
		rf_chan_release(res[i]);
	}
	rf_atom_destroy(&shared);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&released), atomic_load(&made));
}

/* What is not allowed is caught: a barrier inside a section (every build) and a fiber
 * that ends inside one (debug builds) abort with a message. Run in a child process, first,
 * before this process has started the runtime or any thread. */
static int die_status(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20); /* a hang fails the test instead of stalling it */
		fn();
		_exit(0);
	}
	int status = 0;
	RF_CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

static void barrier_inside(void)
{
	rf_reclaim_enter();
	rf_reclaim_barrier();
}

#ifdef RF_DEBUG_INVARIANTS
static int end_inside(rf_val arg, rf_val *out)
{
	rf_reclaim_enter();
	return 0;
}

static void fiber_ends_inside(void)
{
	rf_chan *res;
	rf_val v;
	if (rf_go(end_inside, 0, &res) == 0)
		rf_chan_take(res, &v);
	rf_sleep_ms(1000); /* the fiber's end runs the check */
}

#endif

static void test_misuse_caught(void **state)
{
	int st = die_status(barrier_inside);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
#ifdef RF_DEBUG_INVARIANTS
	st = die_status(fiber_ends_inside);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_misuse_caught),
	    cmocka_unit_test(test_ownership),
	    cmocka_unit_test(test_stress),
	    cmocka_unit_test(test_stalled_reader),
	    cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_nil),
	    cmocka_unit_test(test_nested_retire),
	    cmocka_unit_test(test_inline_stress_and_thread_exit),
	    cmocka_unit_test(test_fibers_park_in_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
