/* runtime/chan/go.c: go processes.
 *
 * A go process is a fiber on the executor (runtime/sched/sched.h) running fn(arg, &out) with the
 * spawner's dynamic bindings; its result channel (buffer 1) receives out and closes, or
 * closes with fn's error code. The go_proc record is owned by the process from spawn to
 * exit; the result channel has one reference for the caller and one for the process.
 */
#include <stdlib.h>

#include "runtime/chan/chan_impl.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

typedef struct go_proc {
	rf_body_fn fn;
	rf_val arg;
	rf_chan *result; /* the process's reference, or NULL */
	void *bindings;  /* conveyed frame: the fiber installs and releases it */
} go_proc;

static void go_fiber(void *arg)
{
	go_proc *g = arg;
	exec_ctx *ctx = ctx_self();
	void *saved_go = ctx->go;
	ctx->go = g;
	fiber_set_entry((const void *)g->fn);
	rf_val out = RF_NIL;
	int rc = g->fn(g->arg, &out);
	ctx->go = saved_go;
	if (g->result) {
		if (rc >= 0) /* buffer 1, only this process puts: never waits */
			rf_chan_offer(g->result, out);
		chan_close_code(g->result, rc < 0 ? rc : RF_ECLOSED);
		rf_chan_release(g->result);
	}
	free(g);
}

static int spawn(const sched_spawn *how, rf_body_fn fn, rf_val arg, rf_chan *result)
{
	go_proc *g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	*g = (go_proc){.fn = fn, .arg = arg, .result = result};
	int rc = var_bindings_capture(&g->bindings);
	if (rc == 0)
		rc = fiber_spawn_at(go_fiber, g, how, g->bindings);
	if (rc < 0) {
		var_bindings_release(g->bindings);
		free(g);
	}
	return rc;
}

int rf_go_with(const rf_spawn_opts *opts, rf_body_fn fn, rf_val arg, rf_chan **result)
{
	sched_spawn how;
	if (!fn || sched_spawn_from(opts, &how) < 0)
		return -EINVAL;
	int rc = sched_ensure();
	if (rc < 0)
		return rc;
	rf_chan *ch = NULL;
	if (result) {
		if ((rc = rf_chan_new_buf(RF_BUF_FIXED, 1, &ch)) < 0)
			return rc;
		rf_chan_retain(ch);
	}
	if ((rc = spawn(&how, fn, arg, ch)) < 0) {
		rf_chan_release(ch);
		rf_chan_release(ch);
		return rc;
	}
	if (result)
		*result = ch;
	return 0;
}

int rf_go(rf_body_fn fn, rf_val arg, rf_chan **result)
{
	return rf_go_with(NULL, fn, arg, result);
}
