/* runtime/sched/dump.c: rf_dump, the deadlock report and stall backtraces.
 *
 * A worker's fibers are its own (fiber.h), so nobody else walks its list: a dump or a
 * deadlock check is a request every worker answers from its loop. The requester, under
 * dump_lock, sets want_text and increments sched_dump_seq (release); each worker, at the
 * top of its loop, sees the change (acquire), writes its answer (dump_text, chk_*) and
 * stores dump_served = seq (release), which the requester acquires before reading the
 * answer. A worker writes its answer only for a new seq, and a new seq is only made
 * under dump_lock, so an answer the requester reads is not rewritten meanwhile. The
 * requester pokes sleeping workers until all answered or a second passed; a worker
 * stuck in a fiber (a stall) does not answer and is reported as such. A requester that
 * is itself a worker answers for its worker first.
 *
 * Deadlock ("all go processes are asleep"): plain threads in an untimed ringfold wait
 * are counted (threads_blocked); ringfold's own threads say when they may still wake
 * someone (busy: pools running work, the timer thread holding timeouts). When some
 * plain thread is blocked, no internal thread is busy and no work is queued for one
 * (fork/join jobs), no fiber ran and no plain thread's wait ended for QUIET_ROUNDS checks
 * and every worker sleeps, the monitor asks the workers: if every live fiber is parked
 * without a deadline on something other than I/O or a timer, and no worker has a ready
 * fiber or an armed timer, nothing can wake anyone. Reported once per run.
 *
 * Stall backtraces: the monitor sends SIGURG to the stalled worker's thread; the handler
 * (on the worker's alternate stack) prints the running fiber's entry and backtrace with
 * write(2) only (backtrace() was called once before, so it does not load libgcc then).
 * Installed only if nobody else handles SIGURG.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/lockrank.h"
#include "runtime/sched/fiber.h"

_Atomic uint64_t sched_dump_seq;
static _Atomic int want_text; /* written under dump_lock before the seq increment */
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
/* threads_blocked: plain threads in an untimed wait in the low 32 bits, and in the high
 * 32 the count of such waits that ended (progress the fibers' st_run does not show:
 * plain threads that wake each other are alive). One RMW per wait's start and end. */
#define WAIT_ENDED (1ull << 32)
static _Atomic uint64_t threads_blocked;
static _Atomic int busy;
static _Thread_local bool internal_thread;
static bool stall_signal; /* SIGURG handler installed (once, before workers exist) */

/* Deadlock checks (one per DEADLOCK_EVERY_MS, stall.c) in a row that must find nothing
 * running before the workers are asked: a thread woken but not yet given a CPU by a
 * loaded machine has not said it is busy yet, so a single quiet look proves little. */
#define QUIET_ROUNDS 4

static const char *const kind_name[WAIT_KINDS] = {
    [WAIT_OTHER] = "something",   [WAIT_CHAN] = "channel",
    [WAIT_ALTS] = "alts",         [WAIT_DEFERRED] = "promise/future/delay",
    [WAIT_LOCK] = "lock",         [WAIT_IO] = "I/O on fd",
    [WAIT_TIMER] = "timer",       [WAIT_AGENT] = "agent",
    [WAIT_EXECUTOR] = "executor", [WAIT_FJ] = "fork/join tasks",
    [WAIT_STM] = "transaction",
};

static int threads_waiting(void)
{
	return (int)(uint32_t)atomic_load_explicit(&threads_blocked, memory_order_relaxed);
}

void dump_thread_blocked(int delta)
{
	if (!internal_thread) /* an end: WAIT_ENDED - 1 carries one into the high half */
		atomic_fetch_add_explicit(&threads_blocked, delta > 0 ? 1 : WAIT_ENDED - 1,
		                          memory_order_relaxed);
}

void sched_busy(int delta)
{
	internal_thread = true;
	atomic_fetch_add_explicit(&busy, delta, memory_order_relaxed);
}

void sched_work_queued(int delta)
{
	atomic_fetch_add_explicit(&busy, delta, memory_order_relaxed);
}

