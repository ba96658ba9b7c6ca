/* Bad input over the public API, table-driven: NULL handles and out pointers, sizes
 * that overflow, knobs out of range, NULL functions, INT64 extremes, a second join,
 * bad descriptors. Every row has one defined result, the same on a plain thread and on
 * a fiber (run once each); no crash, no hang, no sanitizer report. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfold/agent.h"
#include "ringfold/async.h"
#include "ringfold/atom.h"
#include "ringfold/chan.h"
#include "ringfold/deferred.h"
#include "ringfold/delay.h"
#include "ringfold/executor.h"
#include "ringfold/fj.h"
#include "ringfold/fold.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/lock.h"
#include "ringfold/pmap.h"
#include "ringfold/promise.h"
#include "ringfold/ref.h"
#include "ringfold/runtime.h"
#include "ringfold/var.h"
#include "ringfold/volatile.h"

static rf_val v;
static int pipefd[2];

static int body(rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

static int add(rf_val acc, rf_val x, rf_val *out)
{
	*out = acc + x;
	return 0;
}

static long config_with(int field, int value)
{
	rf_config c;
	if (rf_config_default(&c))
		return -1;
	if (field == 0)
		c.fj_steal = (rf_steal_policy)value;
	else if (field == 1)
		c.fj_workers_per_node = value;
	else if (field == 2)
		c.workers_per_node = value;
	else
		c.io_backend = (rf_io_backend)value;
	return rf_init(&c); /* the runtime runs: a bad knob must still be -EINVAL */
}

static long chan_with_xform(rf_xform xf)
{
	rf_chan *c = NULL;
	long rc = rf_chan_new_xform(RF_BUF_FIXED, 4, &xf, &c);
	if (c)
		rf_chan_release(c);
	return rc;
}

static long fold_of(rf_reducible r)
{
	rf_val out;
	return rf_fold(r, add, 0, add, &out);
}

/* (range INT64_MIN INT64_MAX) taken while small: the fold must not overflow. */
static int small(rf_val x, rf_val arg, rf_val *out)
{
	*out = x < INT64_MIN + 1000;
	return 0;
}

static int count(rf_val acc, rf_val x, rf_val *out)
{
	*out = acc + 1;
	return 0;
}

static long extreme_range(void)
{
	rf_val out = -1;
	int rc = rf_fold(rf_r_take_while(rf_r_range(INT64_MIN, INT64_MAX), small, 0), add, 0, count,
	                 &out);
	return rc < 0 ? rc : out == 1000 ? 0 : -1;
}

static int join_twice_body(rf_val arg, rf_val *out)
{
	rf_fj_task t;
	int rc = rf_fj_fork(&t, body, 5);
	if (rc < 0)
		return rc;
	rf_val a, b;
	if ((rc = rf_fj_join(&t, &a)) < 0 || a != 5)
		return -1;
	*out = rf_fj_join(&t, &b);
	return 0;
}

static long join_twice(void)
{
	rf_val out;
	int rc = rf_fj_invoke(join_twice_body, 0, &out);
	return rc < 0 ? rc : out;
}

static long onto_huge(void)
{
	rf_chan *c;
	if (rf_chan_new(&c))
		return -1;
	long rc = rf_onto_chan(c, (const rf_val *)&v, SIZE_MAX / 4, false, NULL);
	rf_chan_release(c);
	return rc;
}

static long to_huge(void)
{
	rf_chan *c;
	return rf_to_chan((const rf_val *)&v, SIZE_MAX / 8 + 1, &c);
}

struct row {
	const char *what;
	long (*fn)(void);
	long want;
};

#define ROW(id, want, expr)                                                                        \
	static long id(void)                                                                       \
	{                                                                                          \
		return (long)(expr);                                                               \
	}
