/* tests/chan/test_release.c: owning channels of every buffer kind release each accepted
 * value that no taker got exactly once, with no channel lock held.
 *
 * Values are heap boxes counted in `live`: a box is made by box(), freed by the release
 * function or by the test once a take gave it. ASan reports a leak or a double free; the
 * counters check the exact number of releases at each step. The release function checks
 * (debug builds) that no ranked lock is held: no spin lock, no transformed channel's
 * mutex.
 */
#include "chan_test.h"

#include "runtime/base/lockrank.h"

static _Atomic long live, released;

static rf_val box(int64_t n)
{
	int64_t *p = malloc(sizeof(*p));
	RF_CHECK(p);
	*p = n;
	atomic_fetch_add(&live, 1);
	return rf_from_ptr(p);
}

static int64_t unbox(rf_val v)
{
	return *(int64_t *)rf_to_ptr(v);
}

/* The taker owns what it took. */
static void drop_taken(rf_val v)
{
	free(rf_to_ptr(v));
	atomic_fetch_sub(&live, 1);
}

static void release_box(rf_val v, rf_val ctx)
{
	LOCKRANK_NONE_HELD("a channel's release function");
	RF_CHECK_EQ(ctx, 77);
	free(rf_to_ptr(v));
	atomic_fetch_sub(&live, 1);
	atomic_fetch_add(&released, 1);
}

static void reset(void)
{
	atomic_store(&live, 0);
	atomic_store(&released, 0);
}

static rf_chan *owning(rf_buf_kind kind, size_t n, const rf_xform *xf)
{
	rf_chan_opts o = {.size = sizeof(o),
	                  .kind = kind,
	                  .n = n,
	                  .xform = xf,
	                  .release = release_box,
	                  .release_ctx = 77};
	rf_chan *c = NULL;
	assert_int_equal(rf_chan_new_opts(&o, &c), 0);
	return c;
}

static void take_expect(rf_chan *c, int64_t n)
{
	rf_val v;
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(unbox(v), n);
	drop_taken(v);
}

static void test_fixed(void **state)
{
	reset();
	rf_chan *c = owning(RF_BUF_FIXED, 2, NULL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0);
	assert_int_equal(rf_chan_offer(c, 1), -EAGAIN); /* full: not accepted, nothing owned */
	assert_int_equal(rf_chan_put_async(c, box(2), NULL, 0), 0); /* pending: accepted */
	take_expect(c, 0);                                          /* refills from the put */
	assert_int_equal(atomic_load(&released), 0);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 2);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_dropping(void **state)
{
	reset();
	rf_chan *c = owning(RF_BUF_DROPPING, 2, NULL);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0); /* 2, 3, 4 dropped on the spot */
	assert_int_equal(atomic_load(&released), 3);
	rf_alt put = {.ch = c, .put = true, .val = box(5)};
	int which;
	assert_int_equal(rf_alts(&put, 1, 0, &which, NULL), 0); /* an alts put dropped too */
	assert_int_equal(atomic_load(&released), 4);
	take_expect(c, 0);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 5);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_sliding(void **state)
{
	reset();
	rf_chan *c = owning(RF_BUF_SLIDING, 2, NULL);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0); /* 0, 1, 2 slide out */
	assert_int_equal(atomic_load(&released), 3);
	assert_int_equal(rf_chan_put_async(c, box(5), NULL, 0), 0); /* 3 slides out */
	assert_int_equal(atomic_load(&released), 4);
	take_expect(c, 4);
	rf_chan_close(c);
	take_expect(c, 5);
	rf_val v;
	assert_int_equal(rf_chan_poll(c, &v), RF_ECLOSED);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 4);
	assert_int_equal(atomic_load(&live), 0);
}

/* A promise's takers borrow its one value; its later puts are released at once. The
 * release function of this one polls the channel itself: it would deadlock on the
 * channel's own lock if it ran under it. */
