/* tests/chan/test_chan.c: channel semantics (buffers, close, forms of put/take, limits). */
#include "chan_test.h"

static void test_bad_input(void **state)
{
	rf_chan *c;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 0, &c), -EINVAL);
	assert_int_equal(rf_chan_new_buf(RF_BUF_SLIDING, 0, &c), -EINVAL);
	assert_int_equal(rf_chan_new_buf((rf_buf_kind)9, 4, &c), -EINVAL);
	assert_int_equal(rf_chan_new(NULL), -EINVAL);
	rf_xform xf = rf_xform_take(1);
	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 0, &xf, &c), -EINVAL);
	assert_int_equal(rf_chan_put(NULL, 1), -EINVAL);
	rf_val v;
	assert_int_equal(rf_chan_take(NULL, &v), -EINVAL);
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_chan_take_timeout(c, -1, &v), -EINVAL);
	assert_int_equal(rf_chan_put_timeout(c, 1, -5), -EINVAL);
	assert_int_equal(rf_chan_take_async(c, NULL, 0), -EINVAL);
	assert_int_equal(rf_chan_timeout(-1, &c), -EINVAL);
	assert_int_equal(rf_go(NULL, 0, NULL), -EINVAL);
	rf_chan_release(c);
	rf_chan_release(NULL);
}

/* Owning channels: every value still buffered, or offered by a pending put_async, when
 * the last reference goes is released exactly once; a taken value is the taker's; a put
 * refused by a closed channel is not taken. Values are heap boxes, so ASan sees a leak or
 * a double free. */
static _Atomic int released;
static void release_box(rf_val v, rf_val ctx)
{
	assert_int_equal(ctx, 77); /* the test's own thread: the last reference is ours */
	free(rf_to_ptr(v));
	atomic_fetch_add(&released, 1);
}
static rf_val box(int64_t n)
{
	int64_t *p = malloc(sizeof(*p));
	*p = n;
	return rf_from_ptr(p);
}

static void test_owning_release(void **state)
{
	rf_chan_opts o = {.size = sizeof(o),
	                  .kind = RF_BUF_FIXED,
	                  .n = 8,
	                  .release = release_box,
	                  .release_ctx = 77};
	rf_chan *c;
	atomic_store(&released, 0);
	assert_int_equal(rf_chan_new_opts(&o, &c), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0);
	rf_val v;
	assert_int_equal(rf_chan_take(c, &v), 0); /* now ours */
	assert_int_equal(*(int64_t *)rf_to_ptr(v), 0);
	free(rf_to_ptr(v));
	rf_chan_retain(c); /* a second owner keeps it alive */
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 0);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 4);

	/* Unbuffered: a pending put_async's value was accepted, so it is released too. */
	atomic_store(&released, 0);
	o.kind = RF_BUF_NONE;
	assert_int_equal(rf_chan_new_opts(&o, &c), 0);
	assert_int_equal(rf_chan_put_async(c, box(9), NULL, 0), 0);
	rf_chan_close(c);
	rf_val refused = box(10);
	assert_int_equal(rf_chan_put(c, refused), RF_ECLOSED); /* not taken: still ours */
	free(rf_to_ptr(refused));
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 1);

	/* Every kind may own its values (tests/chan/test_release.c); a transformation still
	 * needs a buffer. */
	rf_xform xf = rf_xform_take(1);
	o.xform = &xf;
	assert_int_equal(rf_chan_new_opts(&o, &c), -EINVAL);
	assert_int_equal(rf_chan_new_opts(&(rf_chan_opts){.kind = RF_BUF_FIXED, .n = 1}, &c),
	                 -EINVAL);                       /* size unset */
	assert_int_equal(rf_chan_new_opts(NULL, &c), 0); /* defaults: unbuffered */
	assert_int_equal(rf_chan_offer(c, 1), -EAGAIN);
	rf_chan_release(c);
}

/* A channel in the caller's memory: destroy refuses while a go process holds it,
 * releases what is left once it is the only reference. */
static int take_then_hold(rf_val arg, rf_val *out)
{
	rf_chan *c = rf_to_ptr(arg);
	rf_val v;
	int rc = rf_chan_take(c, &v);
	if (rc == 0)
		free(rf_to_ptr(v));
	rf_chan_release(c);
	*out = rc;
	return 0;
}

