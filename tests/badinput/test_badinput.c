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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfold/agent.h"
#include "ringfold/async.h"
#include "ringfold/atom.h"
#include "ringfold/chan.h"
#include "ringfold/coll.h"
#include "ringfold/deferred.h"
#include "ringfold/delay.h"
#include "ringfold/executor.h"
#include "ringfold/fj.h"
#include "ringfold/fold.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/lock.h"
#include "ringfold/phm.h"
#include "ringfold/pmap.h"
#include "ringfold/promise.h"
#include "ringfold/psorted.h"
#include "ringfold/pvec.h"
#include "ringfold/ref.h"
#include "ringfold/runtime.h"
#include "ringfold/schedule.h"
#include "ringfold/thread.h"
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

static int range_body(size_t lo, size_t hi, rf_val ctx, rf_val *acc)
{
	*acc += (rf_val)(hi - lo);
	return 0;
}

static int block_keep(rf_val *xs, size_t n, rf_val arg, size_t *kept)
{
	*kept = n;
	return 0;
}

/* RF_R_MAX_STAGES + 1 map stages: the fold must refuse them. */
static long too_many_stages(void)
{
	rf_reducible r = rf_r_range(0, 10);
	for (int i = 0; i <= RF_R_MAX_STAGES; i++)
		r = rf_r_map(r, add, 0);
	return fold_of(r);
}

/* (range INT64_MAX - 2, INT64_MAX) has two elements; (range INT64_MIN, INT64_MIN + 3) sums
 * without overflow as long as the sum fits. */
static long range_top(void)
{
	rf_val out = -1;
	int rc = rf_fold(rf_r_range(INT64_MAX - 2, INT64_MAX), add, 0, count, &out);
	return rc < 0 ? rc : out;
}

static long numa_layout(int nodes)
{
	static const int64_t a[4];
	rf_numa_layout l = {.nodes = nodes};
	return fold_of(rf_r_numa(rf_r_int64(a, 4), &l));
}

static long numa_alloc(size_t n, size_t size, bool layout)
{
	rf_numa_layout l;
	void *p = NULL;
	long rc = rf_fold_numa_alloc(n, size, layout ? &l : NULL, &p);
	if (p)
		rf_fold_numa_free(p, n, size);
	return rc;
}

/* Inside a pool task: fork or join with a NULL task or function. */
static int in_pool_body(rf_val arg, rf_val *out)
{
	rf_fj_task t;
	rf_val r;
	switch (arg) {
	case 0:
		*out = rf_fj_fork(NULL, body, 0);
		break;
	case 1:
		*out = rf_fj_fork(&t, NULL, 0);
		break;
	case 2:
		*out = rf_fj_join(NULL, &r);
		break;
	default:
		*out = rf_fj_current_node() >= 0 ? 0 : -1;
		break;
	}
	return 0;
}

static long in_pool(int which)
{
	rf_val out;
	int rc = rf_fj_invoke(in_pool_body, which, &out);
	return rc < 0 ? rc : (long)out;
}

static long pmap_stream(int which)
{
	static const rf_val in[4] = {1, 2, 3, 4};
	rf_pmap_stream *s;
	int rc = rf_pmap_stream_new(in, 4, add, 1, 0, &s);
	if (rc < 0)
		return rc;
	rf_val out;
	long got = which == 0 ? rf_pmap_stream_next_timeout(s, -1, &out)
	         : which == 1 ? rf_pmap_stream_next_timeout(s, INT64_MIN, &out)
	         : which == 2 ? rf_pmap_stream_next(s, NULL)
	                      : rf_pmap_stream_next_timeout(s, INT64_MAX, &out) ?: (long)out;
	rf_pmap_stream_free(s);
	return got;
}

static long on_executor(int which)
{
	rf_executor *ex;
	int rc = rf_executor_new(1, &ex);
	if (rc < 0)
		return rc;
	rf_task *back = NULL;
	size_t nback = 0;
	long got;
	switch (which) {
	case 0:
		got = rf_executor_submit(ex, NULL, 0, NULL);
		break;
	case 1:
		got = rf_executor_invoke_all(ex, NULL, 2, (rf_future *[2]){NULL, NULL});
		break;
	case 2:
		got = rf_executor_invoke_all(ex, (rf_task[2]){{body, 1}, {NULL, 2}}, 2,
		                             (rf_future *[2]){NULL, NULL});
		break;
	case 3:
		got = rf_executor_invoke_all(ex, NULL, 0, NULL);
		break;
	case 4:
		got = rf_executor_shutdown_now(ex, NULL, &nback);
		break;
	case 5:
		got = rf_executor_shutdown_now(ex, &back, NULL);
		break;
	case 6:
		got = rf_executor_await_termination(ex, -1);
		break;
	case 7:
		got = rf_executor_await_termination(ex, INT64_MIN);
		break;
	default: /* shut down with nothing queued: terminates, the longest bound returns 0 */
		rf_executor_shutdown(ex);
		got = rf_executor_await_termination(ex, INT64_MAX);
		break;
	}
	free(back);
	rf_executor_free(ex);
	return got;
}

static long fj_timeout_max(void)
{
	rf_val out = 0;
	int rc = rf_fj_invoke_timeout(body, 7, INT64_MAX, &out);
	return rc < 0 ? rc : (long)out;
}

static int pass_xf(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_xform_emit(sink, v);
	return 0;
}

static int vals_sum(const rf_val *vals, size_t n, rf_val ctx, rf_val *out)
{
	*out = ctx;
	for (size_t i = 0; i < n; i++)
		*out += vals[i];
	return 0;
}

static void release_nothing(rf_val v, rf_val ctx) {}

static void pass_async(rf_val v, rf_chan *result, rf_val ctx)
{
	rf_chan_close(result);
}

