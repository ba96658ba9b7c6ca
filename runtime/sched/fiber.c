/* runtime/sched/fiber.c: spawning, running, parking and resuming fibers.
 *
 * A fiber switches only to and from its worker's scheduler context (sched_ctx, the
 * worker thread's own stack): fiber_run() switches in; yield, park and the end of
 * the fiber switch back, leaving in f->state what the scheduler has to do next. The
 * scheduler does it after the switch, when the fiber's stack is no longer in use: that
 * is what lets park's commit() run without racing the fiber it parks, and the stack of
 * a finished fiber be reused.
 *
 * fiber_yield() with another fiber ready switches to it directly (one switch, not
 * two), at most DIRECT_MAX times in a row; so the fiber that comes back to the
 * scheduler is whichever runs last (w->running), not necessarily the one it switched to.
 *
 * Sanitizers: ASan is told of every stack switch (__sanitizer_start/finish_switch_fiber;
 * a finishing fiber passes NULL so its fake stack is freed); TSan gets one fiber object
 * per ringfold fiber and a __tsan_switch_to_fiber before every switch, which also gives
 * it the happens-before edge of the hand-over.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/base/lockrank.h"
#include "runtime/base/probe.h"
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

_Thread_local sched_worker *sched_tls_worker __attribute__((tls_model("initial-exec")));

bool sched_cancelling(void)
{
	sched_worker *w = sched_tls_worker;
	return w && w->stop_seen == STOP_CANCEL;
}

struct sched_fiber *fiber_self(void)
{
	sched_worker *w = sched_tls_worker;
	return w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
}

int sched_worker_self(void)
{
	sched_worker *w = sched_tls_worker;
	return w ? w->index : -1;
}

/* --- the fiber's side --------------------------------------------------------------- */