static void test_init_destroy(void **state)
{
	rf_chan_mem mem;
	rf_chan *c;
	rf_chan_opts o = {.size = sizeof(o),
	                  .kind = RF_BUF_FIXED,
	                  .n = 4,
	                  .release = release_box,
	                  .release_ctx = 77};
	atomic_store(&released, 0);
	assert_int_equal(rf_chan_init(NULL, &o, &c), -EINVAL);
	assert_int_equal(rf_chan_init(&mem, &o, NULL), -EINVAL);
	assert_int_equal(rf_chan_init(&mem, &o, &c), 0);
	rf_chan *done;
	assert_int_equal(rf_go(take_then_hold, rf_from_ptr(rf_chan_retain(c)), &done), 0);
	/* The go process holds a reference while it waits on the empty channel. */
	assert_int_equal(rf_chan_destroy(c), -EBUSY);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0);
	rf_val got = -1;
	assert_int_equal(rf_chan_take_timeout(done, 10000, &got), 0);
	assert_int_equal(got, 0); /* it took one and let go of the channel */
	assert_int_equal(atomic_load(&released), 0);
	assert_int_equal(rf_chan_destroy(c), 0);
	assert_int_equal(atomic_load(&released), 2); /* the two left, once each */
	rf_chan_release(done);
	rf_chan *heap;
	assert_int_equal(rf_chan_new(&heap), 0);
	assert_int_equal(rf_chan_destroy(heap), -EINVAL); /* not from rf_chan_init */
	assert_int_equal(rf_chan_destroy(NULL), -EINVAL);
	rf_chan_release(heap);
}

static void *take_one(void *arg)
{
	rf_val v = -1;
	int rc = take5(arg, &v);
	return (void *)(intptr_t)(rc ? rc : v);
}

static void test_unbuffered(void **state)
{
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_chan_offer(c, 1), -EAGAIN); /* nobody takes */
	assert_int_equal(rf_chan_put_timeout(c, 1, 0), -ETIMEDOUT);
	assert_int_equal(rf_chan_put_timeout(c, 1, 20), -ETIMEDOUT);
	rf_val v;
	assert_int_equal(rf_chan_poll(c, &v), -EAGAIN);
	pthread_t t = spawn_thread(take_one, c);
	assert_int_equal(put5(c, 0), 0); /* 0 is a value like any other */
	void *r;
	pthread_join(t, &r);
	assert_int_equal((intptr_t)r, 0);
	t = spawn_thread(take_one, c);
	assert_int_equal(put5(c, 42), 0);
	pthread_join(t, &r);
	assert_int_equal((intptr_t)r, 42);
	rf_chan_release(c);
}

static void test_buffers(void **state)
{
	rf_chan *f, *d, *s;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 3, &f), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_DROPPING, 3, &d), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_SLIDING, 3, &s), 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(rf_chan_offer(f, i), 0);
	assert_int_equal(rf_chan_offer(f, 4), -EAGAIN);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(rf_chan_put(d, i), 0); /* never waits */
		assert_int_equal(rf_chan_put(s, i), 0);
	}
	rf_val v;
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(rf_chan_poll(f, &v), 0);
		assert_int_equal(v, i);
		assert_int_equal(rf_chan_poll(d, &v), 0);
		assert_int_equal(v, i); /* dropping keeps the first n */
		assert_int_equal(rf_chan_poll(s, &v), 0);
		assert_int_equal(v, i + 2); /* sliding keeps the last n */
	}
	assert_int_equal(rf_chan_poll(f, &v), -EAGAIN);
	/* a big buffer fills to exactly n */
	rf_chan *big;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1000, &big), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rf_chan_offer(big, i), 0);
	assert_int_equal(rf_chan_offer(big, 1000), -EAGAIN);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(rf_chan_poll(big, &v), 0);
		assert_int_equal(v, i);
	}
	rf_chan_release(big);
	rf_chan_release(f);
	rf_chan_release(d);
	rf_chan_release(s);
}

