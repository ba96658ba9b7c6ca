/* tests/chan/test_alts.c: alts (choice, fairness, priority, default, same channel twice,
 * exactly one completion) and a many-producer many-consumer exactly-once stress. */
#include <stdatomic.h>

#include "chan_test.h"

static void test_alts_basic(void **state)
{
	rf_chan *a, *b;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &a), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 4, &b), 0);
	rf_alt ops[] = {{.ch = a}, {.ch = b}};
	int which;
	rf_val v;
	assert_int_equal(rf_alts(ops, 2, RF_ALT_DEFAULT, &which, &v), -EAGAIN);
	assert_int_equal(which, -1);
	assert_int_equal(rf_alts_timeout(ops, 2, 0, 20, &which, &v), -ETIMEDOUT);
	assert_int_equal(rf_alts_timeout(ops, 2, 0, 0, &which, &v), -ETIMEDOUT);
	assert_int_equal(rf_alts(ops, 0, 0, &which, &v), -EINVAL);
	assert_int_equal(rf_alts_timeout(ops, 2, 0, -1, &which, &v), -EINVAL);
	assert_int_equal(rf_chan_put(b, 9), 0);
	assert_int_equal(rf_alts(ops, 2, 0, &which, &v), 0);
	assert_int_equal(which, 1);
	assert_int_equal(v, 9);
	/* puts: a full channel is not ready, the other is */
	for (int i = 0; i < 4; i++)
		assert_int_equal(rf_chan_put(a, i), 0);
	rf_alt puts[] = {{.ch = a, .put = true, .val = 100}, {.ch = b, .put = true, .val = 200}};
	assert_int_equal(rf_alts(puts, 2, 0, &which, NULL), 0);
	assert_int_equal(which, 1);
	assert_int_equal(rf_chan_poll(b, &v), 0);
	assert_int_equal(v, 200);
	/* closed: a take completes with RF_ECLOSED, a put likewise */
	rf_chan_close(b);
	rf_alt mixed[] = {{.ch = b}, {.ch = a, .put = true, .val = 1}};
	assert_int_equal(rf_alts(mixed, 2, 0, &which, &v), RF_ECLOSED);
	assert_int_equal(which, 0);
	rf_alt put_closed[] = {{.ch = b, .put = true, .val = 1}};
	assert_int_equal(rf_alts(put_closed, 1, 0, &which, &v), RF_ECLOSED);
	rf_chan_release(a);
	rf_chan_release(b);
}

static void test_alts_fairness_priority(void **state)
{
	rf_chan *a, *b;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1, &a), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1, &b), 0);
	rf_alt ops[] = {{.ch = a}, {.ch = b}};
	enum { N = 4000 };
	int wins[2] = {0, 0}, which;
	rf_val v;
	for (int i = 0; i < N; i++) {
		rf_chan_offer(a, 1);
		rf_chan_offer(b, 2);
		assert_int_equal(rf_alts(ops, 2, 0, &which, &v), 0);
		assert_int_equal(v, which + 1);
		wins[which]++;
	}
	/* binomial(4000, 1/2): sd ~ 32; 45%..55% is > 6 sd */
	assert_true(wins[0] > N * 45 / 100 && wins[0] < N * 55 / 100);
	for (int i = 0; i < 100; i++) {
		rf_chan_offer(a, 1);
		rf_chan_offer(b, 2);
		assert_int_equal(rf_alts(ops, 2, RF_ALT_PRIORITY, &which, &v), 0);
		assert_int_equal(which, 0);
	}
	rf_chan_release(a);
	rf_chan_release(b);
}

static void *take_later(void *arg)
{
	sched_sleep_until(time_now_ns() + 10000000);
	rf_val v = -1;
	int rc = take5(arg, &v);
	return (void *)(intptr_t)(rc ? rc : v);
}

static void *put_later(void *arg)
{
	sched_sleep_until(time_now_ns() + 10000000);
	return (void *)(intptr_t)put5(arg, 77);
}