/* Back to the scheduler; returns when the scheduler runs this fiber again. */
static void to_sched(sched_fiber *f)
{
	sched_worker *w = f->w;
#ifdef RF_TSAN
	__tsan_switch_to_fiber(w->tsan_sched, 0);
#endif
#ifdef RF_ASAN
	bool dying = f->state == FIBER_DONE;
	__sanitizer_start_switch_fiber(dying ? NULL : &f->asan_fake_stack, w->sched_stack_lo,
	                               w->sched_stack_size);
#endif
	mctx_swap(&f->mctx, &w->sched_ctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(f->asan_fake_stack, NULL, NULL);
#endif
}

static void fiber_main(void *arg)
{
	sched_fiber *f = arg;
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	USER_CALL();
	f->fn(f->arg);
	PROBE(fiber_exit, f);
	ctx_end(&f->ctx);
	f->state = FIBER_DONE;
	to_sched(f);
	abort(); /* a finished fiber is never switched to again */
}

/* Owner, before f first runs. Here, not at the spawn: the first write to a fresh stack (a
 * page fault, 15 us on some VMs) is paid when the fiber runs, on its worker, and not by a
 * plain thread or a fiber spawning thousands in a burst. */
static inline void start_once(sched_fiber *f)
{
	if (!f->started) {
		f->started = true;
		mctx_make(&f->mctx, f->stack_lo, f->stack_size, fiber_main, f);
	}
}

/* Owner: f (running) hands the worker straight to next, popped from the run queue,
 * without a round trip through the scheduler. */
static void switch_direct(sched_worker *w, sched_fiber *f, sched_fiber *next)
{
	if (next->armed)
		timer_remove(w, next);
	start_once(next);
	if (next->was_parked) {
		next->was_parked = false;
		sched_count(&w->st_resumed, 1);
	}
	next->state = FIBER_RUNNING;
	sched_count(&w->st_run, 1);
	atomic_store_explicit(&w->running, next, memory_order_relaxed);
	ctx_enter(&next->ctx);
	/* +2 keeps seq odd (a fiber runs) but tells the stall monitor it is another run */
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 2,
	                      memory_order_relaxed);
#ifdef RF_TSAN
	__tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
#ifdef RF_ASAN
	__sanitizer_start_switch_fiber(&f->asan_fake_stack, next->stack_lo, next->stack_size);
#endif
	mctx_swap(&f->mctx, &next->mctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(f->asan_fake_stack, NULL, NULL);
#endif
}

void fiber_yield(void)
{
	sched_fiber *f = fiber_self();
	if (!f)
		return;
	LOCKRANK_NONE_HELD("yielding a fiber");
	sched_worker *w = f->w;
	/* Another fiber is ready: switch to it directly, a bounded number of times in a row
	 * so the scheduler still gets to the inbox, the timers and I/O. */
	if (worker_has_ready(w) && w->direct < DIRECT_MAX) {
		w->direct++;
		sched_fiber *next = worker_pick(w);
		f->state = FIBER_READY;
		worker_rq_push(w, f);
		switch_direct(w, f, next);
		return;
	}
	f->state = FIBER_YIELDED;
	to_sched(f);
}

void fiber_wait_on(int kind, const void *obj)
{
	sched_fiber *f = fiber_self();
	if (f) {
		f->next_kind = kind;
		f->next_obj = obj;
	}
}

void fiber_set_entry(const void *fn)
{
	sched_fiber *f = fiber_self();
	if (f)
		f->entry = fn;
}

void fiber_park(bool (*commit)(void *), bool (*on_timeout)(void *), bool (*on_cancel)(void *),
                void *arg, uint64_t deadline_ns)
{
	sched_fiber *f = fiber_self();
	if (!f) {
		fprintf(stderr, "ringfold: fiber_park called outside a fiber\n");
		abort();
	}
	LOCKRANK_NONE_HELD("parking a fiber");
	f->wait_kind = f->next_kind;
	f->wait_obj = f->next_obj;
	f->next_kind = WAIT_OTHER;
	f->park_tick = atomic_load_explicit(&sched_tick_ms, memory_order_relaxed);
	f->commit = commit;
	f->on_timeout = on_timeout;
	f->on_cancel = on_cancel;
	f->park_arg = arg;
	f->deadline = deadline_ns;
	f->state = FIBER_PARKING;
	PROBE(fiber_park, f, f->w->index, deadline_ns);
	to_sched(f);
}

/* --- the scheduler's side ----------------------------------------------------------- */

void fiber_resume(struct sched_fiber *f)
{
	sched_worker *w = f->w;
	PROBE(fiber_wake, f, w->index);
	if (sched_tls_worker == w) {
		/* Woken by a fiber of its worker: next in line (worker.c). From the
		 * scheduler's context (I/O, timers, a commit), the queue. */
		if (atomic_load_explicit(&w->running, memory_order_relaxed))
			worker_runnext(w, f);
		else
			worker_rq_push(w, f);
		return;
	}
	/* A stopped worker's fibers are abandoned: the resume has nothing left to do. */
	(void)worker_inbox_push(w, f);
}

void fiber_unlink(sched_worker *w, sched_fiber *f)
{
	if (f->all_prev)
		f->all_prev->all_next = f->all_next;
	else
		w->all = f->all_next;
	if (f->all_next)
		f->all_next->all_prev = f->all_prev;
	atomic_store_explicit(&w->nlive, atomic_load_explicit(&w->nlive, memory_order_relaxed) - 1,
	                      memory_order_relaxed);
}

static void fiber_release(sched_worker *w, sched_fiber *f)
{
	fiber_unlink(w, f);
#ifdef RF_TSAN
	__tsan_destroy_fiber(f->tsan_fiber);
#endif
	stack_put(w, f, f->foreign);
}

void fiber_run(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	w->direct = 0;
	if (f->armed)
		timer_remove(w, f);
	start_once(f);
	if (f->was_parked) {
		f->was_parked = false;
		sched_count(&w->st_resumed, 1);
	}
	f->state = FIBER_RUNNING;
	sched_count(&w->st_run, 1);
	atomic_store_explicit(&w->running, f, memory_order_relaxed);
	ctx_enter(&f->ctx);
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
#ifdef RF_TSAN
	__tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
#ifdef RF_ASAN
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, f->stack_lo, f->stack_size);
#endif
	mctx_swap(&w->sched_ctx, &f->mctx);
#ifdef RF_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	f = atomic_load_explicit(&w->running, memory_order_relaxed); /* direct yields */
	atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	atomic_store_explicit(&w->running, NULL, memory_order_relaxed);
	ctx_enter(NULL);

	switch (f->state) {
	case FIBER_YIELDED:
		f->state = FIBER_READY;
		worker_rq_push(w, f);
		break;
	case FIBER_PARKING:
		/* From here on another thread may resume f: set everything first. */
		sched_count(&w->st_parks, 1);
		f->was_parked = true; /* counted in st_resumed when it runs again */
		f->state = FIBER_PARKED;
		if (f->deadline != DEADLINE_NONE)
			timer_insert(w, f);
		if (f->commit && !f->commit(f->park_arg)) {
			/* the event already happened: nobody else resumes f */
			if (f->armed)
				timer_remove(w, f);
			f->state = FIBER_READY;
			worker_rq_push(w, f);
		}
		break;
	case FIBER_DONE:
		fiber_release(w, f);
		break;
	default:
		abort(); /* a fiber leaves only through yield, park or its end */
	}
}