static rf_chan *self_poll_chan;
static void release_polling(rf_val v, rf_val ctx)
{
	rf_val got;
	if (self_poll_chan) { /* NULL once the test drops its last reference */
		RF_CHECK_EQ(rf_chan_poll(self_poll_chan, &got), 0);
		RF_CHECK_EQ(unbox(got), 0);
	}
	release_box(v, ctx);
}

static void test_promise(void **state)
{
	reset();
	rf_chan_opts o = {.size = sizeof(o),
	                  .kind = RF_BUF_PROMISE,
	                  .release = release_polling,
	                  .release_ctx = 77};
	rf_chan *c;
	assert_int_equal(rf_chan_new_opts(&o, &c), 0);
	self_poll_chan = c;
	assert_int_equal(rf_chan_put(c, box(0)), 0);
	assert_int_equal(rf_chan_put(c, box(1)), 0);
	assert_int_equal(rf_chan_offer(c, box(2)), 0);
	assert_int_equal(atomic_load(&released), 2);
	for (int i = 0; i < 3; i++) { /* borrowed: the same box every time, never freed here */
		rf_val v;
		assert_int_equal(take5(c, &v), 0);
		assert_int_equal(unbox(v), 0);
	}
	rf_chan_close(c);
	assert_int_equal(rf_chan_put(c, 9), RF_ECLOSED);
	self_poll_chan = NULL;
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 3);
	assert_int_equal(atomic_load(&live), 0);

	/* Never delivered: nothing to release. */
	o.release = release_box;
	assert_int_equal(rf_chan_new_opts(&o, &c), 0);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 3);
}

static void test_unbuffered(void **state)
{
	reset();
	rf_chan *c = owning(RF_BUF_NONE, 0, NULL);
	assert_int_equal(rf_chan_put_async(c, box(0), NULL, 0), 0);
	assert_int_equal(rf_chan_put_async(c, box(1), NULL, 0), 0);
	take_expect(c, 0);
	rf_chan_close(c);
	rf_val refused = box(2);
	assert_int_equal(rf_chan_put(c, refused), RF_ECLOSED); /* not accepted: still ours */
	drop_taken(refused);
	assert_int_equal(rf_chan_put(c, RF_NIL), RF_ECLOSED);
	rf_chan_release(c); /* the pending put's box */
	assert_int_equal(atomic_load(&released), 1);
	assert_int_equal(atomic_load(&live), 0);
}

/* Transformations: keep even boxes; replace a box by a new one ten times bigger; pass
 * each box and a new copy (expanding); a flush that emits a last box. */
static int is_even(rf_val v, rf_val *keep)
{
	*keep = unbox(v) % 2 == 0;
	return 0;
}
static int times_ten(rf_val v, rf_val *out)
{
	if (unbox(v) < 0)
		return -EDOM; /* failed: the value is dropped */
	*out = box(unbox(v) * 10);
	return 0;
}
static int step_twice(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_xform_emit(sink, v);
	rf_xform_emit(sink, box(unbox(v) + 100));
	return 0;
}
static void flush_last(rf_xform *xf, rf_xform_sink *sink)
{
	rf_xform_emit(sink, box(-1));
}