static void test_promise(void **state)
{
	rf_chan *p;
	assert_int_equal(rf_chan_new_promise(NULL, &p), 0);
	rf_val v;
	assert_int_equal(rf_chan_poll(p, &v), -EAGAIN);
	pthread_t t1 = spawn_thread(take_one, p), t2 = spawn_thread(take_one, p);
	assert_int_equal(rf_chan_put(p, 7), 0);
	assert_int_equal(rf_chan_put(p, 8), 0); /* accepted, ignored */
	void *r1, *r2;
	pthread_join(t1, &r1);
	pthread_join(t2, &r2);
	assert_int_equal((intptr_t)r1, 7);
	assert_int_equal((intptr_t)r2, 7);
	rf_chan_close(p);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(take5(p, &v), 0);
		assert_int_equal(v, 7);
	}
	assert_int_equal(rf_chan_put(p, 9), RF_ECLOSED);
	rf_chan_release(p);
	assert_int_equal(rf_chan_new_promise(NULL, &p), 0);
	rf_chan_close(p);
	assert_int_equal(take5(p, &v), RF_ECLOSED);
	rf_chan_release(p);
}

typedef struct cb_rec {
	_Atomic int calls;
	int rc;
	rf_val v;
} cb_rec;

static void record(int rc, rf_val v, rf_val ctx)
{
	void *arg = rf_to_ptr(ctx);
	cb_rec *r = arg;
	r->rc = rc;
	r->v = v;
	atomic_fetch_add(&r->calls, 1);
}

static void test_close(void **state)
{
	rf_chan *c;
	rf_val v;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 2, &c), 0);
	assert_int_equal(rf_chan_put(c, 1), 0);
	assert_int_equal(rf_chan_put(c, 2), 0);
	cb_rec pending = {0};
	assert_int_equal(rf_chan_put_async(c, 5, record, rf_from_ptr(&pending)),
	                 0); /* waits: buffer full */
	rf_chan_close(c);
	assert_true(rf_chan_closed(c));
	rf_chan_close(c); /* twice: harmless */
	assert_int_equal(rf_chan_put(c, 3), RF_ECLOSED);
	assert_int_equal(rf_chan_offer(c, 3), RF_ECLOSED);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(take5(c, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(atomic_load(&pending.calls), 1); /* moved into the buffer */
	assert_int_equal(pending.rc, 0);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(rf_chan_poll(c, &v), RF_ECLOSED);
	rf_chan_release(c);

	/* a put pending on an unbuffered channel before close is still delivered */
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_chan_put_async(c, 11, NULL, 0), 0);
	rf_chan_close(c);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(take5(c, &v), RF_ECLOSED);
	rf_chan_release(c);

	/* pending takes see the close */
	assert_int_equal(rf_chan_new(&c), 0);
	void *r;
	pthread_t t = spawn_thread(take_one, c);
	pthread_t t2 = spawn_thread(take_one, c);
	sched_sleep_until(time_now_ns() + 10000000);
	rf_chan_close(c);
	pthread_join(t, &r);
	assert_int_equal((intptr_t)r, RF_ECLOSED);
	pthread_join(t2, &r);
	assert_int_equal((intptr_t)r, RF_ECLOSED);
	rf_chan_release(c);
}

static void test_callbacks(void **state)
{
	rf_chan *c;
	rf_val v;
	cb_rec r = {0};
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_chan_take_async(c, record, rf_from_ptr(&r)), 0);
	assert_int_equal(atomic_load(&r.calls), 0); /* queued */
	assert_int_equal(rf_chan_put(c, 33), 0);    /* completes the take: cb runs here */
	assert_int_equal(atomic_load(&r.calls), 1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.v, 33);

	cb_rec p = {0};
	assert_int_equal(rf_chan_put_async(c, 44, record, rf_from_ptr(&p)), 0);
	assert_int_equal(atomic_load(&p.calls), 0);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 44);
	assert_int_equal(atomic_load(&p.calls), 1);
	assert_int_equal(p.rc, 0);

	/* completes at once: runs right away on the caller */
	cb_rec q = {0};
	rf_chan *b;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1, &b), 0);
	assert_int_equal(rf_chan_put_async(b, 5, record, rf_from_ptr(&q)), 0);
	assert_int_equal(atomic_load(&q.calls), 1);
	cb_rec t = {0};
	assert_int_equal(rf_chan_take_async(b, record, rf_from_ptr(&t)), 0);
	assert_int_equal(atomic_load(&t.calls), 1);
	assert_int_equal(t.v, 5);
	rf_chan_close(b);
	cb_rec x = {0};
	assert_int_equal(rf_chan_put_async(b, 6, record, rf_from_ptr(&x)), RF_ECLOSED);
	assert_int_equal(atomic_load(&x.calls), 1);
	assert_int_equal(x.rc, RF_ECLOSED);
	cb_rec y = {0};
	assert_int_equal(rf_chan_take_async(b, record, rf_from_ptr(&y)), 0);
	assert_int_equal(y.rc, RF_ECLOSED);
	/* close completes a queued take with RF_ECLOSED */
	cb_rec z = {0};
	assert_int_equal(rf_chan_take_async(c, record, rf_from_ptr(&z)), 0);
	rf_chan_close(c);
	assert_int_equal(atomic_load(&z.calls), 1);
	assert_int_equal(z.rc, RF_ECLOSED);
	rf_chan_release(b);
	rf_chan_release(c);
}

