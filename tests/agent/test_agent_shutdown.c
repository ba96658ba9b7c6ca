/* Agents at shutdown: rf_agent_shutdown refuses new sends and restarts, every action
 * accepted before it runs (queued ones and sends held in a running action), and
 * agent_drain_all (rf_shutdown's hook) returns only once they all have, also those of an
 * agent freed meanwhile. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "agent_test_util.h"
#include "ringfold/agent.h"
#include "ringfold/atom.h"
#include "runtime/agent/agent_internal.h"

enum { AGENTS = 50, PER_AGENT = 2000, HELD = 10 };

static rf_agent *agents[AGENTS];
static _Atomic int held_sent;
static _Atomic int second_gate;

static int fail_1(rf_val old, rf_val arg, rf_val *out)
{
	return -1;
}

/* Sends HELD actions to agents[1] (held until it ends), then waits for second_gate: the
 * test shuts down while this action runs, after its sends were accepted. */
static int send_then_wait(rf_val old, rf_val arg, rf_val *out)
{
	for (int i = 0; i < HELD; i++)
		if (rf_agent_send(agents[1], rf_add, 1))
			return -2;
	atomic_store(&held_sent, 1);
	while (!atomic_load(&second_gate)) {
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	/* Sends after shutdown are refused even inside an action. */
	if (rf_agent_send(agents[1], rf_add, 1000000) != RF_ESHUTDOWN)
		return -3;
	*out = old;
	return 0;
}

static bool held_were_sent(void *p)
{
	return atomic_load(&held_sent);
}

static void shutdown_loses_nothing(void **state)
{
	rf_agent *failed;
	assert_int_equal(rf_agent_new(0, NULL, &failed), 0);
	assert_int_equal(rf_agent_send(failed, fail_1, 0), 0);
	assert_true(wait_until(agent_failed, failed));

	gate_reset();
	for (int i = 0; i < AGENTS; i++)
		assert_int_equal(rf_agent_new(0, NULL, &agents[i]), 0);
	assert_int_equal(rf_agent_send_off(agents[0], send_then_wait, 0), 0);
	assert_true(wait_until(held_were_sent, NULL));
	for (int i = 0; i < AGENTS; i++) {
		assert_int_equal(rf_agent_send(agents[i], gated_identity, 0), 0);
		for (int k = 0; k < PER_AGENT; k++)
			assert_int_equal(rf_agent_send(agents[i], rf_add, 1), 0);
	}

	rf_agent_shutdown();
	assert_int_equal(rf_agent_send(agents[2], rf_add, 1), RF_ESHUTDOWN);
	assert_int_equal(rf_agent_send_off(agents[2], rf_add, 1), RF_ESHUTDOWN);
	assert_int_equal(rf_agent_restart(failed, 0, false), RF_ESHUTDOWN);
	gate_release();
	atomic_store(&second_gate, 1);
	assert_int_equal(agent_drain_all(), 0);

	for (int i = 0; i < AGENTS; i++) {
		rf_val v;
		rf_agent_deref(agents[i], &v);
		assert_int_equal(v, PER_AGENT + (i == 1 ? HELD : 0));
		assert_int_equal(rf_agent_error(agents[i]), 0);
	}
	/* await still works after shutdown (it sends nothing the user sees). */
	assert_int_equal(rf_agent_await(agents, AGENTS), 0);
	for (int i = 0; i < AGENTS; i++)
		rf_agent_free(agents[i]);

	agent_reopen_all();
	assert_int_equal(rf_agent_restart(failed, 3, false), 0);
	assert_int_equal(rf_agent_send(failed, rf_add, 1), 0);
	assert_int_equal(rf_agent_await(&failed, 1), 0);
	rf_val v;
	rf_agent_deref(failed, &v);
	assert_int_equal(v, 4);
	rf_agent_free(failed);
}

/* rf_agent_free during shutdown: the freed agent's 10,000 queued actions still run
 * once each, and the agent has ended (final value released) when the drain returns. */
enum { QUEUED = 10000 };
static _Atomic int runs[QUEUED];
static _Atomic int releases;
static _Atomic int free_gate;

static void count_release(rf_val v, rf_val ctx)
{
	atomic_fetch_add(&releases, 1);
}

static int step(rf_val old, rf_val idx, rf_val *out)
{
	atomic_fetch_add(&runs[idx], 1);
	*out = old + 1;
	return 0;
}

static int wait_free_gate(rf_val old, rf_val arg, rf_val *out)
{
	while (!atomic_load(&free_gate)) {
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	*out = old;
	return 0;
}

static void *drainer(void *p)
{
	return (void *)(intptr_t)agent_drain_all();
}

static bool shutting_down(void *p)
{
	return agent_shutting_down();
}

static void free_during_shutdown(void **state)
{
	rf_agent *a;
	rf_agent_opts o = {.size = sizeof(o), .release = count_release};
	assert_int_equal(rf_agent_new(1, &o, &a), 0);
	assert_int_equal(rf_agent_send(a, wait_free_gate, 0), 0);
	for (int i = 0; i < QUEUED; i++)
		assert_int_equal(rf_agent_send(a, step, i), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, drainer, NULL), 0);
	assert_true(wait_until(shutting_down, NULL));
	rf_agent_free(a);
	atomic_store(&free_gate, 1);
	void *rc;
	pthread_join(t, &rc);
	assert_int_equal((intptr_t)rc, 0);
	rf_reclaim_barrier(); /* the final value was retired before the drain returned */
	for (int i = 0; i < QUEUED; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	assert_int_equal(atomic_load(&releases), QUEUED + 1);
	agent_reopen_all();
}

/* Sends racing shutdown, from plain threads, to agents that keep going idle, so that
 * both kinds of send race the flag: those that find their agent busy and those that
 * start its drain. Every send that returned 0 has run once the senders are joined, none
 * ran twice, and each sender's first refusal is RF_ESHUTDOWN, which every later send
 * repeats. */
enum { RACERS = 3, RACE_AGENTS = 8 };
static _Atomic uint64_t race_ran;
static _Atomic uint64_t race_accepted;

static int count_run(rf_val old, rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&race_ran, 1, memory_order_relaxed);
	*out = old + 1;
	return 0;
}

static void *racer(void *p)
{
	rf_agent **mine = p;
	uint64_t accepted = 0;
	int rc = 0;
	for (unsigned i = 0; rc == 0; i++) {
		rc = rf_agent_send(mine[i % RACE_AGENTS], count_run, 0);
		if (rc == 0)
			accepted++;
		if (i % RACE_AGENTS == 0) /* let the agents go idle now and then */
			sched_yield();
	}
	if (rc != RF_ESHUTDOWN)
		abort();
	if (rf_agent_send(mine[0], count_run, 0) != RF_ESHUTDOWN)
		abort();
	atomic_fetch_add_explicit(&race_accepted, accepted, memory_order_relaxed);
	return NULL;
}

static bool racers_started(void *p)
{
	return atomic_load_explicit(&race_ran, memory_order_relaxed) >= 20000;
}

static void sends_racing_shutdown(void **state)
{
	for (int round = 0; round < 20; round++) {
		rf_agent *agents[RACERS][RACE_AGENTS];
		pthread_t t[RACERS];
		atomic_store(&race_ran, 0);
		atomic_store(&race_accepted, 0);
		for (int i = 0; i < RACERS; i++) {
			for (int j = 0; j < RACE_AGENTS; j++)
				assert_int_equal(rf_agent_new(0, NULL, &agents[i][j]), 0);
			assert_int_equal(pthread_create(&t[i], NULL, racer, agents[i]), 0);
		}
		assert_true(wait_until(racers_started, NULL));
		assert_int_equal(agent_drain_all(), 0);
		for (int i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		assert_int_equal(atomic_load(&race_ran), atomic_load(&race_accepted));
		uint64_t values = 0;
		for (int i = 0; i < RACERS; i++)
			for (int j = 0; j < RACE_AGENTS; j++) {
				rf_val v;
				rf_agent_deref(agents[i][j], &v);
				values += v;
				rf_agent_free(agents[i][j]);
			}
		assert_int_equal(values, atomic_load(&race_accepted));
		agent_reopen_all();
	}
}

/* A send that finds its agent busy only because another sender's enqueue, not yet
 * returned, made it so: the busy send returns, agent_drain_all runs, and the busy
 * send's action must have run by the time it returns. The first sender is stopped after
 * its enqueue by a signal whose handler waits (at a point that varies by round); the
 * second send and the drain happen meanwhile, on threads that exist already (the
 * stopped one may hold any lock of its send). Timing only decides how often the window
 * is hit, never whether the test passes. */
enum { STALL_ROUNDS = 3000 };
static rf_agent *_Atomic stall_agent;
static rf_agent *stall_agents[STALL_ROUNDS];
static _Atomic int stall_in_send, stall_stopped, stall_release, stall_round_done;
static _Atomic int stall_go, stall_quit, second_ran, drain_go, drain_saw_second, drain_done;

static int mark_second(rf_val old, rf_val arg, rf_val *out)
{
	atomic_store(&second_ran, 1);
	*out = old + 1;
	return 0;
}

static void on_stall_signal(int sig)
{
	(void)sig;
	if (!atomic_load(&stall_in_send) ||
	    !agent_queued(atomic_load(&atomic_load(&stall_agent)->state)))
		return;
	atomic_store(&stall_stopped, 1);
	while (!atomic_load(&stall_release))
		cpu_relax();
}

static void *first_sender(void *p)
{
	for (int round = 1;; round++) {
		while (atomic_load(&stall_go) < round)
			if (atomic_load(&stall_quit))
				return NULL;
		atomic_store(&stall_in_send, 1);
		(void)rf_agent_send(atomic_load(&stall_agent), rf_add, 1);
		atomic_store(&stall_in_send, 0);
		atomic_store(&stall_round_done, round);
	}
}

static void *stall_drainer(void *p)
{
	for (int round = 1;; round++) {
		while (atomic_load(&drain_go) < round)
			if (atomic_load(&stall_quit))
				return NULL;
		agent_drain_all();
		atomic_store(&drain_saw_second, atomic_load(&second_ran));
		atomic_store(&drain_done, round);
	}
}

static void busy_send_covered_at_drain(void **state)
{
	struct sigaction sa = {.sa_handler = on_stall_signal};
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	pthread_t s1, d;
	assert_int_equal(pthread_create(&s1, NULL, first_sender, NULL), 0);
	assert_int_equal(pthread_create(&d, NULL, stall_drainer, NULL), 0);
	int stops = 0, drains = 0;
	for (int round = 1; round <= STALL_ROUNDS; round++) {
		rf_agent *a;
		assert_int_equal(rf_agent_new(0, NULL, &a), 0);
		atomic_store(&stall_agent, a);
		atomic_store(&stall_stopped, 0);
		atomic_store(&stall_release, 0);
		atomic_store(&second_ran, 0);
		atomic_store(&stall_go, round);
		/* Signal the sender until one lands after its enqueue or the send is over. */
		for (unsigned k = round;
		     !atomic_load(&stall_stopped) && atomic_load(&stall_round_done) < round;
		     k = k * 1103515245u + 12345u) {
			pthread_kill(s1, SIGUSR1);
			for (unsigned i = 0; i < (k >> 16) % 64; i++)
				cpu_relax();
		}
		if (atomic_load(&stall_stopped)) {
			stops++;
			bool sent = rf_agent_send(a, mark_second, 0) == 0;
			atomic_store(&drain_go, ++drains);
			/* A drain that waits for the stopped sender's unit returns only after the
			 * release: give it a moment to return early, which it may do only once the
			 * second send ran. */
			uint64_t until = time_now_ns() + 2000000;
			while (atomic_load(&drain_done) < drains && time_now_ns() < until)
				sched_yield();
			atomic_store(&stall_release, 1);
			while (atomic_load(&drain_done) < drains)
				sched_yield();
			if (sent)
				assert_int_equal(atomic_load(&drain_saw_second), 1);
			agent_reopen_all();
		}
		while (atomic_load(&stall_round_done) < round)
			sched_yield();
		stall_agents[round - 1] = a;
	}
	atomic_store(&stall_quit, 1);
	pthread_join(s1, NULL);
	pthread_join(d, NULL);
	/* Only now: a signal handled late may still look at an agent of an earlier round. */
	for (int i = 0; i < STALL_ROUNDS; i++)
		rf_agent_free(stall_agents[i]);
	print_message("stopped after the enqueue in %d of %d rounds\n", stops, STALL_ROUNDS);
}

/* A drain with nothing accepted returns at once; twice in a row too. */
static void drain_when_idle(void **state)
{
	assert_int_equal(agent_drain_all(), 0);
	assert_int_equal(agent_drain_all(), 0);
	agent_reopen_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shutdown_loses_nothing),     cmocka_unit_test(drain_when_idle),
	    cmocka_unit_test(free_during_shutdown),       cmocka_unit_test(sends_racing_shutdown),
	    cmocka_unit_test(busy_send_covered_at_drain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
