/* runtime/sched/fiber.c: spawning, running, parking and resuming fibers.
 *
 * A fiber switches only to and from its worker's scheduler context (sched_ctx, the
 * worker thread's own stack): rf_fiber_run() switches in; yield, park and the end of
 * the fiber switch back, leaving in f->state what the scheduler has to do next. The
 * scheduler does it after the switch, when the fiber's stack is no longer in use: that
 * is what lets park's commit() run without racing the fiber it parks, and the stack of
 * a finished fiber be reused.
 *
 * rf_fiber_yield() with another fiber ready switches to it directly (one switch, not
 * two), at most RF_DIRECT_MAX times in a row; so the fiber that comes back to the
 * scheduler is whichever runs last (w->running), not necessarily the one it switched to.
 *
 * Sanitizers: ASan is told of every stack switch (__sanitizer_start/finish_switch_fiber;
 * a finishing fiber passes NULL so its fake stack is freed); TSan gets one fiber object
 * per ringfold fiber and a __tsan_switch_to_fiber before every switch, which also gives
 * it the happens-before edge of the hand-over.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/sched/fiber.h"

#ifdef RF_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RF_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

_Thread_local rf_worker *rf_tls_worker __attribute__((tls_model("initial-exec")));

struct rf_fiber *rf_fiber_self(void)
{
	rf_worker *w = rf_tls_worker;
	return w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
}

int rf_sched_worker_self(void)
{
	rf_worker *w = rf_tls_worker;
	return w ? w->index : -1;
}

/* --- the fiber's side --------------------------------------------------------------- */