/* A combinator given two real channels and one bad argument. */
static long on_chans(int which)
{
	rf_chan *a, *b;
	if (rf_chan_new(&a))
		return -1;
	if (rf_chan_new(&b)) {
		rf_chan_release(a);
		return -1;
	}
	rf_xform xf = {.step = pass_xf};
	rf_xform no_step = {0};
	rf_chan *out = NULL, *t = NULL, *f = NULL;
	rf_mix *m = NULL;
	long got;
	switch (which) {
	case 0:
		got = rf_pipeline(0, a, &xf, b, false);
		break;
	case 1:
		got = rf_pipeline(-1, a, &xf, b, false);
		break;
	case 2:
		got = rf_pipeline(1, a, NULL, b, false);
		break;
	case 3:
		got = rf_pipeline(1, a, &no_step, b, false);
		break;
	case 4:
		got = rf_pipeline(1, NULL, &xf, b, false);
		break;
	case 5:
		got = rf_pipeline_blocking(0, a, &xf, b, false);
		break;
	case 6:
		got = rf_pipeline_blocking(1, a, &xf, NULL, false);
		break;
	case 7:
		got = rf_pipeline_async(INT32_MIN, a, NULL, 0, b, false);
		break;
	case 8:
		got = rf_pipeline_async(0, a, pass_async, 0, b, false);
		break;
	case 9:
		got = rf_pipeline_async(1, NULL, pass_async, 0, b, false);
		break;
	case 10:
		got = rf_merge((rf_chan *[2]){a, NULL}, 2, 0, &out);
		break;
	case 11:
		got = rf_split(NULL, a, &t, &f);
		break;
	case 12:
		got = rf_split(body, a, NULL, &f);
		break;
	case 13:
		got = rf_pub_new(a, NULL, (rf_pub *[1]){NULL});
		break;
	case 14:
		got = rf_chan_reduce(NULL, 0, a, &out);
		break;
	case 15:
		got = rf_chan_reduce(add, 0, a, NULL);
		break;
	case 16:
		got = rf_chan_into(a, NULL);
		break;
	case 17:
		got = rf_pipe(a, NULL, false);
		break;
	case 18:
		got = rf_onto_chan(a, NULL, 3, false, NULL);
		break;
	case 25:
		got = rf_chan_transduce(NULL, add, 0, a, &out);
		break;
	case 26:
		got = rf_chan_transduce(&no_step, add, 0, a, &out);
		break;
	case 27:
		got = rf_chan_transduce(&xf, NULL, 0, a, &out);
		break;
	case 28:
		got = rf_chan_take_n(1, a, 0, NULL);
		break;
	case 29:
		got = rf_chan_map(NULL, 0, (rf_chan *[2]){a, b}, 2, 0, &out);
		break;
	case 30:
		got = rf_chan_map(vals_sum, 0, (rf_chan *[2]){a, b}, 0, 0, &out);
		break;
	case 31:
		got = rf_chan_map(vals_sum, 0, (rf_chan *[2]){a, NULL}, 2, 0, &out);
		break;
	case 32:
		got = rf_chan_map(vals_sum, 0, (rf_chan *[2]){a, b}, SIZE_MAX / 8, 0, &out);
		break;
	case 33:
		got = rf_chan_new_opts(&(rf_chan_opts){.size = sizeof(rf_chan_opts),
		                                       .kind = RF_BUF_SLIDING,
		                                       .n = 1,
		                                       .release = release_nothing},
		                       NULL);
		break;
	default:
		if ((got = rf_mix_new(a, &m)) < 0)
			break;
		got = which == 19   ? rf_mix_toggle(m, b, 8)
		      : which == 20 ? rf_mix_toggle(m, b, -1)
		      : which == 21 ? rf_mix_solo_mode(m, 0)
		      : which == 22 ? rf_mix_solo_mode(m, RF_MIX_SOLO)
		      : which == 23 ? rf_mix_toggle(m, NULL, RF_MIX_MUTE)
		                    : rf_mix_admix(m, NULL);
		rf_mix_free(m);
		break;
	}
	if (out)
		rf_chan_release(out);
	if (t)
		rf_chan_release(t);
	if (f)
		rf_chan_release(f);
	rf_chan_close(a);
	rf_chan_close(b);
	rf_chan_release(a);
	rf_chan_release(b);
	return got;
}

static long on_stats(int which)
{
	rf_stats *st;
	int rc = rf_stats_new(&st);
	if (rc < 0)
		return rc;
	char buf[8];
	long got = which == 0   ? rf_stats_write_json(st, -1)
	           : which == 1 ? rf_stats_json(st, NULL, 8, NULL)
	           : which == 2 ? rf_stats_sub(st, NULL)
	                        : rf_stats_json(st, buf, sizeof(buf), NULL);
	rf_stats_free(st);
	return got;
}

/* Pop the three elements of t, then one more. */
static long pop_past_empty(rf_tvec *t)
{
	for (int i = 0; i < 3; i++)
		if (rf_tvec_pop(t) < 0)
			return -1;
	return rf_tvec_pop(t);
}

/* A vector of three, one bad call on it. */
static long on_pvec(int which)
{
	rf_pvec *v, *o = NULL;
	rf_tvec *t = NULL;
	int rc = rf_pvec_from((const rf_val[3]){1, 2, 3}, 3, NULL, &v);
	if (rc < 0)
		return rc;
	rf_val x;
	const rf_val *run;
	size_t len;
	long got;
	switch (which) {
	case 0:
		got = rf_pvec_nth(v, 3, &x);
		break;
	case 1:
		got = rf_pvec_nth(v, SIZE_MAX, &x);
		break;
	case 2:
		got = rf_pvec_nth(v, 0, NULL);
		break;
	case 3:
		got = rf_pvec_assoc(v, 4, 9, &o);
		break;
	case 4:
		got = rf_pvec_assoc(v, SIZE_MAX, 9, &o);
		break;
	case 5:
		got = rf_pvec_conj(v, 9, NULL);
		break;
	case 6:
		got = rf_pvec_subvec(v, 2, 1, &o);
		break;
	case 7:
		got = rf_pvec_subvec(v, 0, SIZE_MAX, &o);
		break;
	case 8:
		got = rf_pvec_chunk(v, 3, &run, &len);
		break;
	case 9:
		got = rf_pvec_chunk(v, 0, NULL, &len);
		break;
	case 10:
		got = rf_pvec_transient(v, NULL);
		break;
	default:
		if ((got = rf_pvec_transient(v, &t)) < 0)
			break;
		got = which == 11   ? rf_tvec_assoc(t, 4, 9)
		      : which == 12 ? rf_tvec_nth(t, SIZE_MAX, &x)
		      : which == 13 ? rf_tvec_nth(t, 0, NULL)
		      : which == 14 ? rf_tvec_persistent(t, NULL)
		                    : pop_past_empty(t);
		rf_tvec_free(t);
		break;
	}
	if (o)
		rf_pvec_release(o);
	rf_pvec_release(v);
	return got;
}

static long on_empty_pvec(int which)
{
	rf_pvec *v, *o = NULL;
	int rc = rf_pvec_new(NULL, &v);
	if (rc < 0)
		return rc;
	rf_val x;
	long got = which == 0   ? rf_pvec_pop(v, &o)
	           : which == 1 ? rf_pvec_peek(v, &x)
	           : which == 2 ? rf_pvec_nth(v, 0, &x)
	                        : rf_pvec_peek(v, NULL);
	if (o)
		rf_pvec_release(o);
	rf_pvec_release(v);
	return got;
}

static long small_ops(int which)
{
	rf_coll_ops ops = rf_coll_ops_default();
	ops.size = 1;
	void *out = NULL;
	long got = which == 0   ? rf_pvec_new(&ops, (rf_pvec **)&out)
	           : which == 1 ? rf_phm_new(&ops, (rf_phm **)&out)
	                        : rf_psorted_new(NULL, 0, &ops, (rf_psorted **)&out);
	return out ? -1 : got;
}

/* ops that own by halves (which % 2: release without retain, else key_retain without
 * key_release) to rf_pvec_new, rf_phm_new, rf_psorted_new, rf_pvec_from (which / 2) */
