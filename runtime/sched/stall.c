/* runtime/sched/stall.c: the monitor thread: stalls, the coarse clock of park times,
 * the deadlock report and dumps asked for by signal.
 *
 * Stalls. Each worker bumps its `seq` at every switch into and out of a fiber (odd while
 * a fiber runs): one relaxed store, no clock read on the switch path. The monitor samples
 * every worker each period (stall_ms / 2, at most 100 ms); a worker whose seq stayed odd
 * and unchanged since an earlier sample has been running the same fiber all along. The
 * run counts as a stall once the worker thread has used stall_ms of CPU time since that
 * sample (its thread CPU clock, read by the monitor): time the OS spent running other
 * processes is not the fiber's fault, and on a loaded machine wall time would report
 * fibers that merely waited for a CPU. Reported once per run on stderr, with the fiber's
 * entry and backtrace printed by the worker itself (dump.c), counted in st_stalls.
 * stall_ms = 0 turns stall detection off.
 *
 * The monitor also advances sched_tick_ms (park times in rf_dump), checks for deadlock
 * every DEADLOCK_EVERY_MS (RF_DEADLOCK_REPORT=0 turns that off; reported once per run),
 * and dumps every fiber to stderr when the RF_DUMP_SIGNAL handler asked it to. It runs
 * unless all three are off.
 *
 * Shared state: mon_* and st_stalls of every worker belong to the monitor thread; `run`
 * is written by stall_start/stall_stop (the runtime's lock; release) and read by the
 * monitor after its semaphore wait (acquire); `dump_asked` is set by the signal handler,
 * taken by the monitor; wake_sem lives as long as the process (a signal may post late).
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/base/probe.h"
#include "runtime/sched/fiber.h"

#define DEADLOCK_EVERY_MS 250u

_Atomic uint32_t sched_tick_ms;
static sem_t wake_sem;
static _Atomic bool run;
static _Atomic int dump_asked;
static pthread_t thread;
static uint64_t stall_ns;
static bool deadlock_on, deadlock_reported;
static int dump_signal;

static uint64_t thread_cpu_ns(sched_worker *w)
{
	clockid_t clk;
	struct timespec ts;
	if (pthread_getcpuclockid(w->thread, &clk) || clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sample(sched_worker *w, uint64_t now)
{
	uint64_t seq = atomic_load_explicit(&w->seq, memory_order_relaxed);
	if (!(seq & 1) || seq != w->mon_seq) {
		w->mon_seq = seq;
		w->mon_since = now;
		w->mon_cpu = (seq & 1) ? thread_cpu_ns(w) : 0;
		w->mon_reported = false;
		return;
	}
	if (w->mon_reported || now - w->mon_since < stall_ns)
		return;
	uint64_t cpu = thread_cpu_ns(w) - w->mon_cpu;
	if (cpu < stall_ns)
		return;
	w->mon_reported = true;
	sched_count(&w->st_stalls, 1);
	PROBE(stall, w->index, atomic_load_explicit(&w->running, memory_order_relaxed), cpu);
	fprintf(stderr,
	        "ringfold: stall: fiber %p on worker %d (cpu %d) has run %llu ms of CPU time "
	        "(%llu ms wall) without parking (stall_ms %llu)\n",
	        (void *)atomic_load_explicit(&w->running, memory_order_relaxed), w->index, w->cpu,
	        (unsigned long long)(cpu / 1000000u),
	        (unsigned long long)((now - w->mon_since) / 1000000u),
	        (unsigned long long)(stall_ns / 1000000u));
	dump_stall_backtrace(w);
}

static void *monitor(void *arg)
{
	pthread_setname_np(pthread_self(), "rf-monitor");
	uint64_t period = stall_ns ? stall_ns / 2 : 100000000u;
	if (period > 100000000u)
		period = 100000000u;
	uint64_t start = time_now_ns(), next_check = start;
	while (atomic_load_explicit(&run, memory_order_acquire)) {
		uint64_t until = time_now_ns() + period;
		struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
		/* realtime semaphores time out on CLOCK_REALTIME: use the monotonic variant */
		while (sem_clockwait(&wake_sem, CLOCK_MONOTONIC, &ts) && errno == EINTR)
			;
		if (!atomic_load_explicit(&run, memory_order_acquire))
			break;
		uint64_t now = time_now_ns();
		atomic_store_explicit(&sched_tick_ms, (uint32_t)((now - start) / 1000000u) | 1,
		                      memory_order_relaxed);
		if (atomic_exchange_explicit(&dump_asked, 0, memory_order_relaxed))
			dump_all(2, "dump on signal");
		if (stall_ns)
			for (int i = 0; i < sched_nworkers; i++)
				sample(sched_worker_tab[i], now);
		if (deadlock_on && !deadlock_reported && now >= next_check) {
			next_check = now + DEADLOCK_EVERY_MS * 1000000ull;
			if (dump_deadlock_check()) {
				deadlock_reported = true;
				fprintf(stderr,
				        "ringfold: all go processes are asleep - deadlock!\n");
				dump_all(2, "deadlock");
			}
		}
	}
	return NULL;
}