/* Owner: a fiber the worker sees for the first time (spawned here or via the inbox). */
void fiber_link(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	f->all_prev = NULL;
	f->all_next = w->all;
	if (w->all)
		w->all->all_prev = f;
	w->all = f;
	atomic_store_explicit(&w->nlive, atomic_load_explicit(&w->nlive, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

void fiber_adopt(sched_worker *w, sched_fiber *f)
{
	fiber_link(w, f);
	sched_count(&w->st_spawned, 1);
	f->id = (uint64_t)w->index << 40 | ++w->spawn_seq;
}

/* The worker a new fiber goes to, or NULL for -EINVAL. */
static sched_worker *target(const sched_spawn *how, sched_worker *self)
{
	static _Atomic unsigned rr; /* round-robin cursor for plain threads (relaxed) */
	if (how->worker != SCHED_WORKER_ANY)
		return how->worker >= 0 && how->worker < sched_nworkers
		           ? sched_worker_tab[how->worker]
		           : NULL;
	if (how->node >= 0)
		return place_in_node(how->node);
	if (self)
		return how->local ? self : place_pick(self);
	return sched_worker_tab[atomic_fetch_add_explicit(&rr, 1, memory_order_relaxed) %
	                        (unsigned)sched_nworkers];
}

int fiber_spawn_at(sched_fiber_fn fn, void *arg, const sched_spawn *how, void *conveyed)
{
	if (!fn || !how || how->worker < SCHED_WORKER_ANY || how->node < -1 ||
	    how->node >= TOPO_MAX_NODES ||
	    (how->stack_size && (how->stack_size < 16384 || how->stack_size > (1UL << 30))))
		return -EINVAL;
	int rc = sched_ensure();
	if (rc)
		return rc;
	sched_worker *self = sched_tls_worker;
	sched_worker *w = target(how, self);
	if (!w)
		return -EINVAL;
	sched_fiber *f = how->stack_size ? stack_get_sized(w, how->stack_size) : stack_get(w);
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->entry = (const void *)fn;
	f->next_kind = f->wait_kind = WAIT_OTHER;
	f->arg = arg;
	f->ctx.bindings = conveyed;
	f->ctx.conveyed = conveyed;
	f->deadline = DEADLINE_NONE;
	PROBE(fiber_spawn, f, w->index, fn);
	f->pinned = how->pinned || how->local || how->worker != SCHED_WORKER_ANY;
#ifdef RF_TSAN
	f->tsan_fiber = __tsan_create_fiber(0);
#endif
	if (self == w) {
		fiber_adopt(w, f);
		f->state = FIBER_READY;
		worker_rq_push(w, f);
		return 0;
	}
	f->state = FIBER_NEW;
	f->foreign = true;
	atomic_fetch_add_explicit(&w->incoming, 1, memory_order_relaxed);
	if (!worker_inbox_push(w, f)) {
		atomic_fetch_sub_explicit(&w->incoming, 1, memory_order_relaxed);
#ifdef RF_TSAN
		__tsan_destroy_fiber(f->tsan_fiber);
#endif
		stack_put_spare(w, f);
		return RF_ESHUTDOWN;
	}
	return 0;
}

int fiber_spawn(sched_fiber_fn fn, void *arg, int worker, void *conveyed)
{
	sched_spawn how = {.worker = worker, .node = -1};
	return fiber_spawn_at(fn, arg, &how, conveyed);
}