static void test_pending_limit(void **state)
{
	rf_chan *c;
	rf_val v;
	assert_int_equal(rf_chan_new(&c), 0);
	uint32_t limit = sched_config()->chan_pending_limit;
	for (uint32_t i = 0; i < limit; i++)
		assert_int_equal(rf_chan_put_async(c, i, NULL, 0), 0);
	assert_int_equal(rf_chan_put_async(c, -1, NULL, 0), RF_EPENDINGLIMIT);
	assert_int_equal(rf_chan_put_timeout(c, -1, 100), RF_EPENDINGLIMIT);
	for (uint32_t i = 0; i < limit; i++) {
		assert_int_equal(rf_chan_poll(c, &v), 0);
		assert_int_equal(v, (rf_val)i); /* FIFO */
	}
	/* takes likewise; a withdrawn (timed out) take frees its slot */
	cb_rec r = {0};
	for (uint32_t i = 0; i < limit - 1; i++)
		assert_int_equal(rf_chan_take_async(c, record, rf_from_ptr(&r)), 0);
	assert_int_equal(rf_chan_take_timeout(c, 10, &v), -ETIMEDOUT);
	assert_int_equal(rf_chan_take_async(c, record, rf_from_ptr(&r)), 0);
	assert_int_equal(rf_chan_take_async(c, record, rf_from_ptr(&r)), RF_EPENDINGLIMIT);
	rf_chan_close(c);
	assert_int_equal(atomic_load(&r.calls), (int)limit);
	rf_chan_release(c);
}

static int twice(rf_val v, rf_val *out)
{
	*out = 2 * v;
	return 0;
}

static int is_even(rf_val v, rf_val *out)
{
	*out = v % 2 == 0;
	return v == 13 ? -EDOM : 0; /* an error drops the value */
}

static int dup_step(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_xform_emit(sink, v);
	rf_xform_emit(sink, v);
	return 0;
}

static void flush_sentinel(rf_xform *xf, rf_xform_sink *sink)
{
	rf_xform_emit(sink, -1);
}

static void test_xform(void **state)
{
	rf_chan *c;
	rf_val v;
	rf_xform map = rf_xform_map(twice), filter = rf_xform_filter(is_even);
	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 4, &map, &c), 0);
	assert_int_equal(rf_chan_put(c, 21), 0);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 42);
	rf_chan_release(c);

	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 4, &filter, &c), 0);
	for (int i = 10; i < 16; i++)
		assert_int_equal(rf_chan_put(c, i), 0);
	rf_chan_close(c);
	for (int want = 10; want < 16; want += 2) {
		assert_int_equal(take5(c, &v), 0);
		assert_int_equal(v, want);
	}
	assert_int_equal(take5(c, &v), RF_ECLOSED);
	rf_chan_release(c);

	/* (take 3): the third value closes; pending puts are accepted and dropped */
	rf_xform take3 = rf_xform_take(3);
	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 1, &take3, &c), 0);
	assert_int_equal(rf_chan_put(c, 1), 0);
	cb_rec p2 = {0}, p3 = {0}, p4 = {0};
	assert_int_equal(rf_chan_put_async(c, 2, record, rf_from_ptr(&p2)), 0);
	assert_int_equal(rf_chan_put_async(c, 3, record, rf_from_ptr(&p3)), 0);
	assert_int_equal(rf_chan_put_async(c, 4, record, rf_from_ptr(&p4)), 0);
	assert_false(rf_chan_closed(c));
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 2);
	assert_true(rf_chan_closed(c)); /* 3 went in and ended the transformation */
	assert_int_equal(p4.calls, 1);
	assert_int_equal(p4.rc, 0);
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(take5(c, &v), RF_ECLOSED);
	assert_int_equal(rf_chan_put(c, 5), RF_ECLOSED);
	rf_chan_release(c);

	/* an expanding step overfills the buffer; flush emits at close */
	rf_xform dup = {.step = dup_step, .flush = flush_sentinel};
	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, 1, &dup, &c), 0);
	assert_int_equal(rf_chan_offer(c, 7), 0);
	assert_int_equal(rf_chan_offer(c, 8), -EAGAIN);
	rf_chan_close(c);
	rf_val want[] = {7, 7, -1};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(take5(c, &v), 0);
		assert_int_equal(v, want[i]);
	}
	assert_int_equal(take5(c, &v), RF_ECLOSED);
	rf_chan_release(c);
}