static void test_alts_same_channel(void **state)
{
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	/* a put and a take on one unbuffered channel never meet each other */
	rf_alt ops[] = {{.ch = c, .put = true, .val = 5}, {.ch = c}};
	int which;
	rf_val v;
	assert_int_equal(rf_alts(ops, 2, RF_ALT_DEFAULT, &which, &v), -EAGAIN);
	pthread_t t = spawn_thread(take_later, c);
	assert_int_equal(rf_alts_timeout(ops, 2, 0, 5000, &which, &v), 0);
	assert_int_equal(which, 0);
	void *r;
	pthread_join(t, &r);
	assert_int_equal((intptr_t)r, 5);
	t = spawn_thread(put_later, c);
	assert_int_equal(rf_alts_timeout(ops, 2, 0, 5000, &which, &v), 0);
	assert_int_equal(which, 1);
	assert_int_equal(v, 77);
	pthread_join(t, &r);
	assert_int_equal((intptr_t)r, 0);
	/* the same take twice */
	rf_alt twice[] = {{.ch = c}, {.ch = c}};
	t = spawn_thread(put_later, c);
	assert_int_equal(rf_alts_timeout(twice, 2, 0, 5000, &which, &v), 0);
	assert_int_equal(v, 77);
	pthread_join(t, &r);
	rf_val dummy;
	assert_int_equal(rf_chan_poll(c, &dummy), -EAGAIN); /* nothing left queued */
	rf_chan_release(c);
}

static void test_alts_timeout_chan(void **state)
{
	rf_chan *c, *t;
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_chan_timeout(20, &t), 0);
	rf_alt ops[] = {{.ch = c}, {.ch = t}};
	int which;
	rf_val v;
	assert_int_equal(rf_alts(ops, 2, 0, &which, &v), RF_ECLOSED);
	assert_int_equal(which, 1);
	rf_chan_release(t);
	rf_chan_release(c);
}

/* The waiting forms parked on a fiber: deadlines come from the worker's timers. */
static int go_timeouts(rf_val arg, rf_val *out)
{
	rf_chan **cd = rf_to_ptr(arg), *c = cd[0], *t; /* c: nobody else uses it */
	rf_val v;
	rf_alt ops[] = {{.ch = c}, {.ch = c, .put = true, .val = 1}};
	int which;
	uint64_t t0 = time_now_ns();
	if (rf_alts_timeout(ops, 2, 0, 20, &which, &v) != -ETIMEDOUT || which != -1)
		return -1;
	if (rf_chan_take_timeout(c, 10, &v) != -ETIMEDOUT ||
	    rf_chan_put_timeout(c, 1, 10) != -ETIMEDOUT)
		return -2;
	if (rf_chan_timeout(15, &t) < 0)
		return -3;
	rf_alt with_timeout[] = {{.ch = c}, {.ch = t}};
	int rc = rf_alts(with_timeout, 2, 0, &which, &v);
	rf_chan_release(t);
	if (rc != RF_ECLOSED || which != 1)
		return -4;
	*out = (rf_val)(time_now_ns() - t0);
	return rf_chan_take(cd[1], &v) == 0 && v == 99 ? 0 : -5; /* then a value, parked */
}

static void test_alts_on_fiber(void **state)
{
	rf_chan *cd[2], *r;
	assert_int_equal(rf_chan_new(&cd[0]), 0);
	assert_int_equal(rf_chan_new(&cd[1]), 0);
	assert_int_equal(rf_go(go_timeouts, rf_from_ptr(cd), &r), 0);
	assert_int_equal(put5(cd[1], 99), 0);
	rf_val elapsed = result_of(r);
	assert_true(elapsed >= 55000000); /* 20 + 10 + 10 + 15 ms, each no earlier than asked */
	rf_chan_release(cd[0]);
	rf_chan_release(cd[1]);
}

/* Exactly one completion: producers alts-put onto two unbuffered channels while consumers
 * alts-take from both; the sum and count of what was taken equal what was put. */
enum { PRODUCERS = 4, CONSUMERS = 4, PER_PRODUCER = 5000 };

typedef struct stress {
	rf_chan *a, *b;
	_Atomic int64_t taken_sum, taken_n, done_producers;
	_Atomic uint8_t seen[PRODUCERS * PER_PRODUCER];
} stress;

typedef struct prod_arg {
	stress *s;
	int id;
} prod_arg;

