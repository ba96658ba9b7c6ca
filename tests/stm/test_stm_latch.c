/* The slot latch: a waiter for "this attempt stopped" is woken by the stop, never left to
 * its deadline, whether it parked before the stop, raced with it, or came after it.
 *
 * One thread plays the holder of a slot (RUNNING, then stm_slot_stop as a commit does),
 * the other waits with stm_slot_await and a deadline 10 s away: a waiter still asleep at
 * the deadline is a lost wake-up. Rounds alternate the stop's timing: at once (the
 * waiter is still spinning), after the waiter registered to park (nwaiters > 0), and
 * after a random delay (the stop meets the waiter anywhere in its park path). Both
 * "stopped before any waiter registered" and "stopped with a waiter registered" must be
 * seen.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"
#include "runtime/stm/stm.h"

#define ROUNDS 600
#define DEADLINE_NS (10 * 1000000000ull)

static pthread_barrier_t gate;
static _Atomic uint64_t word;    /* the attempt to wait for (0: done) */
static _Atomic int waiter_in;    /* the waiter is about to call stm_slot_await */
static _Atomic uint64_t longest; /* ns, the longest wait, for the message */

static void *waiter_thread(void *arg)
{
	for (;;) {
		pthread_barrier_wait(&gate);
		uint64_t w = atomic_load(&word);
		if (!w)
			return NULL;
		uint64_t t0 = time_now_ns(), deadline = t0 + DEADLINE_NS;
		atomic_store(&waiter_in, 1);
		stm_slot_await(w, deadline);
		uint64_t t = time_now_ns(), st;
		RF_CHECK(!stm_word_live(w, &st)); /* returns only once the attempt stopped */
		RF_CHECK(t < deadline);           /* woken by the stop, not by the deadline */
		if (t - t0 > atomic_load(&longest))
			atomic_store(&longest, t - t0);
		pthread_barrier_wait(&gate);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stop_wakes_every_waiter(void **state)
{
	pthread_t t;
	pthread_barrier_init(&gate, NULL, 2);
	pthread_create(&t, NULL, waiter_thread, NULL);
	stm_slot *s = stm_slot_get();
	assert_non_null(s);
	uint64_t seed = 0x9E3779B97F4A7C15u;
	int registered = 0, unregistered = 0;
	for (int round = 0; round < ROUNDS || !registered || !unregistered; round++) {
		assert_true(round < 100 * ROUNDS);
		/* a new attempt on the slot, as tx_begin makes one; nwaiters reset by a wake
		 * of the previous attempt's latch, so that it counts this round's waiter */
		stm_slot_wake(s);
		s->serial++;
		uint64_t w = (s->serial & STM_SERIAL_MASK) << STM_IDX_BITS | (s->idx + 1);
		atomic_store(&s->state, s->serial << 3 | TX_RUNNING);
		atomic_store(&word, w);
		atomic_store(&waiter_in, 0);
		pthread_barrier_wait(&gate);
		while (!atomic_load(&waiter_in))
			sched_yield();
		switch (round % 3) {
		case 0: /* at once */
			break;
		case 1: /* once it registered to park (it spins and yields first) */
			while (!atomic_load(&s->nwaiters))
				sched_yield();
			break;
		default: /* anywhere in between */
			for (uint64_t n = xorshift(&seed) % 20000; n; n--)
				cpu_relax();
			break;
		}
		if (atomic_load(&s->nwaiters))
			registered++;
		else
			unregistered++;
		stm_slot_stop(s, s->serial << 3 | TX_COMMITTED);
		pthread_barrier_wait(&gate);
	}
	atomic_store(&word, 0);
	pthread_barrier_wait(&gate);
	pthread_join(t, NULL);
	stm_slot_put(s);
	print_message("latch: %d stops with a waiter registered, %d without; asymmetric: %d; "
	              "longest wait %llu us\n",
	              registered, unregistered, (int)atomic_load(&stm_latch_asym),
	              (unsigned long long)(atomic_load(&longest) / 1000));
	assert_true(registered > 0);
	assert_true(unregistered > 0);
	pthread_barrier_destroy(&gate);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stop_wakes_every_waiter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
