/* runtime/deref/executor.c: ExecutorService, a fixed pool of OS threads and a FIFO.
 *
 * Contract. Everything below is guarded by `lock`, outer to the batches' locks (nothing
 * blocks or runs a task under either):
 *   queue/tail/queued  accepted futures not yet started, FIFO through rf_future.next
 *   idle               workers waiting for a task (never time out)
 *   searching          workers claimed off `idle` for waiting tasks (their waiter's value
 *                      says so) and not yet back under the lock to look for one
 *   awaiters           callers of await_termination (may time out)
 *   live               workers not yet exited
 *   phase              RUNNING -> SHUTDOWN -> TERMINATED, each step once; stored with
 *                      release under the lock so is_shutdown/is_terminated can
 *                      acquire-load it without the lock.
 * Each worker has a batch (struct batch, its own lock): futures it took off the queue
 * at once, to run in order. Only that worker adds to it (from the queue, or stolen from
 * another batch, under `lock`); it pops its own under the batch's lock alone; any
 * worker, under `lock`, may steal the front half of it. `n` is written under the
 * batch's lock and read without it as a hint; `batched` (how many batches hold tasks)
 * goes up under `lock` when one is filled and down when one is emptied, by whoever
 * empties it: read under `lock`, zero means every batch is empty (no fill since; each
 * earlier fill's batch emptied), so it is relaxed.
 * A worker that empties its batch takes up to queued / threads futures (at most BATCH)
 * off the queue, so a backlog of tiny tasks costs one `lock` per batch instead of one
 * per task, where the workers would pass `lock` and the queue's lines back and forth
 * (and a worker preempted holding it would stall the others); a short queue is still
 * shared a task at a time. Batches are stolen from when the queue is empty, and before
 * the queue when one fell behind: `taken` counts futures taken off the queue, a batch's
 * `pos` (a hint, written under its lock) is where its head left the queue, and a head
 * more than threads * BATCH places behind means its worker is held up by a long task,
 * while the batches of workers keeping pace stay within that. So a task starts at most
 * about threads * BATCH places after one submitted later, and one behind a task that
 * blocks does not wait for the queue to drain.
 * A task is started by exactly one worker, or taken back by shutdown_now.
 * Wake-ups: whoever leaves a task waiting (a submitter queuing it, a worker taking a
 * batch or stealing with more left behind) claims an idle worker only if none is
 * searching; that worker, back under `lock`, steals or takes from the queue, and passes
 * the wake on the same way. So a burst of submits pays one claim, not one per task. A
 * worker that finds nothing waits on `idle` as any plain thread waits (wait.c): it spins
 * a few microseconds first, so a claim that comes meanwhile costs its claimer no
 * syscall, unless spinning stopped paying for this thread (a thread whose last waker ran
 * on its CPU sleeps at once: a spin there would take the CPU from that very submitter).
 * No task waits while a worker idles: a worker looks at every batch and the queue under
 * `lock` before it waits, and batches only grow under `lock`; a task queued or left in
 * a batch finds one searching (it looks everywhere before it waits), or wakes an idle
 * one, or none is idle (each running one looks everywhere when its batch is done). So a
 * task that blocks until a task behind it in its worker's batch runs does not deadlock
 * while another worker could run that one.
 * A worker exits only when the phase is past RUNNING and it finds nothing to run; the
 * last one to exit sets TERMINATED and wakes the awaiters. So every accepted task runs
 * (or is handed back by shutdown_now) before termination.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ringfold/executor.h"
#include "runtime/base/ctx.h"
#include "runtime/base/waitlist.h"
#include "runtime/deref/future.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

enum { RUNNING = 0, SHUTDOWN = 1, TERMINATED = 2 };

/* At most this many futures taken off the queue at once. */
#define BATCH 16

/* A worker's batch (contract above), on a cache line of its own. */
struct batch {
	_Alignas(64) spinlock lock;
	struct rf_future *head; /* FIFO through rf_future.next */
	_Atomic size_t n;
	_Atomic size_t pos; /* where head left the queue, counted as `taken` counts */
	struct rf_executor *ex;
};

struct rf_executor {
	spinlock lock;
	_Atomic uint32_t phase;
	struct rf_future *queue, *tail;
	size_t queued;
	size_t taken; /* futures ever taken off the queue */
	_Atomic int batched;
	int searching;
	waitlist idle;
	waitlist awaiters;
	int live;
	int nthreads;
	int nbatches;
	struct batch *batches;
	pthread_t threads[];
};

static void set_phase(struct rf_executor *ex, uint32_t phase)
{
	/* Pairs with the acquire loads in rf_executor_is_shutdown/_is_terminated. */
	atomic_store_explicit(&ex->phase, phase, memory_order_release);
}

