/* runtime/chan/go.c: go processes.
 *
 * A go process is a fiber on the executor (runtime/sched.h) running fn(arg, &out) with the
 * spawner's dynamic bindings; its result channel (buffer 1) receives out and closes, or
 * closes with fn's error code. The go_proc record is owned by the process from spawn to
 * exit; the result channel has one reference for the caller and one for the process.
 *
 * A runtime without an executor (rf_fiber_spawn answers -ENOSYS) runs the process on a
 * detached plain thread instead, so every channel operation keeps its meaning there.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/chan/chan_impl.h"
#include "runtime/sched.h"

typedef struct go_proc {
	rf_body_fn fn;
	rf_val arg;
	rf_chan *result; /* the process's reference, or NULL */
	void *bindings;  /* conveyed frame (thread fallback installs it itself) */
} go_proc;

static void go_run(go_proc *g)
{
	rf_ctx *ctx = rf_ctx_self();
	void *saved_go = ctx->go;
	ctx->go = g;
	rf_val out = RF_NIL;
	int rc = g->fn(g->arg, &out);
	ctx->go = saved_go;
	if (g->result) {
		if (rc >= 0)
			rf_chan_offer(g->result,
			              out); /* buffer 1, only this process puts: never waits */
		chan_close_code(g->result, rc < 0 ? rc : RF_ECLOSED);
		rf_chan_free(g->result);
	}
	free(g);
}

static void go_fiber(void *arg)
{
	go_run(arg);
}

static void *go_thread(void *arg)
{
	go_proc *g = arg;
	void *frame = g->bindings;
	void *saved = rf_bindings_install(frame);
	go_run(g); /* frees g */
	rf_bindings_install(saved);
	rf_bindings_release(frame);
	return NULL;
}

int chan_spawn(rf_body_fn fn, rf_val arg, rf_chan *result)
{
	go_proc *g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	*g = (go_proc){.fn = fn, .arg = arg, .result = result, .bindings = rf_bindings_capture()};
	int rc = rf_fiber_spawn(go_fiber, g, RF_WORKER_ANY, g->bindings);
	if (rc != -ENOSYS) {
		if (rc < 0) {
			rf_bindings_release(g->bindings);
			free(g);
		}
		return rc;
	}
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = -pthread_create(&t, &attr, go_thread, g);
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		rf_bindings_release(g->bindings);
		free(g);
		return rc == -EAGAIN ? -ENOMEM : rc;
	}
	return 0;
}

int rf_go(rf_body_fn fn, rf_val arg, rf_chan **result)
{
	if (!fn)
		return -EINVAL;
	int rc = rf_runtime_ensure();
	if (rc < 0)
		return rc;
	rf_chan *ch = NULL;
	if (result) {
		if ((rc = rf_chan_new_buf(RF_BUF_FIXED, 1, &ch)) < 0)
			return rc;
		rf_chan_retain(ch);
	}
	if ((rc = chan_spawn(fn, arg, ch)) < 0) {
		rf_chan_free(ch);
		rf_chan_free(ch);
		return rc;
	}
	if (result)
		*result = ch;
	return 0;
}