static long half_owning_ops(int which)
{
	rf_coll_ops ops = rf_coll_ops_default();
	if (which % 2)
		ops.release = rf_coll_release;
	else
		ops.key_retain = rf_coll_retain;
	void *out = NULL;
	int f = which / 2;
	long got = f == 0   ? rf_pvec_new(&ops, (rf_pvec **)&out)
	           : f == 1 ? rf_phm_new(&ops, (rf_phm **)&out)
	           : f == 2 ? rf_psorted_new(NULL, 0, &ops, (rf_psorted **)&out)
	                    : rf_pvec_from(NULL, 0, &ops, (rf_pvec **)&out);
	return out ? -1 : got;
}

static long on_phm(int which)
{
	rf_phm *m, *o = NULL, *s = NULL;
	int rc = rf_phm_new(NULL, &m);
	if (rc < 0)
		return rc;
	rf_thm *t = NULL;
	rf_val x;
	long got;
	switch (which) {
	case 0:
		got = rf_phm_update(m, 1, NULL, 0, &o);
		break;
	case 1:
		got = rf_phm_get(m, 1, 0, NULL);
		break;
	case 2:
		got = rf_phm_assoc(m, 1, 2, NULL);
		break;
	case 3:
		got = rf_phm_dissoc(m, 1, NULL);
		break;
	case 4:
		got = rf_phm_merge(m, NULL, &o);
		break;
	case 5:
		got = rf_phm_merge(m, m, NULL);
		break;
	case 6:
		if ((got = rf_phm_new(&rf_coll_str, &s)) == 0)
			got = rf_phm_merge(m, s, &o);
		break;
	case 7:
		got = rf_phm_get(m, INT64_MIN, 5, &x) ?: (long)x;
		break;
	default:
		if ((got = rf_phm_transient(m, &t)) < 0)
			break;
		got = which == 8 ? rf_thm_get(t, 1, 0, NULL) : rf_thm_persistent(t, NULL);
		rf_thm_free(t);
		break;
	}
	if (o)
		rf_phm_release(o);
	if (s)
		rf_phm_release(s);
	rf_phm_release(m);
	return got;
}

static long phm_iter_of_null(void)
{
	rf_coll_iter it;
	rf_phm_iter_init(NULL, &it);
	return rf_coll_iter_next(&it, NULL, NULL);
}

static long psorted_iter_of_null(bool from)
{
	rf_coll_iter it;
	if (from)
		rf_psorted_iter_from(NULL, 1, &it);
	else
		rf_psorted_iter_init(NULL, &it);
	return rf_coll_iter_next(&it, NULL, NULL);
}

static long on_psorted(int which)
{
	rf_psorted *m, *o = NULL;
	int rc = rf_psorted_new(NULL, 0, NULL, &m);
	if (rc < 0)
		return rc;
	rf_val k;
	long got = which == 0   ? rf_psorted_nth(m, 0, &k, NULL)
	           : which == 1 ? rf_psorted_nth(m, SIZE_MAX, NULL, NULL)
	           : which == 2 ? rf_psorted_assoc(m, INT64_MIN, 1, NULL)
	           : which == 3 ? rf_psorted_get(m, 1, 0, NULL)
	                        : rf_psorted_dissoc(m, 1, NULL);
	if (o)
		rf_psorted_release(o);
	rf_psorted_release(m);
	return got;
}

/* A schedule as far away as its arguments reach: made, cancelled, joined, freed. */
static long schedule_far(int which)
{
	rf_schedule *s;
	int rc = which == 0 ? rf_schedule_after(INT64_MAX, body, 0, &s)
	                    : rf_schedule_every(INT64_MAX, INT64_MAX / 1000000,
	                                        RF_SCHEDULE_FIXED_RATE, body, 0, &s);
	if (rc < 0)
		return rc;
	long got = rf_schedule_join(s, -1);
	if (got == -EINVAL) /* not run yet: cancelling ends it, and join says so */
		got = rf_schedule_cancel(s) == 1 ? rf_schedule_join(s, 5000) : -1;
	rf_schedule_free(s);
	return got;
}

static long on_var(int which, bool dynamic)
{
	rf_var *var;
	int rc = dynamic ? rf_var_new_dynamic(0, &var) : rf_var_new(0, &var);
	if (rc < 0)
		return rc;
	long got;
	switch (which) {
	case 0:
		got = rf_var_alter_root(var, NULL, 0, NULL);
		break;
	case 1:
		got = rf_var_binding(var, 1, NULL, 0, &v);
		break;
	case 2:
		got = rf_var_pop_binding(var);
		break;
	case 3:
		got = rf_var_push_binding(var, 1);
		break;
	case 4:
		got = rf_var_add_watch(var, 1, NULL, 0);
		break;
	case 5:
		got = rf_var_bindings(2, (rf_var *[2]){var, NULL}, (rf_val[2]){1, 2}, body, 0, &v);
		break;
	case 6:
		got = rf_var_bindings(1, (rf_var *[1]){var}, NULL, body, 0, &v);
		break;
	case 7:
		got = rf_var_set(var, 1);
		break;
	case 9:
		got = rf_var_binding(var, 1, body, 0, &v);
		break;
	case 10:
		got = rf_var_deref(var, NULL);
		break;
	default:
		got = rf_var_get_validator(var, NULL, NULL);
		break;
	}
	rf_var_free(var);
	return got;
}

static long on_ref(int which)
{
	rf_ref *r;
	int rc = rf_ref_new(0, &r);
	if (rc < 0)
		return rc;
	long got;
	switch (which) {
	case 0:
		got = rf_ref_set(r, 1);
		break;
	case 1:
		got = rf_ref_commute(r, add, 1, &v);
		break;
	case 2:
		got = rf_ref_ensure(r, &v);
		break;
	case 3:
		got = rf_ref_add_watch(r, 1, NULL, 0);
		break;
	case 4:
		got = rf_ref_deref(r, NULL);
		break;
	default:
		got = rf_ref_history_count(r);
		break;
	}
	rf_ref_free(r);
	return got;
}