static uint32_t phase_of(struct rf_executor *ex)
{
	return atomic_load_explicit(&ex->phase, memory_order_relaxed); /* under the lock */
}

static size_t batch_size(struct batch *b)
{
	return atomic_load_explicit(&b->n, memory_order_relaxed); /* a hint off its lock */
}

static size_t batch_pos(struct batch *b)
{
	return atomic_load_explicit(&b->pos, memory_order_relaxed); /* likewise */
}

/* Lock held: whether some batch may hold a task. */
static bool batches_waiting(struct rf_executor *ex)
{
	return atomic_load_explicit(&ex->batched, memory_order_relaxed) != 0;
}

/* Batch lock held: take k futures (1 <= k <= n) off the front, chained through next. */
static struct rf_future *batch_take(struct batch *b, size_t k)
{
	struct rf_future *first = b->head, *last = first;
	for (size_t i = 1; i < k; i++)
		last = last->next;
	b->head = last->next;
	last->next = NULL;
	size_t left = batch_size(b) - k;
	atomic_store_explicit(&b->n, left, memory_order_relaxed);
	atomic_store_explicit(&b->pos, batch_pos(b) + k, memory_order_relaxed);
	if (!left)
		atomic_fetch_sub_explicit(&b->ex->batched, 1, memory_order_relaxed);
	return first;
}

/* Both locks held, b empty: make the chain `first` (n futures, the first of which left
 * the queue as the pos-th) its contents. */
static void batch_fill(struct batch *b, struct rf_future *first, size_t n, size_t pos)
{
	b->head = first;
	atomic_store_explicit(&b->n, n, memory_order_relaxed);
	atomic_store_explicit(&b->pos, pos, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->ex->batched, 1, memory_order_relaxed);
}

/* The owner, without `lock`: the next future of its batch, or NULL. */
static struct rf_future *batch_pop(struct batch *b)
{
	if (!batch_size(b))
		return NULL; /* only the owner adds, so an empty hint is the truth for it */
	spin_lock(&b->lock);
	struct rf_future *f = batch_size(b) ? batch_take(b, 1) : NULL;
	spin_unlock(&b->lock);
	return f;
}

/* Lock held, me's batch empty: a future to run now, the rest of what was taken going to
 * me's batch; or NULL if none waits. From the queue, but first from a batch that fell
 * behind it (see the contract), and from any batch when the queue is empty. */
static struct rf_future *find_work(struct rf_executor *ex, struct batch *me)
{
	struct rf_future *got = NULL;
	size_t n = 0, pos = 0;
	size_t behind = (size_t)ex->nbatches * BATCH;
	int self = (int)(me - ex->batches);
	for (int i = 1; i < ex->nbatches && !got && batches_waiting(ex); i++) {
		struct batch *v = &ex->batches[(self + i) % ex->nbatches];
		if (!batch_size(v) || (ex->queue && ex->taken - batch_pos(v) <= behind))
			continue;
		spin_lock(&v->lock);
		pos = batch_pos(v);
		if ((n = (batch_size(v) + 1) / 2)) /* half, and the last one too */
			got = batch_take(v, n);
		spin_unlock(&v->lock);
	}
	if (!got && ex->queue) {
		n = ex->queued / (size_t)ex->nbatches;
		n = n < 1 ? 1 : n > BATCH ? BATCH : n;
		got = ex->queue;
		struct rf_future *last = got;
		for (size_t i = 1; i < n; i++)
			last = last->next;
		ex->queue = last->next;
		last->next = NULL;
		ex->queued -= n;
		pos = ex->taken;
		ex->taken += n;
	}
	if (n > 1) {
		spin_lock(&me->lock);
		batch_fill(me, got->next, n - 1, pos + 1);
		spin_unlock(&me->lock);
		got->next = NULL;
	}
	return got;
}

/* Lock held: whether a task waits, in the queue or in a batch. */
static bool work_waits(struct rf_executor *ex)
{
	return ex->queue || batches_waiting(ex);
}

/* Lock held: an idle worker claimed to take the waiting tasks, counted as searching, to
 * be completed after the unlock; or NULL: nothing waits, one searching, or none idle. */
static waiter *claim_waker(struct rf_executor *ex)
{
	if (ex->searching || !ex->idle.head || !work_waits(ex))
		return NULL;
	waiter *w = waitlist_claim_one(&ex->idle);
	if (w) {
		ex->searching++;
		w->value = rf_from_ptr(ex); /* between claim and complete: wait.h rule 4 */
	}
	return w;
}

