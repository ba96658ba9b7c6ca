/* perf/chan/bench_chan.c: channels and go processes beside a mutex+condvar queue in C.
 * (Go's channels run from perf/chan/run-peers.)
 *
 *   chan_100go_1e6  the tutorial: 100 go processes take 1e6 numbers from a channel of 100
 *                   that one go process fills; ns per value
 *   chan_pingpong   two go processes bounce a value over two unbuffered channels; ns per
 *                   round trip
 *   chan_select     one go process alts over two channels that two go processes fill;
 *                   ns per value
 * Timeout channels: bench_timeout.c.
 * The peer "pthread" is the same shape on plain threads with a mutex+condvar bounded queue
 * (capacity 1 standing in for unbuffered; select = one lock and condvar over two queues).
 */
#include <pthread.h>
#include <stdlib.h>

#include <ringfold.h>

#include "harness.h"

void bench_timeouts(void); /* bench_timeout.c */

/* ---- ringfold ---- */

typedef struct rf_args {
	rf_chan *a, *b;
	uint64_t n;
} rf_args;

static int sum_taker(rf_val arg, rf_val *sum)
{
	rf_val v;
	while (rf_chan_take(rf_to_ptr(arg), &v) == 0)
		*sum += v;
	return 0;
}

static int fill(rf_val arg, rf_val *out)
{
	rf_args *a = rf_to_ptr(arg);
	for (uint64_t i = 0; i < a->n; i++)
		rf_chan_put(a->a, (rf_val)i);
	rf_chan_close(a->a);
	return 0;
}

/* Each benchmark body runs in a root go process, as Go's run in the main goroutine: the
 * processes it starts begin on its worker (SCHED_WORKER_ANY from a fiber). */
typedef struct root_args {
	uint64_t ops;
	uint64_t ns;
} root_args;

static uint64_t in_root(rf_body_fn body, uint64_t ops)
{
	root_args r = {.ops = ops};
	rf_chan *done;
	rf_val v;
	if (rf_go(body, rf_from_ptr(&r), &done) < 0 || rf_chan_take(done, &v) < 0)
		abort();
	rf_chan_release(done);
	return r.ns;
}

static int root_100go(rf_val arg, rf_val *out)
{
	root_args *r = rf_to_ptr(arg);
	rf_args a = {.n = r->ops};
	rf_chan *parts[100], *prod;
	rf_chan_new_buf(RF_BUF_FIXED, 100, &a.a);
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < 100; i++)
		rf_go(sum_taker, rf_from_ptr(a.a), &parts[i]);
	rf_go(fill, rf_from_ptr(&a), &prod);
	rf_val sum = 0, part;
	for (int i = 0; i < 100; i++) {
		rf_chan_take(parts[i], &part);
		sum += part;
		rf_chan_release(parts[i]);
	}
	r->ns = bench_now_ns() - t0;
	if (sum != (rf_val)(r->ops * (r->ops - 1) / 2))
		abort();
	rf_chan_release(prod);
	rf_chan_release(a.a);
	return 0;
}

static uint64_t rf_100go(uint64_t ops, void *unused)
{
	return in_root(root_100go, ops);
}

static int ponger(rf_val arg, rf_val *out)
{
	rf_args *a = rf_to_ptr(arg);
	rf_val v;
	while (rf_chan_take(a->a, &v) == 0)
		rf_chan_put(a->b, v + 1);
	return 0;
}

static int pinger(rf_val arg, rf_val *out)
{
	rf_args *a = rf_to_ptr(arg);
	rf_val v = 0;
	for (uint64_t i = 0; i < a->n; i++) {
		rf_chan_put(a->a, v);
		rf_chan_take(a->b, &v);
	}
	rf_chan_close(a->a);
	*out = v;
	return 0;
}

static int root_pingpong(rf_val arg, rf_val *out)
{
	root_args *r = rf_to_ptr(arg);
	rf_args a = {.n = r->ops};
	rf_chan_new(&a.a);
	rf_chan_new(&a.b);
	rf_chan *pong, *ping;
	uint64_t t0 = bench_now_ns();
	rf_go(ponger, rf_from_ptr(&a), &pong);
	rf_go(pinger, rf_from_ptr(&a), &ping);
	rf_val v;
	rf_chan_take(ping, &v);
	rf_chan_take(pong, &v);
	r->ns = bench_now_ns() - t0;
	rf_chan_release(ping);
	rf_chan_release(pong);
	rf_chan_release(a.a);
	rf_chan_release(a.b);
	return 0;
}