static void *producer(void *arg)
{
	prod_arg *p = arg;
	for (int i = 0; i < PER_PRODUCER; i++) {
		rf_val v = p->id * PER_PRODUCER + i;
		rf_alt ops[] = {{.ch = p->s->a, .put = true, .val = v},
		                {.ch = p->s->b, .put = true, .val = v}};
		int which;
		RF_CHECK_EQ(rf_alts_timeout(ops, 2, 0, 10000, &which, NULL), 0);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	stress *s = arg;
	for (;;) {
		rf_alt ops[] = {{.ch = s->a}, {.ch = s->b}};
		int which;
		rf_val v;
		int rc = rf_alts_timeout(ops, 2, 0, 10000, &which, &v);
		if (rc == RF_ECLOSED)
			return NULL;
		RF_CHECK_EQ(rc, 0);
		RF_CHECK_EQ(atomic_fetch_add(&s->seen[v], 1), 0); /* exactly once */
		atomic_fetch_add(&s->taken_sum, v);
		atomic_fetch_add(&s->taken_n, 1);
	}
}

static void test_alts_exactly_once(void **state)
{
	stress *s = calloc(1, sizeof(*s));
	assert_int_equal(rf_chan_new(&s->a), 0);
	assert_int_equal(rf_chan_new(&s->b), 0);
	pthread_t pt[PRODUCERS], ct[CONSUMERS];
	prod_arg pa[PRODUCERS];
	for (int i = 0; i < CONSUMERS; i++)
		ct[i] = spawn_thread(consumer, s);
	for (int i = 0; i < PRODUCERS; i++) {
		pa[i] = (prod_arg){s, i};
		pt[i] = spawn_thread(producer, &pa[i]);
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(pt[i], NULL);
	rf_chan_close(s->a);
	rf_chan_close(s->b);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(ct[i], NULL);
	int64_t n = PRODUCERS * PER_PRODUCER;
	assert_int_equal(atomic_load(&s->taken_n), n);
	assert_int_equal(atomic_load(&s->taken_sum), n * (n - 1) / 2);
	rf_chan_release(s->a);
	rf_chan_release(s->b);
	free(s);
}

/* Many producers and consumers, go processes and threads mixed, over a buffered and an
 * unbuffered channel: every value delivered exactly once. */
typedef struct mpmc {
	rf_chan *c;
	_Atomic uint8_t *seen;
	_Atomic int64_t sum;
	int per;
} mpmc;

typedef struct job {
	mpmc *m;
	int id;
} job;

static int go_produce(rf_val arg, rf_val *out)
{
	job *j = rf_to_ptr(arg);
	for (int i = 0; i < j->m->per; i++)
		if (rf_chan_put(j->m->c, (rf_val)j->id * j->m->per + i) < 0)
			return -EPIPE;
	return 0;
}

static int go_consume(rf_val arg, rf_val *out)
{
	mpmc *m = rf_to_ptr(arg);
	rf_val v;
	int64_t n = 0;
	while (rf_chan_take(m->c, &v) == 0) {
		if (atomic_fetch_add_explicit(&m->seen[v], 1, memory_order_relaxed) != 0)
			return -EEXIST;
		atomic_fetch_add_explicit(&m->sum, v, memory_order_relaxed);
		n++;
	}
	*out = n;
	return 0;
}

static void *thread_body(void *arg)
{
	job *j = arg;
	rf_val out;
	return (void *)(intptr_t)(j->id >= 0 ? go_produce(rf_from_ptr(j), &out)
	                                     : go_consume(rf_from_ptr(j->m), &out));
}

static void run_mpmc(rf_chan *c)
{
	enum { P = 6, C = 6, PER = 3000 };
	mpmc m = {.c = c, .per = PER};
	m.seen = calloc(P * PER, 1);
	job pj[P], cj[C];
	rf_chan *pr[P], *cr[C];
	pthread_t pt[P], ct[C];
	for (int i = 0; i < C; i++) {
		cj[i] = (job){&m, -1};
		if (i % 2)
			RF_CHECK_EQ(rf_go(go_consume, rf_from_ptr(&m), &cr[i]), 0);
		else
			ct[i] = spawn_thread(thread_body, &cj[i]);
	}
	for (int i = 0; i < P; i++) {
		pj[i] = (job){&m, i};
		if (i % 2)
			RF_CHECK_EQ(rf_go(go_produce, rf_from_ptr(&pj[i]), &pr[i]), 0);
		else
			pt[i] = spawn_thread(thread_body, &pj[i]);
	}
	rf_val v;
	for (int i = 0; i < P; i++) {
		if (i % 2) {
			RF_CHECK_EQ(take5(pr[i], &v), 0);
			rf_chan_release(pr[i]);
		} else {
			void *r;
			pthread_join(pt[i], &r);
			RF_CHECK_EQ((intptr_t)r, 0);
		}
	}
	rf_chan_close(c);
	int64_t taken = 0;
	for (int i = 0; i < C; i++) {
		if (i % 2) {
			RF_CHECK_EQ(take5(cr[i], &v), 0);
			taken += v;
			rf_chan_release(cr[i]);
		} else {
			void *r;
			pthread_join(ct[i], &r);
			RF_CHECK_EQ((intptr_t)r, 0);
		}
	}
	int64_t n = P * PER;
	RF_CHECK(taken <= n); /* the go consumers' share */
	RF_CHECK_EQ(atomic_load(&m.sum), n * (n - 1) / 2);
	for (int64_t i = 0; i < n; i++)
		RF_CHECK_EQ(m.seen[i], 1);
	free((void *)m.seen);
}

static void test_mpmc(void **state)
{
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	run_mpmc(c);
	rf_chan_release(c);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 16, &c), 0);
	run_mpmc(c);
	rf_chan_release(c);
}

