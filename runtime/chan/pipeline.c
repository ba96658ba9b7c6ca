/* runtime/chan/pipeline.c: pipeline, pipeline-blocking, pipeline-async.
 *
 * core.async's shape: a feeder process takes each input v, makes a per-value result
 * channel res, puts the job (v, res) on `jobs` (buffer n) for the n workers and res on
 * `results` (buffer n) for the output process; a worker applies xf (outside any lock, so
 * it may park or block), puts what it gives on res (buffer 1) and closes it; the
 * output process drains each res in turn onto `to`, which keeps input order while at most
 * n values are in flight.
 * Ownership: the pipeline record is shared by the feeder, the output process and the n
 * workers (refs, the last one frees it). A res channel has two references: the job's
 * (dropped by the worker once res is closed, or handed to af for pipeline-async) and the
 * one travelling through `results` (dropped by the output process after draining).
 */
#include <pthread.h>
#include <stdlib.h>

#include "ringfold/async.h"
#include "runtime/chan/chan_impl.h"

enum pl_kind { PL_COMPUTE, PL_BLOCKING, PL_ASYNC };

typedef struct pl {
	_Atomic uint32_t refs;
	enum pl_kind kind;
	bool close;
	rf_chan *from, *to, *jobs, *results;
	rf_xform xf;
	rf_async_fn af;
	rf_val ctx;
} pl;

typedef struct pl_job {
	rf_val v;
	rf_chan *res;
} pl_job;

static void pl_unref(pl *p)
{
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	rf_chan_release(p->from);
	rf_chan_release(p->to);
	rf_chan_release(p->jobs);
	rf_chan_release(p->results);
	free(p);
}

static int feeder(rf_val arg, rf_val *out)
{
	pl *p = rf_to_ptr(arg);
	rf_val v;
	while (rf_chan_take(p->from, &v) == 0) {
		pl_job *j = malloc(sizeof(*j));
		rf_chan *res;
		int rc = rf_chan_new_buf(RF_BUF_FIXED, 1, &res);
		if (!j || rc < 0) {
			free(j); /* out of memory: this value is lost, the pipeline ends cleanly */
			break;
		}
		*j = (pl_job){v, rf_chan_retain(res)};
		rf_chan_put(p->jobs, rf_from_ptr(j));
		rf_chan_put(p->results, rf_from_ptr(res));
	}
	rf_chan_close(p->jobs);
	rf_chan_close(p->results);
	pl_unref(p);
	return 0;
}

static void work(pl *p)
{
	rf_val jv;
	while (rf_chan_take(p->jobs, &jv) == 0) {
		pl_job *j = rf_to_ptr(jv);
		if (p->kind == PL_ASYNC) {
			p->af(j->v, j->res, p->ctx);
		} else {
			/* A fresh copy of xf per value, run outside any lock: it may park (compute)
			 * or block (blocking). Its values wait in res for the output process. */
			rf_xform xf = p->xf;
			rf_val *vals = NULL;
			size_t n = 0;
			chan_xform_apply(&xf, j->v, &vals, &n);
			for (size_t i = 0; i < n; i++)
				rf_chan_put(j->res, vals[i]);
			free(vals);
			rf_chan_close(j->res);
		}
		rf_chan_release(j->res);
		free(j);
	}
	pl_unref(p);
}

static int worker_go(rf_val arg, rf_val *out)
{
	work(rf_to_ptr(arg));
	return 0;
}

static void *worker_thread(void *arg)
{
	work(arg);
	return NULL;
}

static int output(rf_val arg, rf_val *out)
{
	pl *p = rf_to_ptr(arg);
	rf_val r, v;
	bool open = true;
	while (rf_chan_take(p->results, &r) == 0) {
		rf_chan *res = rf_to_ptr(r);
		while (rf_chan_take(res, &v) == 0)
			if (open && rf_chan_put(p->to, v) < 0)
				open = false; /* `to` closed: keep draining so workers finish */
		rf_chan_release(res);
	}
	if (p->close)
		rf_chan_close(p->to);
	pl_unref(p);
	return 0;
}

static int start_worker(pl *p)
{
	if (p->kind != PL_BLOCKING)
		return rf_go(worker_go, rf_from_ptr(p), NULL);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, worker_thread, p);
	pthread_attr_destroy(&attr);
	return rc ? -ENOMEM : 0;
}

static int pipeline(int n, rf_chan *to, rf_chan *from, bool close, pl *tmpl)
{
	if (n < 1 || !to || !from)
		return -EINVAL;
	pl *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = *tmpl;
	p->close = close;
	p->from = rf_chan_retain(from);
	p->to = rf_chan_retain(to);
	p->jobs = p->results = NULL;
	int rc = rf_chan_new_buf(RF_BUF_FIXED, (size_t)n, &p->jobs);
	if (rc == 0)
		rc = rf_chan_new_buf(RF_BUF_FIXED, (size_t)n, &p->results);
	atomic_init(&p->refs, 1); /* ours, while starting the processes */
	/* Workers first: with none running, the feeder would fill `jobs` and stop. Once one
	 * worker and the feeder and output run, the pipeline completes; a worker that cannot be
	 * started only lowers parallelism. */
	int started = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
		if (start_worker(p) < 0) {
			atomic_fetch_sub_explicit(&p->refs, 1, memory_order_relaxed);
			break;
		}
		started++;
	}
	if (rc == 0 && started == 0)
		rc = -ENOMEM;
	if (rc == 0) {
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
		if ((rc = rf_go(output, rf_from_ptr(p), NULL)) < 0)
			atomic_fetch_sub_explicit(&p->refs, 1, memory_order_relaxed);
	}
	if (rc == 0) {
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
		if ((rc = rf_go(feeder, rf_from_ptr(p), NULL)) < 0)
			atomic_fetch_sub_explicit(&p->refs, 1, memory_order_relaxed);
	}
	if (rc < 0) { /* processes already started end once jobs/results close */
		if (p->jobs)
			rf_chan_close(p->jobs);
		if (p->results)
			rf_chan_close(p->results);
	}
	pl_unref(p);
	return rc;
}

int rf_pipeline(int n, rf_chan *to, const rf_xform *xf, rf_chan *from, bool close)
{
	if (!xf || !xf->step)
		return -EINVAL;
	return pipeline(n, to, from, close, &(pl){.kind = PL_COMPUTE, .xf = *xf});
}

int rf_pipeline_blocking(int n, rf_chan *to, const rf_xform *xf, rf_chan *from, bool close)
{
	if (!xf || !xf->step)
		return -EINVAL;
	return pipeline(n, to, from, close, &(pl){.kind = PL_BLOCKING, .xf = *xf});
}

int rf_pipeline_async(int n, rf_chan *to, rf_async_fn af, rf_val ctx, rf_chan *from, bool close)
{
	if (!af)
		return -EINVAL;
	return pipeline(n, to, from, close, &(pl){.kind = PL_ASYNC, .af = af, .ctx = ctx});
}
