/* tests/atom/test_reclaim_nowait.c: a retirement never waits for read sections (regress).
 *
 * An owning atom's swap and an STM commit retire the value they replace from inside a
 * read section of their own (the swap's, and the transaction's from its first read of an
 * owning ref to the end of rf_dosync); the commit does it while INSTALLING with the ref's
 * REF_I set, which readers of the ref wait on. A retirement that waited for a grace period
 * there would wait for its own thread. It did, when the reclaimer thread could not be
 * started: the full batch was released inline after a grace period. Here thread creation
 * fails (pthread_create is wrapped: tests/atom/CMakeLists.txt) while the first batches
 * fill: every call must return (0 or -ENOMEM), and once threads can be made again every
 * value is released exactly once.
 *
 * A barrier that drains a thread's batch waits for a grace period; it must not do so
 * while holding the lock a thread's first retirement takes (from inside a section).
 *
 * The child of a fork has no reclaimer thread, whatever its parent had: its retirements and
 * barriers must not wait for the missing one, nor for another thread of the parent that
 * was inside a read section at the fork.
 *
 * Each scenario runs in a child process (fresh reclaim state: no reclaimer yet), which
 * the parent waits for with a generous deadline: a hang fails the test, it does not stall.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"

#define DEADLINE_S 60
#define ROUNDS 200 /* > 3 batches of 64 retirements */

static _Atomic bool fail_threads;

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (atomic_load(&fail_threads))
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}

static _Atomic long made, released;

static rf_val make(void)
{
	long *p = malloc(sizeof(*p));
	RF_CHECK(p != NULL);
	*p = atomic_fetch_add(&made, 1);
	return rf_from_ptr(p);
}

static void release(rf_val v, rf_val ctx)
{
	(void)ctx;
	free(rf_to_ptr(v));
	atomic_fetch_add(&released, 1);
}

/* Wait for child pid: its exit status, or -1 if it is still running after DEADLINE_S
 * (then it is killed, with its process group: in_child's children lead one, so that a
 * hung grandchild goes too). Polls every millisecond. */
static int wait_child(pid_t pid)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		RF_CHECK(r >= 0);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > DEADLINE_S) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}

/* Run fn in a child; fail if it does not exit 0 within DEADLINE_S. */
static void in_child(void (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		fn();
		_exit(0);
	}
	setpgid(pid, pid); /* either may run first */
	int rc = wait_child(pid);
	if (rc < 0)
		fail_msg("the child hung for %d s", DEADLINE_S);
	assert_int_equal(rc, 0);
}

/* Every value made is released once the owners are gone and a barrier has run. */
static void check_all_released(void)
{
	rf_reclaim_barrier();
	RF_CHECK_EQ(atomic_load(&released), atomic_load(&made));
}

/* Full batches of retirements through a (a new owning atom if NULL), then free it: every
 * value must come back. */
static void retire_and_free(rf_atom *a)
{
	if (!a)
		RF_CHECK_EQ(rf_atom_new_owning(make(), release, RF_NIL, &a), 0);
	for (int i = 0; i < ROUNDS; i++)
		RF_CHECK_EQ(rf_atom_reset(a, make()), 0);
	rf_atom_free(a);
	check_all_released();
}

/* Fork; the child runs retire_and_free(a) and exits; the parent waits for it. */
static void fork_retire_and_free(rf_atom *a)
{
	pid_t pid = fork();
	RF_CHECK(pid >= 0);
	if (pid == 0) {
		retire_and_free(a);
		_exit(0);
	}
	RF_CHECK_EQ(wait_child(pid), 0);
}

static void atom_child(void)
{
	rf_atom *a;
	RF_CHECK_EQ(rf_atom_new_owning(make(), release, RF_NIL, &a), 0);
	atomic_store(&fail_threads, true);
	int refused = 0;
	for (int i = 0; i < ROUNDS; i++) {
		rf_val v = make();
		int rc = rf_atom_reset(a, v);
		RF_CHECK(rc == 0 || rc == -ENOMEM);
		if (rc) {
			refused++;
			release(v, RF_NIL); /* not taken */
		}
	}
	RF_CHECK(refused > 0); /* the reclaimer's start was tried, and failed */
	atomic_store(&fail_threads, false);
	retire_and_free(a);
}