/* One consumer, producers on threads and go processes, a buffer of 3 (the ring wraps
 * every few values and is often full, so puts go pending and are moved in by takes): each
 * producer's values arrive in the order it put them, whether the consumer takes, polls
 * or alts, and a close after the last put still delivers every value. One producer puts
 * asynchronously before each blocking put, so a pending async put sits in front of it. */
enum { FIFO_P = 4, FIFO_PER = 20000 };

typedef struct fifo_prod {
	rf_chan *c;
	int id;
} fifo_prod;

static int fifo_produce(rf_val arg, rf_val *out)
{
	fifo_prod *p = rf_to_ptr(arg);
	for (int64_t i = 0; i < FIFO_PER; i++) {
		rf_val v = (rf_val)p->id << 32 | i;
		if (p->id == 0 && i % 2 == 0)
			RF_CHECK_EQ(rf_chan_put_async(p->c, v, NULL, RF_NIL), 0);
		else
			RF_CHECK_EQ(rf_chan_put(p->c, v), 0);
	}
	return 0;
}

static void *fifo_thread(void *arg)
{
	rf_val out;
	return (void *)(intptr_t)fifo_produce(rf_from_ptr(arg), &out);
}

static int fifo_next(rf_chan *c, rf_chan *idle, uint64_t k, rf_val *v)
{
	if (k % 3 == 1) {
		int rc = rf_chan_poll(c, v);
		if (rc != -EAGAIN)
			return rc;
	} else if (k % 3 == 2) {
		rf_alt ops[] = {{.ch = idle}, {.ch = c}};
		int which;
		int rc = rf_alts_timeout(ops, 2, 0, 10000, &which, v);
		RF_CHECK_EQ(which, 1);
		return rc;
	}
	return rf_chan_take_timeout(c, 10000, v);
}

static void test_fifo_per_producer(void **state)
{
	rf_chan *c, *idle;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 3, &c), 0);
	assert_int_equal(rf_chan_new(&idle), 0);
	fifo_prod p[FIFO_P];
	pthread_t t[FIFO_P];
	rf_chan *r[FIFO_P];
	for (int i = 0; i < FIFO_P; i++) {
		p[i] = (fifo_prod){c, i};
		if (i % 2)
			assert_int_equal(rf_go(fifo_produce, rf_from_ptr(&p[i]), &r[i]), 0);
		else
			t[i] = spawn_thread(fifo_thread, &p[i]);
	}
	int64_t next[FIFO_P] = {0};
	for (uint64_t k = 0; k < (uint64_t)FIFO_P * FIFO_PER; k++) {
		rf_val v;
		assert_int_equal(fifo_next(c, idle, k, &v), 0);
		int id = (int)(v >> 32);
		assert_true(id >= 0 && id < FIFO_P);
		assert_int_equal(v & 0xffffffff, next[id]);
		next[id]++;
	}
	for (int i = 0; i < FIFO_P; i++) {
		if (i % 2) {
			assert_int_equal(result_of(r[i]), 0);
		} else {
			void *rc;
			pthread_join(t[i], &rc);
			assert_int_equal((intptr_t)rc, 0);
		}
	}
	/* close with values buffered: they come out, then RF_ECLOSED */
	for (rf_val i = 1; i <= 3; i++)
		assert_int_equal(rf_chan_put(c, i), 0);
	rf_chan_close(c);
	assert_int_equal(rf_chan_put(c, 9), RF_ECLOSED);
	for (rf_val i = 1; i <= 3; i++) {
		rf_val v;
		assert_int_equal(rf_chan_take(c, &v), 0);
		assert_int_equal(v, i);
	}
	rf_val v;
	assert_int_equal(rf_chan_take(c, &v), RF_ECLOSED);
	rf_chan_release(c);
	rf_chan_release(idle);
}