static void test_xform_filter_map(void **state)
{
	reset();
	rf_xform even = rf_xform_filter(is_even);
	rf_chan *c = owning(RF_BUF_FIXED, 8, &even);
	for (int i = 0; i < 6; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0); /* 1, 3, 5 filtered out */
	assert_int_equal(atomic_load(&released), 3);
	take_expect(c, 0);
	rf_chan_release(c); /* 2 and 4 */
	assert_int_equal(atomic_load(&released), 5);
	assert_int_equal(atomic_load(&live), 0);

	reset();
	rf_xform map = rf_xform_map(times_ten);
	c = owning(RF_BUF_FIXED, 8, &map);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0); /* each input replaced */
	assert_int_equal(rf_chan_put(c, box(-5)), 0);        /* failed: dropped */
	assert_int_equal(atomic_load(&released), 4);
	take_expect(c, 10);
	rf_chan_release(c); /* 20 and 30 */
	assert_int_equal(atomic_load(&released), 6);
	assert_int_equal(atomic_load(&live), 0);

	reset(); /* a mapped promise: the output is kept, later outputs released */
	c = owning(RF_BUF_PROMISE, 1, &map);
	assert_int_equal(rf_chan_put(c, box(1)), 0);
	assert_int_equal(rf_chan_put(c, box(2)), 0);
	assert_int_equal(atomic_load(&released), 3); /* the inputs 1 and 2, the output 20 */
	rf_val v;
	assert_int_equal(take5(c, &v), 0);
	assert_int_equal(unbox(v), 10);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 4);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_xform_expanding(void **state)
{
	reset(); /* into a dropping buffer of 3: what does not fit is dropped */
	rf_xform twice = {.step = step_twice, .flush = flush_last};
	rf_chan *c = owning(RF_BUF_DROPPING, 3, &twice);
	assert_int_equal(rf_chan_put(c, box(1)), 0); /* 1, 101 */
	assert_int_equal(rf_chan_put(c, box(2)), 0); /* 2, 102 dropped */
	assert_int_equal(atomic_load(&released), 1);
	assert_int_equal(rf_chan_put(c, box(3)), 0); /* 3, 103 both dropped */
	assert_int_equal(atomic_load(&released), 3);
	rf_chan_close(c); /* the flush's box dropped too */
	assert_int_equal(atomic_load(&released), 4);
	take_expect(c, 1);
	rf_chan_release(c); /* 101 and 2 */
	assert_int_equal(atomic_load(&released), 6);
	assert_int_equal(atomic_load(&live), 0);

	reset(); /* into a sliding buffer of 2: the oldest go */
	c = owning(RF_BUF_SLIDING, 2, &twice);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0);
	assert_int_equal(atomic_load(&released), 4);
	rf_chan_close(c); /* -1 pushes out 3 */
	assert_int_equal(atomic_load(&released), 5);
	take_expect(c, 103);
	take_expect(c, -1);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 5);
	assert_int_equal(atomic_load(&live), 0);

	reset(); /* a fixed buffer grows: nothing is dropped */
	c = owning(RF_BUF_FIXED, 1, &twice);
	assert_int_equal(rf_chan_put(c, box(1)), 0);
	rf_chan_close(c);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 3);
	assert_int_equal(atomic_load(&live), 0);
}

/* (take 2) on a full buffer of 1: the second value ends the transformation while a third
 * put is pending; that put is accepted and dropped, later puts are refused. */
static void test_xform_take_abort(void **state)
{
	reset();
	rf_xform two = rf_xform_take(2);
	rf_chan *c = owning(RF_BUF_FIXED, 1, &two);
	assert_int_equal(rf_chan_put(c, box(1)), 0);
	assert_int_equal(rf_chan_put_async(c, box(2), NULL, 0), 0);
	assert_int_equal(rf_chan_put_async(c, box(3), NULL, 0), 0);
	assert_int_equal(atomic_load(&released), 0);
	take_expect(c, 1); /* refill: 2 passes and ends it; 3 is dropped */
	assert_int_equal(atomic_load(&released), 1);
	rf_val late = box(4);
	assert_int_equal(rf_chan_put(c, late), RF_ECLOSED);
	drop_taken(late);
	rf_chan_release(c); /* 2, still buffered */
	assert_int_equal(atomic_load(&released), 2);
	assert_int_equal(atomic_load(&live), 0);
}

/* More drops in one operation than fit inline: a transformation ends with many puts
 * pending, all accepted and dropped by one take. */
static void test_many_drops_one_op(void **state)
{
	reset();
	rf_xform one = rf_xform_take(2);
	rf_chan *c = owning(RF_BUF_FIXED, 1, &one);
	assert_int_equal(rf_chan_put(c, box(0)), 0);
	for (int i = 1; i <= 40; i++)
		assert_int_equal(rf_chan_put_async(c, box(i), NULL, 0), 0);
	take_expect(c, 0); /* 1 passes and ends it: 2..40 dropped at once */
	assert_int_equal(atomic_load(&released), 39);
	rf_chan_release(c);
	assert_int_equal(atomic_load(&released), 40);
	assert_int_equal(atomic_load(&live), 0);
}