/* Owning atom, no reclaimer thread to be had: resets return. */
static void test_atom_reset_without_reclaimer(void **state)
{
	(void)state;
	in_child(atom_child);
}

static int replace(rf_val old, rf_val arg, rf_val *out)
{
	(void)old;
	(void)arg;
	*out = make();
	return 0;
}

static int alter_body(rf_val arg, rf_val *out)
{
	return rf_ref_alter(rf_to_ptr(arg), replace, RF_NIL, out);
}

static void ref_child(void)
{
	rf_ref *r;
	rf_ref_opts o = {.size = sizeof(o), .release = release};
	RF_CHECK_EQ(rf_ref_new_opts(make(), &o, &r), 0);
	atomic_store(&fail_threads, true);
	for (int i = 0; i < ROUNDS; i++) {
		int rc = rf_dosync(alter_body, rf_from_ptr(r), NULL);
		RF_CHECK(rc == 0 || rc == -ENOMEM);
	}
	atomic_store(&fail_threads, false);
	for (int i = 0; i < ROUNDS; i++)
		RF_CHECK_EQ(rf_dosync(alter_body, rf_from_ptr(r), NULL), 0);
	rf_ref_free(r);
	check_all_released();
}

/* Owning ref, no reclaimer thread to be had: commits (which retire while INSTALLING,
 * inside the transaction's own section) return. */
static void test_commit_without_reclaimer(void **state)
{
	(void)state;
	in_child(ref_child);
}

/* A watch runs after the commit, inside the transaction's section (it read an owning
 * ref): there it frees an owning atom, whose last value is retired with no record
 * prepared (reclaim_retire_now_or_wait): without one, it must not wait for itself. */
static int free_atom_watch(rf_val key, void *ref, rf_val old, rf_val new_val, rf_val ctx)
{
	(void)key, (void)ref, (void)old, (void)new_val;
	rf_atom_free(rf_to_ptr(ctx));
	return 0;
}

static rf_ref *owning, *plain;

/* Reads the owning ref (the section opens), writes the plain one (no record needed). */
static int read_and_set(rf_val arg, rf_val *out)
{
	int rc = rf_ref_deref(owning, out);
	return rc ? rc : rf_ref_set(plain, arg);
}

static void watch_child(void)
{
	rf_ref_opts o = {.size = sizeof(o), .release = release};
	RF_CHECK_EQ(rf_ref_new_opts(make(), &o, &owning), 0);
	RF_CHECK_EQ(rf_ref_new(0, &plain), 0);
	atomic_store(&fail_threads, true);
	for (int i = 0; i < ROUNDS; i++) {
		rf_atom *a;
		RF_CHECK_EQ(rf_atom_new_owning(make(), release, RF_NIL, &a), 0);
		RF_CHECK_EQ(rf_ref_add_watch(plain, 1, free_atom_watch, rf_from_ptr(a)), 0);
		RF_CHECK_EQ(rf_dosync(read_and_set, i + 1, NULL), 0);
		RF_CHECK_EQ(rf_ref_remove_watch(plain, 1), 0);
	}
	atomic_store(&fail_threads, false);
	rf_ref_free(owning);
	rf_ref_free(plain);
	check_all_released();
}

/* Owning atoms freed inside a transaction's section, no reclaimer thread to be had: the
 * frees return. */
static void test_free_in_section_without_reclaimer(void **state)
{
	(void)state;
	in_child(watch_child);
}

static _Atomic int stage;
static rf_atom *shared;

/* A thread that never retired: inside a section, it waits until the barrier's grace
 * period has begun (the epoch moved), then makes its first retirement. */