#define ROWS(X)                                                                                    \
	X(config_default_null, -EINVAL, rf_config_default(NULL))                                   \
	X(init_fj_steal_9, RF_ECONFIG, config_with(0, 9))                                          \
	X(init_fj_steal_neg, RF_ECONFIG, config_with(0, -1))                                       \
	X(init_fj_workers_neg, RF_ECONFIG, config_with(1, -3))                                     \
	X(init_workers_neg, RF_ECONFIG, config_with(2, -1))                                        \
	X(init_backend_7, RF_ECONFIG, config_with(3, 7))                                           \
	X(stats_null, 0, (rf_stats_get(NULL), 0))                                                  \
	X(shutdown_timeout_neg, -EINVAL, rf_shutdown_timeout(-1))                                  \
	X(chan_new_null, -EINVAL, rf_chan_new(NULL))                                               \
	X(chan_new_buf_zero, -EINVAL, rf_chan_new_buf(RF_BUF_FIXED, 0, NULL))                      \
	X(chan_retain_null, 0, rf_chan_retain(NULL) != NULL)                                       \
	X(chan_free_null, 0, (rf_chan_release(NULL), 0))                                           \
	X(chan_put_null, -EINVAL, rf_chan_put(NULL, 1))                                            \
	X(chan_take_null, -EINVAL, rf_chan_take(NULL, &v))                                         \
	X(chan_put_timeout_neg, -EINVAL, rf_chan_put_timeout(NULL, 1, -1))                         \
	X(chan_offer_null, -EINVAL, rf_chan_offer(NULL, 1))                                        \
	X(chan_poll_null, -EINVAL, rf_chan_poll(NULL, &v))                                         \
	X(chan_close_null, 0, (rf_chan_close(NULL), 0))                                            \
	X(chan_xform_map_null, -EINVAL, chan_with_xform(rf_xform_map(NULL)))                       \
	X(chan_xform_filter_null, -EINVAL, chan_with_xform(rf_xform_filter(NULL)))                 \
	X(alts_null, -EINVAL, rf_alts(NULL, 1, 0, NULL, &v))                                       \
	X(alts_zero, -EINVAL, rf_alts((rf_alt[1]){{NULL, false, 0}}, 0, 0, (int[1]){0}, &v))       \
	X(timeout_neg, -EINVAL, rf_chan_timeout(-1, (rf_chan *[1]){NULL}))                         \
	X(timeout_null, -EINVAL, rf_chan_timeout(1, NULL))                                         \
	X(go_null_fn, -EINVAL, rf_go(NULL, 0, NULL))                                               \
	X(onto_chan_overflow, -EINVAL, onto_huge())                                                \
	X(to_chan_overflow, -EINVAL, to_huge())                                                    \
	X(to_chan_null_vals, -EINVAL, rf_to_chan(NULL, 3, (rf_chan *[1]){NULL}))                   \
	X(promise_new_null, -EINVAL, rf_promise_new(NULL))                                         \
	X(promise_deliver_null, -EINVAL, rf_promise_deliver(NULL, 1))                              \
	X(promise_deref_null, -EINVAL, rf_promise_deref(NULL, &v))                                 \
	X(promise_deref_timeout_neg, -EINVAL, rf_promise_deref_timeout(NULL, -1, &v))              \
	X(future_call_null_fn, -EINVAL, rf_future_call(NULL, 0, (rf_future *[1]){NULL}))           \
	X(future_call_null_out, -EINVAL, rf_future_call(body, 0, NULL))                            \
	X(future_deref_null, -EINVAL, rf_future_deref(NULL, &v))                                   \
	X(future_cancel_null, -EINVAL, rf_future_cancel(NULL))                                     \
	X(deferred_new_null, -EINVAL, rf_deferred_new(NULL))                                       \
	X(deferred_deref_null, -EINVAL, rf_deferred_deref(NULL, &v))                               \
	X(deferred_success_null, -EINVAL, rf_deferred_success(NULL, 1))                            \
	X(deferred_error_positive, -EINVAL, rf_deferred_error(NULL, 5))                            \
	X(delay_new_null_fn, -EINVAL, rf_delay_new(NULL, 0, (rf_delay *[1]){NULL}))                \
	X(delay_deref_null, -EINVAL, rf_delay_deref(NULL, &v))                                     \
	X(atom_new_null, -EINVAL, rf_atom_new(0, NULL))                                            \
	X(atom_deref_null, -EINVAL, rf_atom_deref(NULL, &v))                                       \
	X(atom_swap_null, -EINVAL, rf_atom_swap(NULL, add, 1, NULL))                               \
	X(atom_reset_null, -EINVAL, rf_atom_reset(NULL, 1))                                        \
	X(atom_free_null, 0, (rf_atom_free(NULL), 0))                                              \
	X(volatile_new_null, -EINVAL, rf_volatile_new(0, NULL))                                    \
	X(volatile_swap_null, -EINVAL, rf_volatile_swap(NULL, add, 1, NULL))                       \
	X(lock_new_null, -EINVAL, rf_lock_new(NULL))                                               \
	X(lock_lock_null, -EINVAL, rf_lock_lock(NULL))                                             \
	X(lock_unlock_null, -EINVAL, rf_lock_unlock(NULL))                                         \
	X(lock_timeout_neg, -EINVAL, rf_lock_lock_timeout(NULL, -1))                               \
	X(locking_null, -EINVAL, rf_locking(NULL, body, 0, &v))                                    \
	X(ref_new_null, -EINVAL, rf_ref_new(0, NULL))                                              \
	X(ref_deref_null, -EINVAL, rf_ref_deref(NULL, &v))                                         \
	X(dosync_null_fn, -EINVAL, rf_dosync(NULL, 0, &v))                                         \
	X(ref_alter_outside, -EINVAL, rf_ref_alter(NULL, add, 1, &v))                              \
	X(var_new_null, -EINVAL, rf_var_new(0, NULL))                                              \
	X(var_deref_null, -EINVAL, rf_var_deref(NULL, &v))                                         \
	X(var_set_null, -EINVAL, rf_var_set(NULL, 1))                                              \
	X(agent_new_null, -EINVAL, rf_agent_new(0, NULL, NULL))                                    \
	X(agent_send_null, -EINVAL, rf_agent_send(NULL, add, 1))                                   \
	X(agent_deref_null, -EINVAL, rf_agent_deref(NULL, &v))                                     \
	X(agent_await_null, -EINVAL, rf_agent_await(NULL, 1))                                      \
	X(executor_new_zero, -EINVAL, rf_executor_new(0, (rf_executor *[1]){NULL}))                \
	X(executor_submit_null, -EINVAL, rf_executor_submit(NULL, body, 0, NULL))                  \
	X(executor_free_null, 0, (rf_executor_free(NULL), 0))                                      \
	X(fold_int64_null, -EINVAL, fold_of(rf_r_int64(NULL, 10)))                                 \
	X(fold_double_null, -EINVAL, fold_of(rf_r_double(NULL, 10)))                               \
	X(fold_elems_zero_size, -EINVAL, fold_of(rf_r_elems(&v, 10, 0)))                           \
	X(fold_map_null, -EINVAL, fold_of(rf_r_map(rf_r_range(0, 10), NULL, 0)))                   \
	X(fold_null_out, -EINVAL, rf_fold(rf_r_range(0, 10), add, 0, add, NULL))                   \
	X(fold_range_extremes, 0, extreme_range())                                                 \
	X(fold_range_empty, 0, fold_of(rf_r_range(INT64_MAX, INT64_MIN)))                          \
	X(pmap_null_f, -EINVAL, rf_pmap(&v, 1, NULL, 0, &v))                                       \
	X(fj_join_outside, RF_ENOTINPOOL, rf_fj_join((rf_fj_task *)&v, &v))                        \
	X(fj_join_twice, -EINVAL, join_twice())                                                    \
	X(fj_invoke_null, -EINVAL, rf_fj_invoke(NULL, 0, &v))                                      \
	X(io_read_badfd, -EBADF, rf_io_read(-1, &v, 1))                                            \
	X(io_read_timeout_badfd, -EBADF, rf_io_read_timeout(-1, &v, 1, 50))                        \
	X(io_write_badfd, -EBADF, rf_io_write(-1, &v, 1))                                          \
	X(io_pollfd_neg, -EBADF, rf_io_pollfd(-1, POLLIN))                                         \
	X(io_pollfd_timeout_neg, -EBADF, rf_io_pollfd_timeout(-1, POLLIN, 50))                     \
	X(io_accept_pipe, -ENOTSOCK, rf_io_accept(pipefd[0], NULL, NULL, 0))                       \
	X(io_accept_timeout_pipe, -ENOTSOCK, rf_io_accept_timeout(pipefd[0], NULL, NULL, 0, 50))   \
	X(io_recv_pipe, -ENOTSOCK, rf_io_recv_timeout(pipefd[0], &v, 1, 0, 50))                    \
	X(io_close_badfd, -EBADF, rf_io_close(-1))                                                 \
	X(sleep_neg, -EINVAL, rf_sleep_ms(-1))                                                     \
	X(blocking_null, -EINVAL, rf_blocking(NULL, 0, &v))