static int answer(rf_val arg, rf_val *out)
{
	*out = arg + 1;
	return 0;
}

static int body_fails(rf_val arg, rf_val *out)
{
	return -EDOM;
}

static int go_pingpong(rf_val arg, rf_val *out)
{
	rf_chan *c = rf_to_ptr(arg);
	rf_val v;
	int rc = rf_chan_take(c, &v);
	if (rc < 0)
		return rc;
	*out = v * 10;
	return 0;
}

static void test_go(void **state)
{
	rf_chan *r;
	rf_val v;
	assert_int_equal(rf_go(answer, 41, &r), 0);
	assert_int_equal(take5(r, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(take5(r, &v), RF_ECLOSED);
	rf_chan_release(r);
	assert_int_equal(rf_go(body_fails, 0, &r), 0);
	assert_int_equal(take5(r, &v), -EDOM);
	rf_chan_release(r);
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	assert_int_equal(rf_go(go_pingpong, rf_from_ptr(c), &r), 0);
	assert_int_equal(put5(c, 7), 0);
	assert_int_equal(result_of(r), 70);
	rf_chan_release(c);
	assert_int_equal(rf_go(answer, 0, NULL), 0); /* no result channel wanted */
}

static void test_timeout(void **state)
{
	rf_chan *t;
	rf_val v;
	uint64_t t0 = time_now_ns();
	assert_int_equal(rf_chan_timeout(30, &t), 0);
	assert_int_equal(take5(t, &v), RF_ECLOSED);
	assert_true(time_now_ns() - t0 >= 30000000u);
	rf_chan_release(t);
	rf_chan *e;
	assert_int_equal(rf_chan_new(&e), 0);
	t0 = time_now_ns();
	assert_int_equal(rf_chan_take_timeout(e, 20, &v), -ETIMEDOUT);
	assert_true(time_now_ns() - t0 >= 20000000u);
	rf_chan_release(e);

	/* many timeouts, armed out of order, all close, each no earlier than asked */
	enum { N = 2000 };
	static rf_chan *ts[N];
	static uint64_t due[N];
	t0 = time_now_ns();
	for (int i = 0; i < N; i++) {
		int64_t ms = (i * 7919) % 50;
		due[i] = t0 + (uint64_t)ms * 1000000u;
		assert_int_equal(rf_chan_timeout(ms, &ts[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(take5(ts[i], &v), RF_ECLOSED);
		assert_true(time_now_ns() >= due[i]);
		rf_chan_release(ts[i]);
	}
}

/* The limit is a knob: a channel takes it from the configuration the runtime started with.
 * Runs last: it restarts the runtime. */
static void test_pending_limit_config(void **state)
{
	rf_shutdown();
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.chan_pending_limit = 8;
	assert_int_equal(rf_init(&cfg), 0);
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rf_chan_put_async(c, i, NULL, 0), 0);
	assert_int_equal(rf_chan_put_async(c, 8, NULL, 0), RF_EPENDINGLIMIT);
	rf_alt ops[] = {{.ch = c, .put = true, .val = 9}};
	int which;
	assert_int_equal(rf_alts(ops, 1, 0, &which, NULL), RF_EPENDINGLIMIT);
	rf_val v;
	assert_int_equal(rf_chan_poll(c, &v), 0);
	assert_int_equal(v, 0);
	rf_chan_close(c);
	rf_chan_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_owning_release),
	    cmocka_unit_test(test_init_destroy),
	    cmocka_unit_test(test_unbuffered),
	    cmocka_unit_test(test_buffers),
	    cmocka_unit_test(test_promise),
	    cmocka_unit_test(test_close),
	    cmocka_unit_test(test_callbacks),
	    cmocka_unit_test(test_pending_limit),
	    cmocka_unit_test(test_xform),
	    cmocka_unit_test(test_go),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_pending_limit_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