/* Back to the scheduler; returns when the scheduler runs this fiber again. */
static void to_sched(rf_fiber *f)
{
	rf_worker *w = f->w;
#ifdef RF_TSAN
	__tsan_switch_to_fiber(w->tsan_sched, 0);
#endif
#ifdef RF_ASAN
	bool dying = f->state == RF_FIBER_DONE;
	__sanitizer_start_switch_fiber(dying ? NULL : &f->asan_fake_stack, w->sched_stack_lo,
	                               w->sched_stack_size);
#endif
	rf_mctx_swap(&f->mctx, &w->sched_ctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(f->asan_fake_stack, NULL, NULL);
#endif
}

static void fiber_main(void *arg)
{
	rf_fiber *f = arg;
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	f->fn(f->arg);
	rf_bindings_release(f->bindings);
	f->state = RF_FIBER_DONE;
	to_sched(f);
	abort(); /* a finished fiber is never switched to again */
}

/* Owner, before f first runs. Here, not at the spawn: the first write to a fresh stack (a
 * page fault, 15 us on some VMs) is paid when the fiber runs, on its worker, and not by a
 * plain thread or a fiber spawning thousands in a burst. */
static inline void start_once(rf_fiber *f)
{
	if (!f->started) {
		f->started = true;
		rf_mctx_make(&f->mctx, f->stack_lo, f->stack_size, fiber_main, f);
	}
}

/* Owner: f (running) hands the worker straight to next, popped from the run queue,
 * without a round trip through the scheduler. */
static void switch_direct(rf_worker *w, rf_fiber *f, rf_fiber *next)
{
	if (next->armed)
		rf_timer_remove(w, next);
	start_once(next);
	next->state = RF_FIBER_RUNNING;
	rf_count(&w->st_run, 1);
	atomic_store_explicit(&w->running, next, memory_order_relaxed);
	/* +2 keeps seq odd (a fiber runs) but tells the stall monitor it is another run */
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 2,
	                      memory_order_relaxed);
#ifdef RF_TSAN
	__tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
#ifdef RF_ASAN
	__sanitizer_start_switch_fiber(&f->asan_fake_stack, next->stack_lo, next->stack_size);
#endif
	rf_mctx_swap(&f->mctx, &next->mctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(f->asan_fake_stack, NULL, NULL);
#endif
}

void rf_fiber_yield(void)
{
	rf_fiber *f = rf_fiber_self();
	if (!f)
		return;
	rf_worker *w = f->w;
	/* Another fiber is ready: switch to it directly, a bounded number of times in a row
	 * so the scheduler still gets to the inbox, the timers and I/O. */
	if (w->rq_head && w->direct < RF_DIRECT_MAX) {
		w->direct++;
		rf_fiber *next = rf_rq_pop(w);
		f->state = RF_FIBER_READY;
		rf_rq_push(w, f);
		switch_direct(w, f, next);
		return;
	}
	f->state = RF_FIBER_YIELDED;
	to_sched(f);
}

void rf_fiber_park(bool (*commit)(void *), bool (*on_timeout)(void *), void *arg,
                   uint64_t deadline_ns)
{
	rf_fiber *f = rf_fiber_self();
	if (!f) {
		fprintf(stderr, "ringfold: rf_fiber_park called outside a fiber\n");
		abort();
	}
	f->commit = commit;
	f->on_timeout = on_timeout;
	f->park_arg = arg;
	f->deadline = deadline_ns;
	f->state = RF_FIBER_PARKING;
	to_sched(f);
}

/* --- the scheduler's side ----------------------------------------------------------- */

void rf_fiber_resume(struct rf_fiber *f)
{
	rf_worker *w = f->w;
	if (rf_tls_worker == w) {
		rf_rq_push(w, f);
		return;
	}
	/* A stopped worker's fibers are abandoned: the resume has nothing left to do. */
	(void)rf_inbox_push(w, f);
}

static void fiber_release(rf_worker *w, rf_fiber *f)
{
	if (f->all_prev)
		f->all_prev->all_next = f->all_next;
	else
		w->all = f->all_next;
	if (f->all_next)
		f->all_next->all_prev = f->all_prev;
#ifdef RF_TSAN
	__tsan_destroy_fiber(f->tsan_fiber);
#endif
	rf_stack_put(w, f, f->foreign);
}

void rf_fiber_run(rf_worker *w, rf_fiber *f)
{
	w->direct = 0;
	if (f->armed)
		rf_timer_remove(w, f);
	start_once(f);
	f->state = RF_FIBER_RUNNING;
	rf_count(&w->st_run, 1);
	atomic_store_explicit(&w->running, f, memory_order_relaxed);
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
#ifdef RF_TSAN
	__tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
#ifdef RF_ASAN
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, f->stack_lo, f->stack_size);
#endif
	rf_mctx_swap(&w->sched_ctx, &f->mctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	f = atomic_load_explicit(&w->running, memory_order_relaxed); /* direct yields */
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	atomic_store_explicit(&w->running, NULL, memory_order_relaxed);

	switch (f->state) {
	case RF_FIBER_YIELDED:
		f->state = RF_FIBER_READY;
		rf_rq_push(w, f);
		break;
	case RF_FIBER_PARKING:
		/* From here on another thread may resume f: set everything first. */
		rf_count(&w->st_parks, 1);
		f->state = RF_FIBER_PARKED;
		if (f->deadline != RF_NO_DEADLINE)
			rf_timer_insert(w, f);
		if (f->commit && !f->commit(f->park_arg)) {
			/* the event already happened: nobody else resumes f */
			if (f->armed)
				rf_timer_remove(w, f);
			rf_rq_push(w, f);
		}
		break;
	case RF_FIBER_DONE:
		fiber_release(w, f);
		break;
	default:
		abort(); /* a fiber leaves only through yield, park or its end */
	}
}

/* Owner: a fiber the worker sees for the first time (spawned here or via the inbox). */
void rf_fiber_adopt(rf_worker *w, rf_fiber *f)
{
	f->all_prev = NULL;
	f->all_next = w->all;
	if (w->all)
		w->all->all_prev = f;
	w->all = f;
	rf_count(&w->st_spawned, 1);
}

void rf_fiber_discard(rf_worker *w, rf_fiber *f)
{
	if (f->state != RF_FIBER_NEW)
		fiber_release(w, f);
	else {
#ifdef RF_TSAN
		__tsan_destroy_fiber(f->tsan_fiber);
#endif
		rf_stack_put(w, f, true);
	}
	rf_bindings_release(f->bindings);
}

int rf_fiber_spawn(rf_fiber_fn fn, void *arg, int worker, void *bindings)
{
	static _Atomic unsigned rr; /* round-robin cursor for plain threads (relaxed) */
	if (!fn || worker < RF_WORKER_ANY)
		return -EINVAL;
	int rc = rf_runtime_ensure();
	if (rc)
		return rc;
	rf_worker *self = rf_tls_worker;
	if (worker == RF_WORKER_ANY)
		worker = self ? self->index
		              : (int)(atomic_fetch_add_explicit(&rr, 1, memory_order_relaxed) %
		                      (unsigned)rf_nworkers);
	if (worker >= rf_nworkers)
		return -EINVAL;
	rf_worker *w = rf_workers[worker];
	rf_fiber *f = rf_stack_get(w);
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->arg = arg;
	f->bindings = bindings;
	f->ctx.bindings = bindings;
	f->deadline = RF_NO_DEADLINE;
#ifdef RF_TSAN
	f->tsan_fiber = __tsan_create_fiber(0);
#endif
	if (self == w) {
		rf_fiber_adopt(w, f);
		f->state = RF_FIBER_READY;
		rf_rq_push(w, f);
		return 0;
	}
	f->state = RF_FIBER_NEW;
	f->foreign = true;
	if (!rf_inbox_push(w, f)) {
#ifdef RF_TSAN
		__tsan_destroy_fiber(f->tsan_fiber);
#endif
		rf_stack_put_spare(w, f);
		return RF_ESHUTDOWN;
	}
	return 0;
}

rf_ctx *rf_ctx_self(void)
{
	static _Thread_local rf_ctx thread_ctx;
	rf_fiber *f = rf_fiber_self();
	return f ? &f->ctx : &thread_ctx;
}