ROWS(ROW)
#define ENTRY(id, want, expr) {#id, id, want},
static const struct row rows[] = {ROWS(ENTRY)};
enum { NROWS = sizeof(rows) / sizeof(rows[0]) };

static long got_thread[NROWS], got_fiber[NROWS];

static int run_all(rf_val arg, rf_val *out)
{
	long *got = rf_to_ptr(arg);
	for (int i = 0; i < NROWS; i++)
		got[i] = rows[i].fn();
	*out = 0;
	return 0;
}

static void every_row(void **state)
{
	assert_int_equal(pipe(pipefd), 0);
	rf_val out;
	run_all(rf_from_ptr(got_thread), &out);
	rf_future *f;
	assert_int_equal(rf_future_call(run_all, rf_from_ptr(got_fiber), &f), 0);
	assert_int_equal(rf_future_deref(f, &out), 0);
	rf_future_free(f);
	int bad = 0;
	for (int i = 0; i < NROWS; i++) {
		if (got_thread[i] != rows[i].want || got_fiber[i] != rows[i].want) {
			print_error("%s: want %ld, thread %ld, fiber %ld\n", rows[i].what,
			            rows[i].want, got_thread[i], got_fiber[i]);
			bad++;
		}
	}
	print_message("%d rows\n", NROWS);
	close(pipefd[0]);
	close(pipefd[1]);
	rf_shutdown();
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(every_row)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