/* Close while puts and takes race through a small buffer (the lock-free ring freezing
 * under them): every put that returned 0 is taken exactly once, none that returned
 * RF_ECLOSED is, and takers see RF_ECLOSED only once the buffer is drained. Producers
 * and takers run on threads and go processes; the close comes once a quarter of the
 * values went through. */
enum { RACE_P = 4, RACE_C = 4, RACE_PER = 20000 };

typedef struct race {
	rf_chan *c, *quarter; /* quarter: one put when a quarter of the values was taken */
	_Atomic uint8_t *put_ok, *taken;
	_Atomic int64_t ntaken;
} race;

typedef struct race_job {
	race *r;
	int id; /* producer id, or -1 for a taker */
} race_job;

static int race_body(rf_val arg, rf_val *out)
{
	race_job *j = rf_to_ptr(arg);
	race *r = j->r;
	rf_val v;
	if (j->id >= 0) {
		for (int i = 0; i < RACE_PER; i++) {
			v = (rf_val)j->id * RACE_PER + i;
			int rc = rf_chan_put(r->c, v);
			if (rc == RF_ECLOSED)
				return 0; /* and every later put would be refused too */
			RF_CHECK_EQ(rc, 0);
			atomic_store_explicit(&r->put_ok[v], 1, memory_order_relaxed);
		}
		return 0;
	}
	int rc;
	while ((rc = rf_chan_take(r->c, &v)) == 0) {
		RF_CHECK_EQ(atomic_fetch_add_explicit(&r->taken[v], 1, memory_order_relaxed), 0);
		if (atomic_fetch_add_explicit(&r->ntaken, 1, memory_order_relaxed) ==
		    RACE_P * RACE_PER / 4)
			RF_CHECK_EQ(rf_chan_offer(r->quarter, 1), 0);
	}
	RF_CHECK_EQ(rc, RF_ECLOSED);
	return 0;
}

static void *race_thread(void *arg)
{
	rf_val out;
	return (void *)(intptr_t)race_body(rf_from_ptr(arg), &out);
}

static void test_close_races_ring(void **state)
{
	race r = {0};
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 5, &r.c), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1, &r.quarter), 0);
	r.put_ok = calloc(RACE_P * RACE_PER, 1);
	r.taken = calloc(RACE_P * RACE_PER, 1);
	race_job jobs[RACE_P + RACE_C];
	pthread_t t[RACE_P + RACE_C];
	rf_chan *g[RACE_P + RACE_C];
	for (int i = 0; i < RACE_P + RACE_C; i++) {
		jobs[i] = (race_job){&r, i < RACE_P ? i : -1};
		if (i % 2)
			assert_int_equal(rf_go(race_body, rf_from_ptr(&jobs[i]), &g[i]), 0);
		else
			t[i] = spawn_thread(race_thread, &jobs[i]);
	}
	rf_val v;
	assert_int_equal(rf_chan_take_timeout(r.quarter, 30000, &v), 0);
	rf_chan_close(r.c);
	for (int i = 0; i < RACE_P + RACE_C; i++) {
		if (i % 2) {
			assert_int_equal(result_of(g[i]), 0);
		} else {
			void *rc;
			pthread_join(t[i], &rc);
			assert_int_equal((intptr_t)rc, 0);
		}
	}
	/* A put that returned 0 was accepted before the close: it was delivered. A value
	 * taken was put (put_ok is set after the put returned, so check taken => put_ok
	 * only once every producer is done). */
	for (int64_t i = 0; i < RACE_P * RACE_PER; i++)
		assert_int_equal(atomic_load(&r.taken[i]), atomic_load(&r.put_ok[i]));
	free((void *)r.put_ok);
	free((void *)r.taken);
	rf_chan_release(r.c);
	rf_chan_release(r.quarter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alts_basic),
	    cmocka_unit_test(test_alts_fairness_priority),
	    cmocka_unit_test(test_alts_same_channel),
	    cmocka_unit_test(test_alts_timeout_chan),
	    cmocka_unit_test(test_alts_on_fiber),
	    cmocka_unit_test(test_alts_exactly_once),
	    cmocka_unit_test(test_mpmc),
	    cmocka_unit_test(test_fifo_per_producer),
	    cmocka_unit_test(test_close_races_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