static uint64_t rf_pingpong(uint64_t ops, void *unused)
{
	return in_root(root_pingpong, ops);
}

static int fill_one(rf_val arg, rf_val *out)
{
	rf_args *a = rf_to_ptr(arg);
	for (uint64_t i = 0; i < a->n; i++)
		rf_chan_put(a->a, 1);
	rf_chan_close(a->a);
	return 0;
}

static int selector(rf_val arg, rf_val *out)
{
	rf_args *a = rf_to_ptr(arg);
	rf_alt ops[] = {{.ch = a->a}, {.ch = a->b}};
	int open = 2, which;
	rf_val v, sum = 0;
	while (open > 0) {
		if (rf_alts(ops, 2, 0, &which, &v) == RF_ECLOSED) {
			open--;
			ops[which] = ops[1 - which]; /* both clauses on the open one */
			continue;
		}
		sum += v;
	}
	*out = sum;
	return 0;
}

static int root_select(rf_val arg, rf_val *out)
{
	root_args *r = rf_to_ptr(arg);
	uint64_t ops = r->ops;
	rf_args x = {.n = ops / 2}, y = {.n = ops / 2}, s;
	rf_chan_new_buf(RF_BUF_FIXED, 64, &x.a);
	rf_chan_new_buf(RF_BUF_FIXED, 64, &y.a);
	s = (rf_args){.a = x.a, .b = y.a};
	rf_chan *px, *py, *ps;
	uint64_t t0 = bench_now_ns();
	rf_go(selector, rf_from_ptr(&s), &ps);
	rf_go(fill_one, rf_from_ptr(&x), &px);
	rf_go(fill_one, rf_from_ptr(&y), &py);
	rf_val sum;
	rf_chan_take(ps, &sum);
	r->ns = bench_now_ns() - t0;
	if (sum != (rf_val)(ops / 2 * 2))
		abort();
	rf_chan_release(px);
	rf_chan_release(py);
	rf_chan_release(ps);
	rf_chan_release(x.a);
	rf_chan_release(y.a);
	return 0;
}

static uint64_t rf_select(uint64_t ops, void *unused)
{
	return in_root(root_select, ops);
}

/* ---- the peer: mutex + condvar bounded queues on threads ---- */

typedef struct q {
	pthread_mutex_t *lock;
	pthread_cond_t *not_empty, not_full;
	int64_t *buf;
	size_t cap, head, count;
	bool closed;
} q;

static void q_init(q *x, size_t cap, pthread_mutex_t *lock, pthread_cond_t *not_empty)
{
	*x = (q){.lock = lock, .not_empty = not_empty, .cap = cap};
	x->buf = malloc(cap * sizeof(int64_t));
	pthread_cond_init(&x->not_full, NULL);
}

static void q_put(q *x, int64_t v)
{
	pthread_mutex_lock(x->lock);
	while (x->count == x->cap)
		pthread_cond_wait(&x->not_full, x->lock);
	x->buf[(x->head + x->count++) % x->cap] = v;
	pthread_cond_signal(x->not_empty);
	pthread_mutex_unlock(x->lock);
}

/* Under lock, count > 0. */
static int64_t q_pop(q *x)
{
	int64_t v = x->buf[x->head];
	x->head = (x->head + 1) % x->cap;
	x->count--;
	pthread_cond_signal(&x->not_full);
	return v;
}

static bool q_take(q *x, int64_t *v)
{
	pthread_mutex_lock(x->lock);
	while (x->count == 0 && !x->closed)
		pthread_cond_wait(x->not_empty, x->lock);
	bool ok = x->count > 0;
	if (ok)
		*v = q_pop(x);
	pthread_mutex_unlock(x->lock);
	return ok;
}

static void q_close(q *x)
{
	pthread_mutex_lock(x->lock);
	x->closed = true;
	pthread_cond_broadcast(x->not_empty);
	pthread_mutex_unlock(x->lock);
}

static void q_destroy(q *x)
{
	free(x->buf);
	pthread_cond_destroy(&x->not_full);
}

typedef struct pt_args {
	q *a, *b;
	uint64_t n;
	int64_t sum;
} pt_args;