static void entry_name(const void *fn, char *buf, size_t n)
{
	Dl_info di;
	if (fn && dladdr(fn, &di) && di.dli_sname)
		snprintf(buf, n, "%s+%#lx (%s)", di.dli_sname,
		         (unsigned long)((const char *)fn - (const char *)di.dli_saddr),
		         di.dli_fname ? di.dli_fname : "?");
	else if (fn && dladdr(fn, &di) && di.dli_fname)
		snprintf(buf, n, "%p (%s+%#lx)", fn, di.dli_fname,
		         (unsigned long)((const char *)fn - (const char *)di.dli_fbase));
	else
		snprintf(buf, n, "%p", fn);
}

static const char *state_name(const sched_fiber *f)
{
	switch (f->state) {
	case FIBER_RUNNING:
		return "running";
	case FIBER_PARKED:
		return "parked";
	case FIBER_PARKING:
		return "parking";
	case FIBER_DONE:
		return "done";
	default:
		return "ready";
	}
}

void dump_serve(sched_worker *w)
{
	uint64_t seq = atomic_load_explicit(&sched_dump_seq, memory_order_acquire);
	free(w->dump_text);
	w->dump_text = NULL;
	w->dump_len = 0;
	bool text = atomic_load_explicit(&want_text, memory_order_relaxed);
	FILE *m = text ? open_memstream(&w->dump_text, &w->dump_len) : NULL;
	uint32_t now = atomic_load_explicit(&sched_tick_ms, memory_order_relaxed);
	int fibers = 0, stuck = 0;
	for (sched_fiber *f = w->all; f; f = f->all_next) {
		fibers++;
		bool parked = f->state == FIBER_PARKED;
		if (parked && !f->armed && f->wait_kind != WAIT_IO && f->wait_kind != WAIT_TIMER)
			stuck++;
		if (!m)
			continue;
		char entry[256];
		entry_name(f->entry, entry, sizeof(entry));
		fprintf(m, "  fiber %d.%llu  %s", (int)(f->id >> 40),
		        (unsigned long long)(f->id & ((1ull << 40) - 1)), state_name(f));
		if (parked) {
			fprintf(m, " on %s", kind_name[f->wait_kind]);
			if (f->wait_kind == WAIT_IO)
				fprintf(m, " %d", (int)(intptr_t)f->wait_obj);
			else if (f->wait_obj)
				fprintf(m, " %p", f->wait_obj);
			if (f->armed)
				fprintf(m, " (with a deadline)");
			if (now)
				fprintf(m, " for %u ms", now - f->park_tick);
		}
		fprintf(m, "  entry %s\n", entry);
	}
	w->chk_fibers = fibers;
	w->chk_stuck = stuck;
	w->chk_timers = w->timers != NULL || worker_has_ready(w) ||
	                atomic_load_explicit(&w->inbox, memory_order_relaxed) != NULL;
	if (m)
		fclose(m);
	/* release: the answer above is read after the requester's acquire of dump_served */
	atomic_store_explicit(&w->dump_served, seq, memory_order_release);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Under dump_lock: ask every worker; returns the request's seq. */
static uint64_t ask(bool text)
{
	atomic_store_explicit(&want_text, text, memory_order_relaxed);
	uint64_t seq = atomic_fetch_add_explicit(&sched_dump_seq, 1, memory_order_release) + 1;
	if (sched_tls_worker)
		dump_serve(sched_tls_worker);
	uint64_t until = time_now_ns() + 1000000000u;
	for (;;) {
		int pending = 0;
		for (int i = 0; i < sched_nworkers; i++) {
			sched_worker *w = sched_worker_tab[i];
			if (atomic_load_explicit(&w->dump_served, memory_order_acquire) != seq) {
				pending++;
				worker_poke(w);
			}
		}
		if (!pending || time_now_ns() > until)
			return seq;
		sleep_ms(1);
	}
}

static bool answered(sched_worker *w, uint64_t seq)
{
	return atomic_load_explicit(&w->dump_served, memory_order_acquire) == seq;
}

int dump_all(int fd, const char *title)
{
	if (!sched_running())
		return dprintf(fd, "ringfold: %s: the runtime is not running\n", title) < 0 ? -errno
		                                                                            : 0;
	mutex_lock_ranked(&dump_lock, LOCKRANK_SCHED_DUMP);
	uint64_t seq = ask(true);
	int fibers = 0;
	for (int i = 0; i < sched_nworkers; i++)
		if (answered(sched_worker_tab[i], seq))
			fibers += sched_worker_tab[i]->chk_fibers;
	int rc = dprintf(fd, "ringfold: %s: %d workers, %d fibers, %d plain threads waiting\n",
	                 title, sched_nworkers, fibers, threads_waiting());
	for (int i = 0; i < sched_nworkers && rc >= 0; i++) {
		sched_worker *w = sched_worker_tab[i];
		if (!answered(w, seq)) {
			rc = dprintf(fd,
			             "worker %d (cpu %d, node %d): no answer within 1 s: a fiber "
			             "runs without parking (stalled)\n",
			             w->index, w->cpu, w->node);
			continue;
		}
		rc = dprintf(fd, "worker %d (cpu %d, node %d): %d fibers\n", w->index, w->cpu,
		             w->node, w->chk_fibers);
		if (rc >= 0 && w->dump_len)
			rc = write(fd, w->dump_text, w->dump_len) < 0 ? -1 : 0;
	}
	mutex_unlock_ranked(&dump_lock, LOCKRANK_SCHED_DUMP);
	return rc < 0 ? -errno : 0;
}

void dump_forget(void)
{
	pthread_mutex_init(&dump_lock, NULL); /* a thread of the parent may have held it */
	atomic_store_explicit(&threads_blocked, 0, memory_order_relaxed);
	atomic_store_explicit(&busy, 0, memory_order_relaxed);
}

int rf_dump(int fd)
{
	if (fd < 0)
		return -EINVAL;
	return dump_all(fd, "dump");
}

static uint64_t progress(void)
{
	uint64_t n = atomic_load_explicit(&threads_blocked, memory_order_relaxed) / WAIT_ENDED;
	for (int i = 0; i < sched_nworkers; i++)
		n += atomic_load_explicit(&sched_worker_tab[i]->st_run, memory_order_relaxed);
	return n;
}

int dump_deadlock_check(void)
{
	static uint64_t last;
	static int quiet;
	if (!threads_waiting() || atomic_load_explicit(&busy, memory_order_relaxed)) {
		quiet = 0;
		return 0;
	}
	uint64_t now = progress();
	bool asleep = now == last;
	for (int i = 0; i < sched_nworkers && asleep; i++)
		asleep = atomic_load_explicit(&sched_worker_tab[i]->sleeping, memory_order_relaxed);
	last = now;
	if (!asleep) {
		quiet = 0;
		return 0;
	}
	if (++quiet < QUIET_ROUNDS)
		return 0;
	mutex_lock_ranked(&dump_lock, LOCKRANK_SCHED_DUMP);
	uint64_t seq = ask(false);
	bool stuck = true;
	for (int i = 0; i < sched_nworkers && stuck; i++) {
		sched_worker *w = sched_worker_tab[i];
		stuck = answered(w, seq) && !w->chk_timers && w->chk_stuck == w->chk_fibers;
	}
	mutex_unlock_ranked(&dump_lock, LOCKRANK_SCHED_DUMP);
	return stuck && progress() == last && threads_waiting() &&
	       !atomic_load_explicit(&busy, memory_order_relaxed);
}

/* --- stall backtraces ------------------------------------------------------------------ */

static void put(const char *s)
{
	ssize_t rc = write(STDERR_FILENO, s, strlen(s));
	(void)rc;
}

static void on_stall_signal(int sig, siginfo_t *info, void *uctx)
{
	sched_worker *w = sched_tls_worker;
	sched_fiber *f = w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
	if (!f)
		return; /* it parked in the meantime */
	int saved = errno;
	put("ringfold: stall: entry ");
	void *entry = (void *)f->entry;
	backtrace_symbols_fd(&entry, 1, STDERR_FILENO);
	put("ringfold: stall: backtrace of the stalled fiber:\n");
	void *frames[64];
	int n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	errno = saved;
}

void dump_stall_backtrace(sched_worker *w)
{
	if (stall_signal)
		pthread_kill(w->thread, SIGURG);
}

int dump_install_handlers(void)
{
	static bool done;
	if (done)
		return 0;
	done = true;
	void *warm[2];
	(void)backtrace(warm, 2); /* loads the unwinder now, not in the handler */
	struct sigaction old;
	if (sigaction(SIGURG, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
	    old.sa_handler == SIG_DFL) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_stall_signal;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		stall_signal = sigaction(SIGURG, &sa, NULL) == 0;
	}
	return 0;
}