static void *worker_main(void *arg)
{
	struct batch *me = arg;
	struct rf_executor *ex = me->ex;
	bool claimed = false; /* woken by claim_waker: counted as searching */
	sched_busy(1);
	for (;;) {
		struct rf_future *f = batch_pop(me);
		if (f) {
			future_run(f, true);
			continue;
		}
		spin_lock(&ex->lock);
		if (claimed)
			ex->searching--;
		claimed = false;
		if ((f = find_work(ex, me))) {
			waiter *next = claim_waker(ex);
			spin_unlock(&ex->lock);
			if (next)
				waiter_complete(next);
			future_run(f, true);
		} else if (phase_of(ex) != RUNNING) {
			waiter *chain = NULL;
			if (--ex->live == 0) {
				set_phase(ex, TERMINATED);
				chain = waitlist_claim_all(&ex->awaiters);
			}
			spin_unlock(&ex->lock);
			waitlist_complete_chain(chain, 0, RF_NIL);
			sched_busy(-1);
			return NULL;
		} else {
			waiter w;
			waiter_init(&w);
			sched_busy(-1);
			waitlist_sleep(&ex->idle, &ex->lock, &w, DEADLINE_NONE);
			sched_busy(1);
			claimed = w.value != RF_NIL; /* by claim_waker, not by shutdown */
		}
	}
}

/* Accept n prepared futures at once, or none: 0 or RF_ESHUTDOWN. */
static int accept(struct rf_executor *ex, struct rf_future **fs, size_t n)
{
	spin_lock(&ex->lock);
	if (phase_of(ex) != RUNNING) {
		spin_unlock(&ex->lock);
		return RF_ESHUTDOWN;
	}
	for (size_t i = 0; i < n; i++) {
		fs[i]->next = NULL;
		if (ex->queue)
			ex->tail->next = fs[i];
		else
			ex->queue = fs[i];
		ex->tail = fs[i];
	}
	ex->queued += n;
	waiter *w = claim_waker(ex);
	spin_unlock(&ex->lock);
	if (w)
		waiter_complete(w);
	return 0;
}

/* n new futures with the caller's bindings, or none: 0 or -ENOMEM. */
static int prepare(const rf_task *tasks, size_t n, struct rf_future **fs)
{
	for (size_t i = 0; i < n; i++) {
		void *frame;
		if (var_bindings_capture(&frame) < 0 ||
		    future_alloc(tasks[i].fn, tasks[i].arg, frame, &fs[i]) < 0) {
			var_bindings_release(frame);
			while (i--) {
				var_bindings_release(fs[i]->bindings);
				future_discard(fs[i]);
			}
			return -ENOMEM;
		}
	}
	return 0;
}

static void unprepare(struct rf_future **fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		var_bindings_release(fs[i]->bindings);
		future_discard(fs[i]);
	}
}

int rf_executor_new(int threads, rf_executor **out)
{
	if (threads < 1 || threads > 4096 || !out)
		return -EINVAL;
	struct rf_executor *ex = malloc(sizeof(*ex) + (size_t)threads * sizeof(pthread_t));
	if (!ex)
		return -ENOMEM;
	ex->batches = aligned_alloc(_Alignof(struct batch), (size_t)threads * sizeof(struct batch));
	if (!ex->batches) {
		free(ex);
		return -ENOMEM;
	}
	for (int i = 0; i < threads; i++) {
		struct batch *b = &ex->batches[i];
		spin_init(&b->lock, LOCKRANK_EXECUTOR_BATCH);
		b->head = NULL;
		atomic_init(&b->n, 0);
		atomic_init(&b->pos, 0);
		b->ex = ex;
	}
	ex->nbatches = threads;
	spin_init(&ex->lock, LOCKRANK_EXECUTOR);
	atomic_init(&ex->phase, RUNNING);
	ex->queue = ex->tail = NULL;
	ex->queued = 0;
	ex->taken = 0;
	atomic_init(&ex->batched, 0);
	ex->searching = 0;
	waitlist_init(&ex->idle);
	waitlist_init(&ex->awaiters);
	ex->live = threads;
	ex->nthreads = 0;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&ex->threads[i], NULL, worker_main, &ex->batches[i]) != 0) {
			spin_lock(&ex->lock);
			ex->live -= threads - i; /* the ones never started */
			spin_unlock(&ex->lock);
			rf_executor_free(ex);
			return -EAGAIN;
		}
		ex->nthreads++;
	}
	*out = ex;
	return 0;
}

void rf_executor_free(rf_executor *ex)
{
	if (!ex)
		return;
	rf_executor_shutdown(ex);
	for (int i = 0; i < ex->nthreads; i++)
		pthread_join(ex->threads[i], NULL);
	free(ex->batches);
	free(ex);
}