static long ref_opts(unsigned min, unsigned max, size_t size)
{
	rf_ref *r = NULL;
	rf_ref_opts o = {.size = size, .min_history = min, .max_history = max};
	long rc = rf_ref_new_opts(0, &o, &r);
	if (r)
		rf_ref_free(r);
	return rc;
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
	X(agent_send_off_null, -EINVAL, rf_agent_send_off(NULL, add, 1))                           \
	X(agent_send_via_null, -EINVAL, rf_agent_send_via(NULL, NULL, add, 1))                     \
	X(agent_send_executor_null, 0, (rf_agent_set_send_executor(NULL), 0))                      \
	X(agent_send_off_executor_null, 0, (rf_agent_set_send_off_executor(NULL), 0))              \
	X(agent_free_null, 0, (rf_agent_free(NULL), 0))                                            \
	X(agent_error_null, -EINVAL, rf_agent_error(NULL))                                         \
	X(agent_restart_null, -EINVAL, rf_agent_restart(NULL, 0, true))                            \
	X(agent_await_for_neg, -EINVAL, rf_agent_await_for(NULL, 0, -1))                           \
	X(agent_await_for_min, -EINVAL, rf_agent_await_for(NULL, 0, INT64_MIN))                    \
	X(agent_error_mode_null, RF_AGENT_MODE_DEFAULT, rf_agent_get_error_mode(NULL))             \
	X(agent_new_opts_size_zero, -EINVAL,                                                       \
	  rf_agent_new(0, &(rf_agent_opts){0}, (rf_agent *[1]){NULL}))                             \
	X(agent_new_bad_mode, -EINVAL,                                                             \
	  rf_agent_new(0, &(rf_agent_opts){.size = sizeof(rf_agent_opts), .error_mode = 9},        \
	               (rf_agent *[1]){NULL}))                                                     \
	X(pcalls_null, -EINVAL, rf_pcalls(NULL, 1, &v, NULL))                                      \
	X(pcalls_null_results, -EINVAL, rf_pcalls((rf_task[1]){{body, 1}}, 1, NULL, NULL))         \
	X(pcalls_null_fn, -EINVAL, rf_pcalls((rf_task[1]){{NULL, 1}}, 1, &v, NULL))                \
	X(pcalls_empty, 0, rf_pcalls(NULL, 0, NULL, NULL))                                         \
	X(pcalls_huge, -EINVAL, rf_pcalls((rf_task[1]){{body, 1}}, SIZE_MAX, &v, NULL))            \
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
	X(fold_emit_null, -EINVAL, rf_emit_val(NULL, 1))                                           \
	X(fold_source_null, -EINVAL, fold_of(rf_r_source(NULL, 0, 10)))                            \
	X(fold_runs_null, -EINVAL, fold_of(rf_r_runs(NULL, 0, 10)))                                \
	X(fold_filter_null, -EINVAL, fold_of(rf_r_filter(rf_r_range(0, 10), NULL, 0)))             \
	X(fold_remove_null, -EINVAL, fold_of(rf_r_remove(rf_r_range(0, 10), NULL, 0)))             \
	X(fold_mapcat_null, -EINVAL, fold_of(rf_r_mapcat(rf_r_range(0, 10), NULL, 0)))             \
	X(fold_take_while_null, -EINVAL, fold_of(rf_r_take_while(rf_r_range(0, 10), NULL, 0)))     \
	X(fold_block_null, -EINVAL, fold_of(rf_r_block(rf_r_range(0, 10), NULL, 0)))               \
	X(fold_block_ok, 45, fold_of(rf_r_block(rf_r_range(0, 10), block_keep, 0)) ?: 45)          \
	X(fold_too_many_stages, -E2BIG, too_many_stages())                                         \
	X(fold_n_zero, -EINVAL, rf_fold_n(rf_r_range(0, 10), 0, add, 0, add, &v))                  \
	X(fold_null_combinef, -EINVAL, rf_fold(rf_r_range(0, 10), NULL, 0, add, &v))               \
	X(fold_null_reducef, -EINVAL, rf_fold(rf_r_range(0, 10), add, 0, NULL, &v))                \
	X(fold_range_top, 2, range_top())                                                          \
	X(reduce_null_f, -EINVAL, rf_r_reduce(rf_r_range(0, 10), NULL, 0, &v))                     \
	X(reduce_null_out, -EINVAL, rf_r_reduce(rf_r_range(0, 10), add, 0, NULL))                  \
	X(reduce_int64_null, -EINVAL, rf_r_reduce(rf_r_int64(NULL, 3), add, 0, &v))                \
	X(fold_range_null_body, -EINVAL, rf_fold_range(0, 10, 0, NULL, 0, add, 0, &v))             \
	X(fold_range_null_combinef, -EINVAL, rf_fold_range(0, 10, 0, range_body, 0, NULL, 0, &v))  \
	X(fold_range_null_out, -EINVAL, rf_fold_range(0, 10, 0, range_body, 0, add, 0, NULL))      \
	X(fold_range_lo_gt_hi, -EINVAL, rf_fold_range(10, 0, 0, range_body, 0, add, 0, &v))        \
	X(fold_range_whole, 0, rf_fold_range(0, SIZE_MAX, SIZE_MAX, range_body, 0, add, 0, &v))    \
	X(numa_alloc_zero_n, -EINVAL, numa_alloc(0, 8, true))                                      \
	X(numa_alloc_zero_size, -EINVAL, numa_alloc(8, 0, true))                                   \
	X(numa_alloc_overflow, -EINVAL, numa_alloc(SIZE_MAX / 2, 4, true))                         \
	X(numa_alloc_null_layout, -EINVAL, numa_alloc(8, 8, false))                                \
	X(numa_alloc_null_out, -EINVAL, rf_fold_numa_alloc(8, 8, &(rf_numa_layout){0}, NULL))      \
	X(numa_free_null, 0, (rf_fold_numa_free(NULL, 8, 8), 0))                                   \
	X(numa_null_layout, -EINVAL, fold_of(rf_r_numa(rf_r_range(0, 4), NULL)))                   \
	X(numa_layout_neg, -EINVAL, numa_layout(-1))                                               \
	X(numa_layout_huge, -EINVAL, numa_layout(INT32_MAX))                                       \
	X(fj_fork_outside, RF_ENOTINPOOL, rf_fj_fork((rf_fj_task *)&v, body, 0))                   \
	X(fj_fork_null_task, -EINVAL, in_pool(0))                                                  \
	X(fj_fork_null_fn, -EINVAL, in_pool(1))                                                    \
	X(fj_join_null, -EINVAL, in_pool(2))                                                       \
	X(fj_current_node_in_pool, 0, in_pool(3))                                                  \
	X(fj_current_node_outside, -1, rf_fj_current_node())                                       \
	X(fj_invoke_null_out, -EINVAL, rf_fj_invoke(body, 0, NULL))                                \
	X(fj_invoke_on_neg, -EINVAL, rf_fj_invoke_on(-1, body, 0, &v))                             \
	X(fj_invoke_on_huge, -EINVAL, rf_fj_invoke_on(INT32_MAX, body, 0, &v))                     \
	X(fj_invoke_on_null_fn, -EINVAL, rf_fj_invoke_on(0, NULL, 0, &v))                          \
	X(fj_invoke_timeout_neg, -EINVAL, rf_fj_invoke_timeout(body, 0, -1, &v))                   \
	X(fj_invoke_timeout_min, -EINVAL, rf_fj_invoke_timeout(body, 0, INT64_MIN, &v))            \
	X(fj_invoke_timeout_null, -EINVAL, rf_fj_invoke_timeout(NULL, 0, 10, &v))                  \
	X(fj_invoke_timeout_max, 7, fj_timeout_max())                                              \
	X(fj_workers_neg, -EINVAL, rf_fj_workers(-1))                                              \
	X(fj_workers_huge, -EINVAL, rf_fj_workers(INT32_MAX))                                      \
	X(pmap_null_in, -EINVAL, rf_pmap(NULL, 1, add, 0, &v))                                     \
	X(pmap_null_out, -EINVAL, rf_pmap(&v, 1, add, 0, NULL))                                    \
	X(pmap_empty, 0, rf_pmap(NULL, 0, add, 0, NULL))                                           \
	X(pmap_n_chunk_zero, -EINVAL, rf_pmap_n(&v, 1, 0, add, 0, &v))                             \
	X(pmap_stream_null_f, -EINVAL,                                                             \
	  rf_pmap_stream_new(&v, 1, NULL, 0, 0, (rf_pmap_stream *[1]){NULL}))                      \
	X(pmap_stream_null_out, -EINVAL, rf_pmap_stream_new(&v, 1, add, 0, 0, NULL))               \
	X(pmap_stream_null_in, -EINVAL,                                                            \
	  rf_pmap_stream_new(NULL, 1, add, 0, 0, (rf_pmap_stream *[1]){NULL}))                     \
	X(pmap_stream_huge, -EINVAL,                                                               \
	  rf_pmap_stream_new(&v, SIZE_MAX, add, 0, SIZE_MAX, (rf_pmap_stream *[1]){NULL}))         \
	X(pmap_next_null, -EINVAL, rf_pmap_stream_next(NULL, &v))                                  \
	X(pmap_next_timeout_null, -EINVAL, rf_pmap_stream_next_timeout(NULL, 10, &v))              \
	X(pmap_next_timeout_neg, -EINVAL, pmap_stream(0))                                          \
	X(pmap_next_timeout_min, -EINVAL, pmap_stream(1))                                          \
	X(pmap_next_null_out, -EINVAL, pmap_stream(2))                                             \
	X(pmap_next_timeout_max, 2, pmap_stream(3))                                                \
	X(pmap_stream_free_null, 0, (rf_pmap_stream_free(NULL), 0))                                \
	X(executor_new_neg, -EINVAL, rf_executor_new(-1, (rf_executor *[1]){NULL}))                \
	X(executor_new_4097, -EINVAL, rf_executor_new(4097, (rf_executor *[1]){NULL}))             \
	X(executor_new_min, -EINVAL, rf_executor_new(INT32_MIN, (rf_executor *[1]){NULL}))         \
	X(executor_new_null_out, -EINVAL, rf_executor_new(1, NULL))                                \
	X(executor_submit_null_fn, -EINVAL, on_executor(0))                                        \
	X(executor_invoke_all_null_tasks, -EINVAL, on_executor(1))                                 \
	X(executor_invoke_all_null_fn, -EINVAL, on_executor(2))                                    \
	X(executor_invoke_all_none, 0, on_executor(3))                                             \
	X(executor_invoke_all_null_ex, -EINVAL, rf_executor_invoke_all(NULL, NULL, 0, NULL))       \
	X(executor_shutdown_now_null_out, -EINVAL, on_executor(4))                                 \
	X(executor_shutdown_now_null_n, -EINVAL, on_executor(5))                                   \
	X(executor_shutdown_now_null, -EINVAL, rf_executor_shutdown_now(NULL, NULL, NULL))         \
	X(executor_await_neg, -EINVAL, on_executor(6))                                             \
	X(executor_await_min, -EINVAL, on_executor(7))                                             \
	X(executor_await_max, 0, on_executor(8))                                                   \
	X(executor_await_null, -EINVAL, rf_executor_await_termination(NULL, 10))                   \
	X(executor_shutdown_null, 0, (rf_executor_shutdown(NULL), 0))                              \
	X(executor_is_shutdown_null, 0, rf_executor_is_shutdown(NULL))                             \
	X(executor_is_terminated_null, 0, rf_executor_is_terminated(NULL))                         \
	X(thread_start_null, -EINVAL, rf_thread_start(NULL, 0, NULL))                              \
	X(pipe_null, -EINVAL, rf_pipe(NULL, NULL, false))                                          \
	X(pipe_null_to, -EINVAL, on_chans(17))                                                     \
	X(merge_null_out, -EINVAL, rf_merge(NULL, 0, 0, NULL))                                     \
	X(merge_null_chs, -EINVAL, rf_merge(NULL, 2, 0, (rf_chan *[1]){NULL}))                     \
	X(merge_null_elem, -EINVAL, on_chans(10))                                                  \
	X(mult_new_null, -EINVAL, rf_mult_new(NULL, (rf_mult *[1]){NULL}))                         \
	X(mult_tap_null, -EINVAL, rf_mult_tap(NULL, NULL, false))                                  \
	X(mult_untap_null, -EINVAL, rf_mult_untap(NULL, NULL))                                     \
	X(mult_untap_all_null, -EINVAL, rf_mult_untap_all(NULL))                                   \
	X(mult_free_null, 0, (rf_mult_free(NULL), 0))                                              \
	X(pub_new_null, -EINVAL, rf_pub_new(NULL, body, (rf_pub *[1]){NULL}))                      \
	X(pub_new_null_fn, -EINVAL, on_chans(13))                                                  \
	X(pub_sub_null, -EINVAL, rf_pub_sub(NULL, 1, NULL, false))                                 \
	X(pub_unsub_null, -EINVAL, rf_pub_unsub(NULL, 1, NULL))                                    \
	X(pub_unsub_all_null, -EINVAL, rf_pub_unsub_all(NULL))                                     \
	X(pub_unsub_all_topic_null, -EINVAL, rf_pub_unsub_all_topic(NULL, 1))                      \
	X(pub_new_buf_null, -EINVAL, rf_pub_new_buf(NULL, body, body, (rf_pub *[1]){NULL}))        \
	X(split_buf_null, -EINVAL, rf_split_buf(NULL, NULL, 1, 1, NULL, NULL))                     \
	X(chan_transduce_null_xf, -EINVAL, on_chans(25))                                           \
	X(chan_transduce_no_step, -EINVAL, on_chans(26))                                           \
	X(chan_transduce_null_f, -EINVAL, on_chans(27))                                            \
	X(chan_transduce_null_ch, -EINVAL, rf_chan_transduce(NULL, NULL, 0, NULL, NULL))           \
	X(chan_take_n_null, -EINVAL, rf_chan_take_n(1, NULL, 0, (rf_chan *[1]){NULL}))             \
	X(chan_take_n_null_out, -EINVAL, on_chans(28))                                             \
	X(chan_map_null_f, -EINVAL, on_chans(29))                                                  \
	X(chan_map_none, -EINVAL, on_chans(30))                                                    \
	X(chan_map_null_elem, -EINVAL, on_chans(31))                                               \
	X(chan_map_huge_n, -EINVAL, on_chans(32))                                                  \
	X(chan_opts_release_null_out, -EINVAL, on_chans(33))                                       \
	X(pub_free_null, 0, (rf_pub_free(NULL), 0))                                                \
	X(mix_new_null, -EINVAL, rf_mix_new(NULL, (rf_mix *[1]){NULL}))                            \
	X(mix_admix_null, -EINVAL, rf_mix_admix(NULL, NULL))                                       \
	X(mix_admix_null_in, -EINVAL, on_chans(24))                                                \
	X(mix_unmix_null, -EINVAL, rf_mix_unmix(NULL, NULL))                                       \
	X(mix_unmix_all_null, -EINVAL, rf_mix_unmix_all(NULL))                                     \
	X(mix_toggle_bad_flag, -EINVAL, on_chans(19))                                              \
	X(mix_toggle_neg_flags, -EINVAL, on_chans(20))                                             \
	X(mix_toggle_null_in, -EINVAL, on_chans(23))                                               \
	X(mix_solo_mode_zero, -EINVAL, on_chans(21))                                               \
	X(mix_solo_mode_solo, -EINVAL, on_chans(22))                                               \
	X(mix_solo_mode_null, -EINVAL, rf_mix_solo_mode(NULL, RF_MIX_MUTE))                        \
	X(mix_free_null, 0, (rf_mix_free(NULL), 0))                                                \
	X(split_null_pred, -EINVAL, on_chans(11))                                                  \
	X(split_null_t, -EINVAL, on_chans(12))                                                     \
	X(onto_chan_null_ch, -EINVAL, rf_onto_chan(NULL, &v, 1, false, NULL))                      \
	X(onto_chan_null_vals, -EINVAL, on_chans(18))                                              \
	X(to_chan_null_out, -EINVAL, rf_to_chan(&v, 1, NULL))                                      \
	X(chan_reduce_null_f, -EINVAL, on_chans(14))                                               \
	X(chan_reduce_null_out, -EINVAL, on_chans(15))                                             \
	X(chan_into_null, -EINVAL, rf_chan_into(NULL, (rf_chan *[1]){NULL}))                       \
	X(chan_into_null_out, -EINVAL, on_chans(16))                                               \
	X(pipeline_zero, -EINVAL, on_chans(0))                                                     \
	X(pipeline_neg, -EINVAL, on_chans(1))                                                      \
	X(pipeline_null_xf, -EINVAL, on_chans(2))                                                  \
	X(pipeline_null_step, -EINVAL, on_chans(3))                                                \
	X(pipeline_null_to, -EINVAL, on_chans(4))                                                  \
	X(pipeline_blocking_zero, -EINVAL, on_chans(5))                                            \
	X(pipeline_blocking_null_from, -EINVAL, on_chans(6))                                       \
	X(pipeline_async_null_af, -EINVAL, on_chans(7))                                            \
	X(pipeline_async_zero, -EINVAL, on_chans(8))                                               \
	X(pipeline_async_null_to, -EINVAL, on_chans(9))                                            \
	X(shutdown_timeout_min, -EINVAL, rf_shutdown_timeout(INT64_MIN))                           \
	X(stop_graceful_null, -EINVAL, rf_stop_graceful(NULL, 1, 10))                              \
	X(stop_graceful_neg, -EINVAL, rf_stop_graceful(NULL, 0, -1))                               \
	X(spawn_opts_null, -EINVAL, rf_spawn_opts_default(NULL))                                   \
	X(dump_neg_fd, -EINVAL, rf_dump(-1))                                                       \
	X(stats_new_null, -EINVAL, rf_stats_new(NULL))                                             \
	X(stats_free_null, 0, (rf_stats_free(NULL), 0))                                            \
	X(stats_sub_null, -EINVAL, rf_stats_sub(NULL, NULL))                                       \
	X(stats_sub_null_base, -EINVAL, on_stats(2))                                               \
	X(stats_json_null, -EINVAL, rf_stats_json(NULL, NULL, 0, NULL))                            \
	X(stats_json_null_buf, -EINVAL, on_stats(1))                                               \
	X(stats_json_small, -ENOSPC, on_stats(3))                                                  \
	X(stats_write_json_null, -EINVAL, rf_stats_write_json(NULL, 1))                            \
	X(stats_write_json_neg_fd, -EINVAL, on_stats(0))                                           \
	X(pvec_new_null, -EINVAL, rf_pvec_new(NULL, NULL))                                         \
	X(pvec_new_small_ops, -EINVAL, small_ops(0))                                               \
	X(pvec_new_release_only, -EINVAL, half_owning_ops(1))                                      \
	X(pvec_from_release_only, -EINVAL, half_owning_ops(7))                                     \
	X(pvec_from_null_xs, -EINVAL, rf_pvec_from(NULL, 3, NULL, (rf_pvec *[1]){NULL}))           \
	X(pvec_from_null_out, -EINVAL, rf_pvec_from(&v, 1, NULL, NULL))                            \
	X(pvec_retain_null, 0, (rf_pvec_retain(NULL), 0))                                          \
	X(pvec_release_null, 0, (rf_pvec_release(NULL), 0))                                        \
	X(pvec_count_null, 0, rf_pvec_count(NULL))                                                 \
	X(pvec_nth_null, -EINVAL, rf_pvec_nth(NULL, 0, &v))                                        \
	X(pvec_nth_past_end, -ERANGE, on_pvec(0))                                                  \
	X(pvec_nth_size_max, -ERANGE, on_pvec(1))                                                  \
	X(pvec_nth_null_out, -EINVAL, on_pvec(2))                                                  \
	X(pvec_nth_empty, -ERANGE, on_empty_pvec(2))                                               \
	X(pvec_peek_null, -EINVAL, rf_pvec_peek(NULL, &v))                                         \
	X(pvec_peek_empty, -ERANGE, on_empty_pvec(1))                                              \
	X(pvec_peek_null_out, -EINVAL, on_empty_pvec(3))                                           \
	X(pvec_conj_null, -EINVAL, rf_pvec_conj(NULL, 1, (rf_pvec *[1]){NULL}))                    \
	X(pvec_conj_null_out, -EINVAL, on_pvec(5))                                                 \
	X(pvec_assoc_null, -EINVAL, rf_pvec_assoc(NULL, 0, 1, (rf_pvec *[1]){NULL}))               \
	X(pvec_assoc_past_end, -ERANGE, on_pvec(3))                                                \
	X(pvec_assoc_size_max, -ERANGE, on_pvec(4))                                                \
	X(pvec_pop_null, -EINVAL, rf_pvec_pop(NULL, (rf_pvec *[1]){NULL}))                         \
	X(pvec_pop_empty, -ERANGE, on_empty_pvec(0))                                               \
	X(pvec_conj_op_nil, -EINVAL, rf_pvec_conj_op(RF_NIL, 1, &v))                               \
	X(pvec_subvec_null, -EINVAL, rf_pvec_subvec(NULL, 0, 0, (rf_pvec *[1]){NULL}))             \
	X(pvec_subvec_start_gt_end, -ERANGE, on_pvec(6))                                           \
	X(pvec_subvec_end_size_max, -ERANGE, on_pvec(7))                                           \
	X(pvec_chunk_null, -EINVAL,                                                                \
	  rf_pvec_chunk(NULL, 0, (const rf_val *[1]){NULL}, (size_t[1]){0}))                       \
	X(pvec_chunk_past_end, -ERANGE, on_pvec(8))                                                \
	X(pvec_chunk_null_run, -EINVAL, on_pvec(9))                                                \
	X(pvec_fold_null, 0, fold_of(rf_r_pvec(NULL)))                                             \
	X(pvec_transient_null, -EINVAL, rf_pvec_transient(NULL, (rf_tvec *[1]){NULL}))             \
	X(pvec_transient_null_out, -EINVAL, on_pvec(10))                                           \
	X(tvec_conj_null, -EINVAL, rf_tvec_conj(NULL, 1))                                          \
	X(tvec_assoc_null, -EINVAL, rf_tvec_assoc(NULL, 0, 1))                                     \
	X(tvec_assoc_past_end, -ERANGE, on_pvec(11))                                               \
	X(tvec_pop_null, -EINVAL, rf_tvec_pop(NULL))                                               \
	X(tvec_pop_empty, -ERANGE, on_pvec(15))                                                    \
	X(tvec_nth_null, -EINVAL, rf_tvec_nth(NULL, 0, &v))                                        \
	X(tvec_nth_size_max, -ERANGE, on_pvec(12))                                                 \
	X(tvec_nth_null_out, -EINVAL, on_pvec(13))                                                 \
	X(tvec_count_null, 0, rf_tvec_count(NULL))                                                 \
	X(tvec_persistent_null, -EINVAL, rf_tvec_persistent(NULL, (rf_pvec *[1]){NULL}))           \
	X(tvec_persistent_null_out, -EINVAL, on_pvec(14))                                          \
	X(tvec_free_null, 0, (rf_tvec_free(NULL), 0))                                              \
	X(phm_new_null, -EINVAL, rf_phm_new(NULL, NULL))                                           \
	X(phm_new_small_ops, -EINVAL, small_ops(1))                                                \
	X(phm_new_release_only, -EINVAL, half_owning_ops(3))                                       \
	X(phm_new_key_retain_only, -EINVAL, half_owning_ops(2))                                    \
	X(phm_retain_null, 0, (rf_phm_retain(NULL), 0))                                            \
	X(phm_release_null, 0, (rf_phm_release(NULL), 0))                                          \
	X(phm_count_null, 0, rf_phm_count(NULL))                                                   \
	X(phm_get_null, -EINVAL, rf_phm_get(NULL, 1, 0, &v))                                       \
	X(phm_get_null_out, -EINVAL, on_phm(1))                                                    \
	X(phm_get_int64_min, 5, on_phm(7))                                                         \
	X(phm_contains_null, 0, rf_phm_contains(NULL, 1))                                          \
	X(phm_assoc_null, -EINVAL, rf_phm_assoc(NULL, 1, 2, (rf_phm *[1]){NULL}))                  \
	X(phm_assoc_null_out, -EINVAL, on_phm(2))                                                  \
	X(phm_dissoc_null, -EINVAL, rf_phm_dissoc(NULL, 1, (rf_phm *[1]){NULL}))                   \
	X(phm_dissoc_null_out, -EINVAL, on_phm(3))                                                 \
	X(phm_update_null, -EINVAL, rf_phm_update(NULL, 1, add, 0, (rf_phm *[1]){NULL}))           \
	X(phm_update_null_fn, -EINVAL, on_phm(0))                                                  \
	X(phm_inc_op_nil, -EINVAL, rf_phm_inc_op(RF_NIL, 1, &v))                                   \
	X(phm_dissoc_op_nil, -EINVAL, rf_phm_dissoc_op(RF_NIL, 1, &v))                             \
	X(phm_merge_null, -EINVAL, on_phm(4))                                                      \
	X(phm_merge_null_out, -EINVAL, on_phm(5))                                                  \
	X(phm_merge_other_ops, -EINVAL, on_phm(6))                                                 \
	X(phm_iter_null, 0, phm_iter_of_null())                                                    \
	X(coll_iter_next_null, 0, rf_coll_iter_next(NULL, &v, &v))                                 \
	X(coll_iter_next_unstarted, 0, rf_coll_iter_next(&(rf_coll_iter){{0}}, &v, &v))            \
	X(phm_transient_null, -EINVAL, rf_phm_transient(NULL, (rf_thm *[1]){NULL}))                \
	X(thm_assoc_null, -EINVAL, rf_thm_assoc(NULL, 1, 2))                                       \
	X(thm_dissoc_null, -EINVAL, rf_thm_dissoc(NULL, 1))                                        \
	X(thm_get_null, -EINVAL, rf_thm_get(NULL, 1, 0, &v))                                       \
	X(thm_get_null_out, -EINVAL, on_phm(8))                                                    \
	X(thm_count_null, 0, rf_thm_count(NULL))                                                   \
	X(thm_persistent_null, -EINVAL, rf_thm_persistent(NULL, (rf_phm *[1]){NULL}))              \
	X(thm_persistent_null_out, -EINVAL, on_phm(9))                                             \
	X(thm_free_null, 0, (rf_thm_free(NULL), 0))                                                \
	X(psorted_new_null, -EINVAL, rf_psorted_new(NULL, 0, NULL, NULL))                          \
	X(psorted_new_small_ops, -EINVAL, small_ops(2))                                            \
	X(psorted_new_release_only, -EINVAL, half_owning_ops(5))                                   \
	X(psorted_retain_null, 0, (rf_psorted_retain(NULL), 0))                                    \
	X(psorted_release_null, 0, (rf_psorted_release(NULL), 0))                                  \
	X(psorted_count_null, 0, rf_psorted_count(NULL))                                           \
	X(psorted_get_null, -EINVAL, rf_psorted_get(NULL, 1, 0, &v))                               \
	X(psorted_get_null_out, -EINVAL, on_psorted(3))                                            \
	X(psorted_contains_null, 0, rf_psorted_contains(NULL, 1))                                  \
	X(psorted_assoc_null, -EINVAL, rf_psorted_assoc(NULL, 1, 2, (rf_psorted *[1]){NULL}))      \
	X(psorted_assoc_null_out, -EINVAL, on_psorted(2))                                          \
	X(psorted_dissoc_null, -EINVAL, rf_psorted_dissoc(NULL, 1, (rf_psorted *[1]){NULL}))       \
	X(psorted_dissoc_null_out, -EINVAL, on_psorted(4))                                         \
	X(psorted_nth_null, -EINVAL, rf_psorted_nth(NULL, 0, NULL, NULL))                          \
	X(psorted_nth_empty, -ERANGE, on_psorted(0))                                               \
	X(psorted_nth_size_max, -ERANGE, on_psorted(1))                                            \
	X(psorted_iter_null, 0, psorted_iter_of_null(false))                                       \
	X(psorted_iter_from_null, 0, psorted_iter_of_null(true))                                   \
	X(hash_str_null, 0, rf_hash_str(RF_NIL, 0) != rf_hash_str(RF_NIL, 0))                      \
	X(eq_str_null, 1, rf_eq_str(RF_NIL, RF_NIL, 0) && !rf_eq_str(RF_NIL, rf_from_ptr("a"), 0)) \
	X(coll_retain_nil, 0, (rf_coll_retain(RF_NIL, 0), 0))                                      \
	X(coll_release_nil, 0, (rf_coll_release(RF_NIL, 0), 0))                                    \
	X(coll_ops_default_size, 1, rf_coll_ops_default().size == sizeof(rf_coll_ops))             \
	X(schedule_after_null_fn, -EINVAL,                                                         \
	  rf_schedule_after(10, NULL, 0, (rf_schedule *[1]){NULL}))                                \
	X(schedule_after_null_out, -EINVAL, rf_schedule_after(10, body, 0, NULL))                  \
	X(schedule_after_neg, -EINVAL, rf_schedule_after(-1, body, 0, (rf_schedule *[1]){NULL}))   \
	X(schedule_after_min, -EINVAL,                                                             \
	  rf_schedule_after(INT64_MIN, body, 0, (rf_schedule *[1]){NULL}))                         \
	X(schedule_after_max, -ECANCELED, schedule_far(0))                                         \
	X(schedule_every_max, -ECANCELED, schedule_far(1))                                         \
	X(schedule_every_period_zero, -EINVAL,                                                     \
	  rf_schedule_every(0, 0, RF_SCHEDULE_FIXED_RATE, body, 0, (rf_schedule *[1]){NULL}))      \
	X(schedule_every_period_neg, -EINVAL,                                                      \
	  rf_schedule_every(0, INT64_MIN, RF_SCHEDULE_FIXED_DELAY, body, 0,                        \
	                    (rf_schedule *[1]){NULL}))                                             \
	X(schedule_every_period_max, -EINVAL,                                                      \
	  rf_schedule_every(0, INT64_MAX, RF_SCHEDULE_FIXED_RATE, body, 0,                         \
	                    (rf_schedule *[1]){NULL}))                                             \
	X(schedule_every_initial_neg, -EINVAL,                                                     \
	  rf_schedule_every(-1, 10, RF_SCHEDULE_FIXED_RATE, body, 0, (rf_schedule *[1]){NULL}))    \
	X(schedule_every_kind_bad, -EINVAL,                                                        \
	  rf_schedule_every(0, 10, (rf_schedule_kind)99, body, 0, (rf_schedule *[1]){NULL}))       \
	X(schedule_every_null_fn, -EINVAL,                                                         \
	  rf_schedule_every(0, 10, RF_SCHEDULE_FIXED_RATE, NULL, 0, (rf_schedule *[1]){NULL}))     \
	X(schedule_cancel_null, -EINVAL, rf_schedule_cancel(NULL))                                 \
	X(schedule_join_null, -EINVAL, rf_schedule_join(NULL, 10))                                 \
	X(schedule_runs_null, -EINVAL, rf_schedule_runs(NULL, (uint64_t[1]){0}))                   \
	X(schedule_free_null, 0, (rf_schedule_free(NULL), 0))                                      \
	X(var_new_dynamic_null, -EINVAL, rf_var_new_dynamic(0, NULL))                              \
	X(var_free_null, 0, (rf_var_free(NULL), 0))                                                \
	X(var_deref_null_out, -EINVAL, on_var(10, false))                                          \
	X(var_root_null, -EINVAL, rf_var_root(NULL, &v))                                           \
	X(var_alter_root_null, -EINVAL, rf_var_alter_root(NULL, add, 1, NULL))                     \
	X(var_alter_root_null_fn, -EINVAL, on_var(0, false))                                       \
	X(var_binding_null, -EINVAL, rf_var_binding(NULL, 1, body, 0, &v))                         \
	X(var_binding_null_body, -EINVAL, on_var(1, true))                                         \
	X(var_binding_not_dynamic, RF_ENOTDYNAMIC, on_var(9, false))                               \
	X(var_bindings_null_vars, -EINVAL,                                                         \
	  rf_var_bindings(2, NULL, (rf_val[2]){1, 2}, body, 0, &v))                                \
	X(var_bindings_null_elem, -EINVAL, on_var(5, true))                                        \
	X(var_bindings_null_vals, -EINVAL, on_var(6, true))                                        \
	X(var_set_unbound, RF_ENOTBOUND, on_var(7, true))                                          \
	X(var_push_null, -EINVAL, rf_var_push_binding(NULL, 1))                                    \
	X(var_push_not_dynamic, RF_ENOTDYNAMIC, on_var(3, false))                                  \
	X(var_pop_null, -EINVAL, rf_var_pop_binding(NULL))                                         \
	X(var_pop_unbound, -EINVAL, on_var(2, true))                                               \
	X(var_thread_bound_null, 0, rf_var_thread_bound(NULL))                                     \
	X(var_is_dynamic_null, 0, rf_var_is_dynamic(NULL))                                         \
	X(var_set_validator_null, -EINVAL, rf_var_set_validator(NULL, NULL, 0))                    \
	X(var_get_validator_null, -EINVAL, rf_var_get_validator(NULL, NULL, NULL))                 \
	X(var_get_validator_null_out, 0, on_var(8, false))                                         \
	X(var_add_watch_null, -EINVAL, rf_var_add_watch(NULL, 1, NULL, 0))                         \
	X(var_add_watch_null_fn, -EINVAL, on_var(4, false))                                        \
	X(var_remove_watch_null, -EINVAL, rf_var_remove_watch(NULL, 1))                            \
	X(ref_new_opts_null_out, -EINVAL, rf_ref_new_opts(0, NULL, NULL))                          \
	X(ref_new_opts_size_zero, -EINVAL, ref_opts(0, 10, 0))                                     \
	X(ref_new_opts_min_gt_max, -EINVAL, ref_opts(20, 10, sizeof(rf_ref_opts)))                 \
	X(ref_new_opts_max_huge, -EINVAL, ref_opts(0, UINT32_MAX, sizeof(rf_ref_opts)))            \
	X(ref_free_null, 0, (rf_ref_free(NULL), 0))                                                \
	X(ref_deref_null_out, -EINVAL, on_ref(4))                                                  \
	X(ref_set_outside, RF_ENOTX, on_ref(0))                                                    \
	X(ref_set_null, -EINVAL, rf_ref_set(NULL, 1))                                              \
	X(ref_commute_outside, RF_ENOTX, on_ref(1))                                                \
	X(ref_commute_null, -EINVAL, rf_ref_commute(NULL, add, 1, &v))                             \
	X(ref_ensure_outside, RF_ENOTX, on_ref(2))                                                 \
	X(ref_ensure_null, -EINVAL, rf_ref_ensure(NULL, &v))                                       \
	X(io_guard_outside, 0, rf_io_guard())                                                      \
	X(in_transaction_outside, 0, rf_in_transaction())                                          \
	X(ref_set_validator_null, -EINVAL, rf_ref_set_validator(NULL, NULL, 0))                    \
	X(ref_get_validator_null, -EINVAL, rf_ref_get_validator(NULL, NULL, NULL))                 \
	X(ref_add_watch_null, -EINVAL, rf_ref_add_watch(NULL, 1, NULL, 0))                         \
	X(ref_add_watch_null_fn, -EINVAL, on_ref(3))                                               \
	X(ref_remove_watch_null, -EINVAL, rf_ref_remove_watch(NULL, 1))                            \
	X(ref_history_count_null, -EINVAL, rf_ref_history_count(NULL))                             \
	X(ref_history_count_new, 0, on_ref(5))                                                     \
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