void stall_request_dump(void)
{
	atomic_store_explicit(&dump_asked, 1, memory_order_relaxed);
	sem_post(&wake_sem); /* async-signal-safe */
}

static void on_dump_signal(int sig)
{
	stall_request_dump();
}

/* RF_DUMP_SIGNAL: a signal name (SIGUSR2, USR2) or number; 0 when unset or unknown. */
static int dump_signal_from_env(void)
{
	const char *s = getenv("RF_DUMP_SIGNAL");
	if (!s || !*s)
		return 0;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	static const struct {
		const char *name;
		int sig;
	} names[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"QUIT", SIGQUIT},
	             {"HUP", SIGHUP},   {"PWR", SIGPWR},   {"WINCH", SIGWINCH}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v <= 0 || v >= NSIG) {
		fprintf(stderr,
		        "ringfold: RF_DUMP_SIGNAL=%s: not a signal name or number; ignored\n",
		        getenv("RF_DUMP_SIGNAL"));
		return 0;
	}
	return (int)v;
}

int stall_start(uint32_t stall_ms)
{
	static bool sem_ready; /* made once and never destroyed: a late signal may post */
	if (!sem_ready && sem_init(&wake_sem, 0, 0) == 0)
		sem_ready = true;
	stall_ns = (uint64_t)stall_ms * 1000000u;
	const char *d = getenv("RF_DEADLOCK_REPORT");
	deadlock_on = !(d && !strcmp(d, "0"));
	deadlock_reported = false;
	int sig = dump_signal_from_env();
	if (sig && sig != dump_signal) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_dump_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, NULL) == 0)
			dump_signal = sig;
	}
	dump_install_handlers();
	atomic_store_explicit(&sched_tick_ms, 0, memory_order_relaxed);
	if (!stall_ns && !deadlock_on && !dump_signal)
		return 0;
	for (int i = 0; i < sched_nworkers; i++) {
		sched_worker_tab[i]->mon_seq = 0;
		sched_worker_tab[i]->mon_reported = false;
	}
	while (sem_trywait(&wake_sem) == 0) /* posts left from an earlier run */
		;
	atomic_store_explicit(&run, true, memory_order_release);
	int rc = -pthread_create(&thread, NULL, monitor, NULL);
	if (rc)
		atomic_store_explicit(&run, false, memory_order_relaxed);
	return rc;
}

void stall_forget(void)
{
	atomic_store_explicit(&run, false, memory_order_relaxed);
	atomic_store_explicit(&sched_tick_ms, 0, memory_order_relaxed);
	sem_init(&wake_sem, 0, 0); /* the parent's monitor may have been inside it */
	dump_forget();
}

void stall_stop(void)
{
	if (!atomic_exchange_explicit(&run, false, memory_order_acq_rel))
		return;
	sem_post(&wake_sem);
	pthread_join(thread, NULL);
	atomic_store_explicit(&sched_tick_ms, 0, memory_order_relaxed);
}