static void *first_retire(void *arg)
{
	(void)arg;
	rf_reclaim_enter();
	uint64_t e0 = __atomic_load_n(&rf_reclaim_epoch, __ATOMIC_ACQUIRE);
	atomic_store(&stage, 1);
	while (__atomic_load_n(&rf_reclaim_epoch, __ATOMIC_ACQUIRE) == e0)
		sched_yield();
	RF_CHECK_EQ(rf_atom_reset(shared, make()), 0);
	rf_reclaim_exit();
	return NULL;
}

static void barrier_child(void)
{
	RF_CHECK_EQ(rf_atom_new_owning(make(), release, RF_NIL, &shared), 0);
	for (int i = 0; i < 3; i++) /* a few retired values in this thread's batch */
		RF_CHECK_EQ(rf_atom_reset(shared, make()), 0);
	pthread_t t;
	RF_CHECK_EQ(pthread_create(&t, NULL, first_retire, NULL), 0);
	while (!atomic_load(&stage))
		sched_yield();
	rf_reclaim_barrier(); /* drains our batch: a grace period, which waits for t */
	RF_CHECK_EQ(pthread_join(t, NULL), 0);
	rf_atom_free(shared);
	check_all_released();
}

/* A barrier's grace period against a thread whose first retirement comes from inside a
 * section. */
static void test_barrier_meets_first_retire(void **state)
{
	(void)state;
	in_child(barrier_child);
}

static void forked_child(void)
{
	rf_atom *a;
	RF_CHECK_EQ(rf_atom_new_owning(make(), release, RF_NIL, &a), 0);
	for (int i = 0; i < ROUNDS; i++) /* full batches: the reclaimer runs */
		RF_CHECK_EQ(rf_atom_reset(a, make()), 0);
	rf_reclaim_barrier();    /* every batch released: the reclaimer is idle at the fork */
	fork_retire_and_free(a); /* the reclaimer is not in the child */
	rf_atom_free(a);
	check_all_released();
}

/* The child of a fork has no reclaimer thread: its retirements and its barrier must not
 * wait for one. */
static void test_fork_child_retires(void **state)
{
	(void)state;
#ifdef RF_TSAN /* it kills a child that starts threads after forking a threaded process */
	skip();
#endif
	in_child(forked_child);
}

static _Atomic bool sitting;

/* A thread that opens a read section and stays inside it until its process ends. */
static void *sit_in_section(void *arg)
{
	(void)arg;
	rf_reclaim_enter();
	atomic_store(&sitting, true);
	for (;;)
		pause();
	return NULL;
}

static void forked_beside_reader_child(void)
{
	/* its own stack: a fork's child never hands it (and the record in its TLS) to a new
	 * thread, as glibc does with the stacks it made */
	enum { STACK = 1 << 20 };
	void *stack = malloc(STACK);
	RF_CHECK(stack != NULL);
	pthread_attr_t attr;
	RF_CHECK_EQ(pthread_attr_init(&attr), 0);
	RF_CHECK_EQ(pthread_attr_setstack(&attr, stack, STACK), 0);
	pthread_t t;
	RF_CHECK_EQ(pthread_create(&t, &attr, sit_in_section, NULL), 0);
	while (!atomic_load(&sitting))
		sched_yield();
	/* nothing was retired here yet: no reclaimer ever ran; the reader is not in the
	 * child, and its section ended with it */
	fork_retire_and_free(NULL);
}

/* Forked while another thread was inside a section, before anything was retired: the
 * child's grace periods must not wait for that thread's record. */
static void test_fork_beside_reader(void **state)
{
	(void)state;
#ifdef RF_TSAN /* as test_fork_child_retires */
	skip();
#endif
	in_child(forked_beside_reader_child);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_atom_reset_without_reclaimer),
	    cmocka_unit_test(test_commit_without_reclaimer),
	    cmocka_unit_test(test_free_in_section_without_reclaimer),
	    cmocka_unit_test(test_barrier_meets_first_retire),
	    cmocka_unit_test(test_fork_child_retires),
	    cmocka_unit_test(test_fork_beside_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