static void *pt_taker(void *arg)
{
	pt_args *p = arg;
	int64_t v;
	while (q_take(p->a, &v))
		p->sum += v;
	return NULL;
}

static void *pt_fill(void *arg)
{
	pt_args *p = arg;
	for (uint64_t i = 0; i < p->n; i++)
		q_put(p->a, (int64_t)i);
	q_close(p->a);
	return NULL;
}

static uint64_t pt_100go(uint64_t ops, void *unused)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t ne = PTHREAD_COND_INITIALIZER;
	q x;
	q_init(&x, 100, &lock, &ne);
	pt_args takers[100], prod = {.a = &x, .n = ops};
	pthread_t tt[100], tp;
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < 100; i++) {
		takers[i] = (pt_args){.a = &x};
		pthread_create(&tt[i], NULL, pt_taker, &takers[i]);
	}
	pthread_create(&tp, NULL, pt_fill, &prod);
	int64_t sum = 0;
	for (int i = 0; i < 100; i++) {
		pthread_join(tt[i], NULL);
		sum += takers[i].sum;
	}
	uint64_t ns = bench_now_ns() - t0;
	pthread_join(tp, NULL);
	if (sum != (int64_t)(ops * (ops - 1) / 2))
		abort();
	q_destroy(&x);
	return ns;
}

static void *pt_ponger(void *arg)
{
	pt_args *p = arg;
	int64_t v;
	while (q_take(p->a, &v))
		q_put(p->b, v + 1);
	return NULL;
}

static uint64_t pt_pingpong(uint64_t ops, void *unused)
{
	pthread_mutex_t la = PTHREAD_MUTEX_INITIALIZER, lb = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t na = PTHREAD_COND_INITIALIZER, nb = PTHREAD_COND_INITIALIZER;
	q a, b;
	q_init(&a, 1, &la, &na);
	q_init(&b, 1, &lb, &nb);
	pt_args p = {.a = &a, .b = &b};
	pthread_t t;
	uint64_t t0 = bench_now_ns();
	pthread_create(&t, NULL, pt_ponger, &p);
	int64_t v = 0;
	for (uint64_t i = 0; i < ops; i++) {
		q_put(&a, v);
		q_take(&b, &v);
	}
	q_close(&a);
	pthread_join(t, NULL);
	uint64_t ns = bench_now_ns() - t0;
	if (v != (int64_t)ops)
		abort();
	q_destroy(&a);
	q_destroy(&b);
	return ns;
}

static uint64_t pt_select(uint64_t ops, void *unused)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t ne = PTHREAD_COND_INITIALIZER;
	q x, y;
	q_init(&x, 64, &lock, &ne);
	q_init(&y, 64, &lock, &ne);
	pt_args px = {.a = &x, .n = ops / 2}, py = {.a = &y, .n = ops / 2};
	pthread_t tx, ty;
	uint64_t t0 = bench_now_ns();
	pthread_create(&tx, NULL, pt_fill, &px);
	pthread_create(&ty, NULL, pt_fill, &py);
	int64_t sum = 0;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (x.count == 0 && y.count == 0 && !(x.closed && y.closed))
			pthread_cond_wait(&ne, &lock);
		if (x.count == 0 && y.count == 0)
			break;
		q *from = x.count && y.count ? ((sum & 1) ? &x : &y) : x.count ? &x : &y;
		(void)q_pop(from);
		sum++;
	}
	pthread_mutex_unlock(&lock);
	pthread_join(tx, NULL);
	pthread_join(ty, NULL);
	uint64_t ns = bench_now_ns() - t0;
	if (sum != (int64_t)(ops / 2 * 2))
		abort();
	q_destroy(&x);
	q_destroy(&y);
	return ns;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("chan_100go_1e6")) {
		bench_run("chan_100go_1e6", "ringfold", 1000000, rf_100go, NULL);
		bench_run("chan_100go_1e6", "pthread", 1000000, pt_100go, NULL);
	}
	if (bench_wanted("chan_pingpong")) {
		bench_run("chan_pingpong", "ringfold", 200000, rf_pingpong, NULL);
		bench_run("chan_pingpong", "pthread", 200000, pt_pingpong, NULL);
	}
	if (bench_wanted("chan_select")) {
		bench_run("chan_select", "ringfold", 1000000, rf_select, NULL);
		bench_run("chan_select", "pthread", 1000000, pt_select, NULL);
	}
	bench_timeouts();
	return 0;
}