/* rf_chan_init / rf_chan_destroy of a sliding channel: destroy releases what is left. */
static void test_init_destroy(void **state)
{
	reset();
	rf_chan_mem mem;
	rf_chan *c;
	rf_chan_opts o = {.size = sizeof(o),
	                  .kind = RF_BUF_SLIDING,
	                  .n = 2,
	                  .release = release_box,
	                  .release_ctx = 77};
	assert_int_equal(rf_chan_init(&mem, &o, &c), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_chan_put(c, box(i)), 0);
	assert_int_equal(atomic_load(&released), 1);
	rf_chan_retain(c);
	assert_int_equal(rf_chan_destroy(c), -EBUSY);
	rf_chan_release(c);
	assert_int_equal(rf_chan_destroy(c), 0);
	assert_int_equal(atomic_load(&released), 3);
	assert_int_equal(atomic_load(&live), 0);
}

/* Races: putters on threads and go processes against a taker, on sliding and dropping
 * channels and a filtered one; afterwards every box was either taken or released, once. */
typedef struct race {
	rf_chan *c;
	int per;
	_Atomic long taken;
	_Atomic int putters_left;
} race;

static void race_put_all(race *r)
{
	for (int i = 0; i < r->per; i++)
		RF_CHECK_EQ(rf_chan_put(r->c, box(i)), 0);
	if (atomic_fetch_sub(&r->putters_left, 1) == 1)
		rf_chan_close(r->c);
}
static void *race_put_thread(void *arg)
{
	race_put_all(arg);
	return NULL;
}
static int race_put_go(rf_val arg, rf_val *out)
{
	race_put_all(rf_to_ptr(arg));
	return 0;
}
static void *race_take_thread(void *arg)
{
	race *r = arg;
	rf_val v;
	int rc;
	while ((rc = take5(r->c, &v)) == 0) {
		drop_taken(v);
		atomic_fetch_add(&r->taken, 1);
	}
	RF_CHECK_EQ(rc, RF_ECLOSED);
	return NULL;
}

static void race_one(rf_buf_kind kind, size_t n, const rf_xform *xf)
{
	reset();
	race r = {.c = owning(kind, n, xf), .per = 2000};
	atomic_init(&r.taken, 0);
	atomic_init(&r.putters_left, 3);
	pthread_t taker = spawn_thread(race_take_thread, &r);
	pthread_t putter = spawn_thread(race_put_thread, &r);
	rf_chan *g1, *g2;
	assert_int_equal(rf_go(race_put_go, rf_from_ptr(&r), &g1), 0);
	assert_int_equal(rf_go(race_put_go, rf_from_ptr(&r), &g2), 0);
	result_of(g1);
	result_of(g2);
	pthread_join(putter, NULL);
	pthread_join(taker, NULL);
	rf_chan_release(r.c);
	assert_int_equal(atomic_load(&r.taken) + atomic_load(&released), 3 * r.per);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_races(void **state)
{
	rf_xform even = rf_xform_filter(is_even);
	race_one(RF_BUF_SLIDING, 4, NULL);
	race_one(RF_BUF_DROPPING, 4, NULL);
	race_one(RF_BUF_FIXED, 4, NULL);
	race_one(RF_BUF_FIXED, 4, &even);
	race_one(RF_BUF_SLIDING, 2, &even);
	race_one(RF_BUF_NONE, 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_dropping),
	    cmocka_unit_test(test_sliding),
	    cmocka_unit_test(test_promise),
	    cmocka_unit_test(test_unbuffered),
	    cmocka_unit_test(test_xform_filter_map),
	    cmocka_unit_test(test_xform_expanding),
	    cmocka_unit_test(test_xform_take_abort),
	    cmocka_unit_test(test_many_drops_one_op),
	    cmocka_unit_test(test_init_destroy),
	    cmocka_unit_test(test_races),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