int rf_executor_submit(rf_executor *ex, rf_body_fn fn, rf_val arg, rf_future **out)
{
	if (!ex || !fn)
		return -EINVAL;
	rf_task task = {fn, arg};
	struct rf_future *f;
	int rc = prepare(&task, 1, &f);
	if (rc < 0)
		return rc;
	if (!out)
		deferred_unref(&f->d); /* fire and forget: only the runner's reference stays */
	if ((rc = accept(ex, &f, 1)) < 0) {
		if (out)
			unprepare(&f, 1);
		else
			future_drop_unrun(f, rc);
		return rc;
	}
	if (out)
		*out = f;
	return 0;
}

int rf_executor_invoke_all(rf_executor *ex, const rf_task *tasks, size_t n, rf_future **futures)
{
	if (!ex || (n && (!tasks || !futures)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!tasks[i].fn)
			return -EINVAL;
	int rc = prepare(tasks, n, futures);
	if (rc < 0)
		return rc;
	if ((rc = accept(ex, futures, n)) < 0) {
		unprepare(futures, n);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		int code;
		rf_val v;
		if ((rc = deferred_wait(&futures[i]->d, DEADLINE_NONE, &code, &v)) < 0)
			return rc; /* a fiber's wait cancelled by rf_shutdown: the futures run on */
	}
	return 0;
}

/* Lock held: leave RUNNING and wake the idle workers (they exit once the queue is
 * empty). Returns the claimed idle waiters, to be completed after the unlock. */
static waiter *begin_shutdown(struct rf_executor *ex)
{
	if (phase_of(ex) == RUNNING)
		set_phase(ex, ex->live ? SHUTDOWN : TERMINATED);
	return waitlist_claim_all(&ex->idle);
}

void rf_executor_shutdown(rf_executor *ex)
{
	if (!ex)
		return;
	spin_lock(&ex->lock);
	waiter *chain = begin_shutdown(ex);
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);
}

int rf_executor_shutdown_now(rf_executor *ex, rf_task **out, size_t *n)
{
	if (!ex || !out || !n)
		return -EINVAL;
	spin_lock(&ex->lock);
	waiter *chain = begin_shutdown(ex);
	/* Nothing more is accepted, and while `lock` is held tasks only leave the batches
	 * (their owners run them): the count of waiting tasks only shrinks from here. */
	size_t cap = ex->queued;
	for (int i = 0; i < ex->nbatches; i++)
		cap += batch_size(&ex->batches[i]);
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);

	rf_task *tasks = NULL;
	if (cap && !(tasks = malloc(cap * sizeof(*tasks))))
		return -ENOMEM;
	struct rf_future *f = NULL, **end = &f;
	spin_lock(&ex->lock);
	for (int i = 0; i < ex->nbatches; i++) { /* what the batches hold came first */
		struct batch *b = &ex->batches[i];
		spin_lock(&b->lock);
		if (batch_size(b))
			*end = batch_take(b, batch_size(b));
		spin_unlock(&b->lock);
		while (*end)
			end = &(*end)->next;
	}
	*end = ex->queue;
	ex->queue = ex->tail = NULL;
	ex->queued = 0;
	spin_unlock(&ex->lock);
	size_t count = 0;
	while (f) {
		struct rf_future *next = f->next;
		tasks[count].fn = f->fn;
		tasks[count].arg = f->arg;
		count++;
		future_drop_unrun(f, -ECANCELED);
		f = next;
	}
	if (!count) {
		free(tasks);
		tasks = NULL;
	}
	*out = tasks;
	*n = count;
	return 0;
}

int rf_executor_await_termination(rf_executor *ex, int64_t timeout_ms)
{
	if (!ex || timeout_ms < 0)
		return -EINVAL;
	uint64_t deadline = time_deadline_after_ms(timeout_ms);
	spin_lock(&ex->lock);
	if (phase_of(ex) == TERMINATED) {
		spin_unlock(&ex->lock);
		return 0;
	}
	if (timeout_ms == 0) {
		spin_unlock(&ex->lock);
		return -ETIMEDOUT;
	}
	waiter w;
	waiter_init(&w);
	fiber_wait_on(WAIT_EXECUTOR, ex);
	return waitlist_sleep(&ex->awaiters, &ex->lock, &w, deadline);
}

bool rf_executor_is_shutdown(rf_executor *ex)
{
	return ex && atomic_load_explicit(&ex->phase, memory_order_acquire) != RUNNING;
}

bool rf_executor_is_terminated(rf_executor *ex)
{
	return ex && atomic_load_explicit(&ex->phase, memory_order_acquire) == TERMINATED;
}
