/* tests/chan/test_async.c: the combinators (pipe, merge, mult, pub, mix, split, onto/to
 * chan, reduce, transduce, take, map, into, pipeline in three variants). Expected results
 * are core.async 1.5's, run in Clojure 1.11 (quoted next to each). */
#include <stdatomic.h>
#include <string.h>

#include "chan_test.h"

/* Every value of c until closed, into out (at most max); returns how many. */
static size_t drain(rf_chan *c, rf_val *out, size_t max)
{
	size_t n = 0;
	rf_val v;
	int rc;
	while ((rc = take5(c, &v)) == 0) {
		assert_true(n < max);
		out[n++] = v;
	}
	assert_int_equal(rc, RF_ECLOSED);
	return n;
}

static int cmp_val(const void *a, const void *b)
{
	rf_val x = *(const rf_val *)a, y = *(const rf_val *)b;
	return x < y ? -1 : x > y;
}

static void test_to_chan_pipe_onto(void **state)
{
	rf_val vals[300], got[300];
	for (int i = 0; i < 300; i++)
		vals[i] = i * 3;
	rf_chan *src, *dst, *done;
	assert_int_equal(rf_to_chan(vals, 300, &src), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 5, &dst), 0);
	assert_int_equal(rf_pipe(src, dst, true), 0);
	rf_chan_release(src);
	assert_int_equal(drain(dst, got, 300), 300);
	assert_memory_equal(got, vals, sizeof(vals));
	rf_chan_release(dst);

	assert_int_equal(rf_chan_new(&dst), 0);
	assert_int_equal(rf_onto_chan(dst, vals, 10, false, &done), 0);
	for (int i = 0; i < 10; i++) {
		rf_val v;
		assert_int_equal(take5(dst, &v), 0);
		assert_int_equal(v, vals[i]);
	}
	rf_val v;
	assert_int_equal(take5(done, &v), RF_ECLOSED);
	assert_false(rf_chan_closed(dst)); /* close = false */
	rf_chan_release(done);
	rf_chan_release(dst);

	assert_int_equal(rf_to_chan(NULL, 0, &src), 0); /* empty: closed at once */
	assert_int_equal(take5(src, &v), RF_ECLOSED);
	rf_chan_release(src);
}

static void test_merge(void **state)
{
	rf_chan *in[3], *out;
	rf_val vals[3][50], got[150];
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 50; i++)
			vals[k][i] = k * 1000 + i;
		assert_int_equal(rf_to_chan(vals[k], 50, &in[k]), 0);
	}
	assert_int_equal(rf_merge(in, 3, 4, &out), 0);
	for (int k = 0; k < 3; k++)
		rf_chan_release(in[k]);
	assert_int_equal(drain(out, got, 150), 150);
	/* each input's order is kept */
	int64_t last[3] = {-1, -1, -1};
	for (int i = 0; i < 150; i++) {
		int k = (int)(got[i] / 1000);
		assert_true(got[i] > last[k]);
		last[k] = got[i];
	}
	rf_chan_release(out);
}

static void test_mult(void **state)
{
	rf_chan *src, *t1, *t2;
	rf_mult *m;
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &t1), 0);
	assert_int_equal(rf_chan_new(&t2), 0);
	assert_int_equal(rf_mult_new(src, &m), 0);
	/* no taps: a value is taken and dropped. Once -2 is taken, -1 is done with; -2
	 * itself may or may not meet the taps added next. */
	assert_int_equal(put5(src, -1), 0);
	assert_int_equal(put5(src, -2), 0);
	assert_int_equal(rf_mult_tap(m, t1, true), 0);
	assert_int_equal(rf_mult_tap(m, t2, false), 0);
	rf_val v;
	for (int i = 0; i < 10; i++) {
		/* t2 is unbuffered: the mult waits on it (maybe with -2) before taking i */
		assert_int_equal(rf_chan_put_async(src, i, NULL, 0), 0);
		assert_int_equal(take5(t2, &v), 0);
		if (i == 0 && v == -2)
			assert_int_equal(take5(t2, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(rf_mult_untap(m, t2), 0);
	assert_int_equal(put5(src, 10), 0);
	rf_chan_close(src);
	rf_val got[20];
	size_t n = drain(t1, got, 20);
	rf_val *g = got[0] == -2 ? got + 1 : got; /* the -1 went nowhere */
	assert_int_equal(n - (size_t)(g - got), 11);
	for (int i = 0; i <= 10; i++)
		assert_int_equal(g[i], i);
	assert_false(rf_chan_closed(t2)); /* untapped, and close = false anyway */
	rf_mult_free(m);
	rf_chan_release(src);
	rf_chan_release(t1);
	rf_chan_release(t2);
}

static int parity(rf_val v, rf_val *topic)
{
	*topic = v % 2;
	return 0;
}

static void test_pub_sub(void **state)
{
	rf_chan *src, *even, *odd, *odd2;
	rf_pub *p;
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &even), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &odd), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &odd2), 0);
	assert_int_equal(rf_pub_new(src, parity, &p), 0);
	assert_int_equal(rf_pub_sub(p, 0, even, true), 0);
	assert_int_equal(rf_pub_sub(p, 1, odd, true), 0);
	assert_int_equal(rf_pub_sub(p, 1, odd2, false), 0);
	rf_chan *gone;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &gone), 0);
	assert_int_equal(rf_pub_sub(p, 0, gone, true), 0);
	assert_int_equal(rf_pub_unsub(p, 0, gone), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(put5(src, i), 0);
	rf_chan_close(src);
	rf_val got[40];
	assert_int_equal(drain(even, got, 40), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 2 * i);
	assert_int_equal(drain(odd, got, 40), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 2 * i + 1);
	rf_val v;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rf_chan_poll(odd2, &v), 0);
		assert_int_equal(v, 2 * i + 1);
	}
	assert_false(rf_chan_closed(odd2));                /* close = false */
	assert_int_equal(rf_chan_poll(gone, &v), -EAGAIN); /* unsubscribed before any value */
	assert_false(rf_chan_closed(gone));
	rf_chan_release(gone);
	rf_pub_free(p);
	rf_chan_release(src);
	rf_chan_release(even);
	rf_chan_release(odd);
	rf_chan_release(odd2);
}

/* (unsub-all p topic): that topic's subscribers hear nothing more and are not closed. */
static void test_unsub_all_topic(void **state)
{
	rf_chan *src, *even, *odd;
	rf_pub *p;
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &even), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &odd), 0);
	assert_int_equal(rf_pub_new(src, parity, &p), 0);
	assert_int_equal(rf_pub_sub(p, 0, even, true), 0);
	assert_int_equal(rf_pub_sub(p, 1, odd, true), 0);
	assert_int_equal(rf_pub_unsub_all_topic(p, 0), 0);
	assert_int_equal(rf_pub_unsub_all_topic(p, 7), 0); /* unknown topic: ignored */
	for (int i = 0; i < 20; i++)
		assert_int_equal(put5(src, i), 0);
	rf_chan_close(src);
	rf_val got[40], v;
	assert_int_equal(drain(odd, got, 40), 10); /* every even value was handled before 19 */
	assert_int_equal(rf_chan_poll(even, &v), -EAGAIN);
	assert_false(rf_chan_closed(even));
	rf_pub_free(p);
	rf_chan_release(src);
	rf_chan_release(even);
	rf_chan_release(odd);
}

static void test_mix(void **state)
{
	rf_chan *out, *a, *b;
	rf_mix *m;
	rf_val v;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &out), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &a), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 100, &b), 0);
	assert_int_equal(rf_mix_new(out, &m), 0);
	assert_int_equal(rf_mix_admix(m, a), 0);
	assert_int_equal(rf_mix_admix(m, b), 0);
	assert_int_equal(put5(a, 1), 0);
	assert_int_equal(put5(b, 2), 0);
	rf_val two[2];
	assert_int_equal(take5(out, &two[0]), 0);
	assert_int_equal(take5(out, &two[1]), 0);
	qsort(two, 2, sizeof(rf_val), cmp_val);
	assert_int_equal(two[0], 1);
	assert_int_equal(two[1], 2);
	/* mute b: its values are taken and dropped */
	assert_int_equal(rf_mix_toggle(m, b, RF_MIX_MUTE), 0);
	assert_int_equal(put5(b, 3), 0);
	assert_int_equal(put5(a, 4), 0);
	assert_int_equal(take5(out, &v), 0);
	assert_int_equal(v, 4);
	sched_sleep_until(time_now_ns() + 20000000);
	assert_int_equal(rf_chan_poll(b, &v), -EAGAIN); /* consumed by the mix */
	/* pause a: not taken */
	assert_int_equal(rf_mix_toggle(m, a, RF_MIX_PAUSE), 0);
	assert_int_equal(rf_mix_toggle(m, b, 0), 0);
	assert_int_equal(put5(a, 5), 0);
	assert_int_equal(put5(b, 6), 0);
	assert_int_equal(take5(out, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(rf_chan_poll(a, &v), 0); /* still there */
	assert_int_equal(v, 5);
	/* solo a (mode pause): only a is heard, b waits */
	assert_int_equal(rf_mix_solo_mode(m, RF_MIX_PAUSE), 0);
	assert_int_equal(rf_mix_toggle(m, a, RF_MIX_SOLO), 0);
	assert_int_equal(put5(b, 7), 0);
	assert_int_equal(put5(a, 8), 0);
	assert_int_equal(take5(out, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(rf_chan_poll(b, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rf_mix_unmix_all(m), 0);
	assert_int_equal(rf_mix_toggle(m, a, 9), -EINVAL);
	rf_mix_free(m);
	rf_chan_release(out);
	rf_chan_release(a);
	rf_chan_release(b);
}

static void test_split(void **state)
{
	rf_val vals[20];
	for (int i = 0; i < 20; i++)
		vals[i] = i;
	rf_chan *src, *t, *f;
	assert_int_equal(rf_to_chan(vals, 20, &src), 0);
	assert_int_equal(rf_split(parity, src, &t, &f), 0);
	rf_chan_release(src);
	/* read both sides as they come (they are unbuffered) */
	rf_val odd[20], even[20];
	size_t no = 0, ne = 0;
	for (int open = 2; open > 0;) {
		rf_alt ops[] = {{.ch = t}, {.ch = f}};
		int which;
		rf_val v;
		int rc = rf_alts_timeout(ops, 2, 0, 5000, &which, &v);
		if (rc == RF_ECLOSED) {
			open--;
			ops[which].ch == t ? (void)(t = NULL) : (void)(f = NULL);
			rf_chan_release(ops[which].ch);
			if (open == 1) {
				rf_chan *left = t ? t : f;
				rf_val *dst = t ? odd : even;
				size_t *n = t ? &no : &ne;
				*n += drain(left, dst + *n, 20 - *n);
				rf_chan_release(left);
				open = 0;
			}
			continue;
		}
		assert_int_equal(rc, 0);
		if (which == 0)
			odd[no++] = v;
		else
			even[ne++] = v;
	}
	assert_int_equal(no, 10);
	assert_int_equal(ne, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(odd[i], 2 * i + 1);
		assert_int_equal(even[i], 2 * i);
	}
}

/* (split pred ch t-buf f-buf): with buffers one side can be drained first, which with
 * unbuffered outputs would stall the split on the other side. */
static void test_split_buf(void **state)
{
	rf_val vals[20], got[20];
	for (int i = 0; i < 20; i++)
		vals[i] = i;
	rf_chan *src, *t, *f;
	assert_int_equal(rf_to_chan(vals, 20, &src), 0);
	assert_int_equal(rf_split_buf(parity, src, 10, 10, &t, &f), 0);
	rf_chan_release(src);
	assert_int_equal(drain(t, got, 20), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 2 * i + 1);
	assert_int_equal(drain(f, got, 20), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 2 * i);
	rf_chan_release(t);
	rf_chan_release(f);
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_split_buf(NULL, src, 1, 1, &t, &f), -EINVAL);
	assert_int_equal(rf_split_buf(parity, NULL, 1, 1, &t, &f), -EINVAL);
	assert_int_equal(rf_split_buf(parity, src, 1, 1, &t, NULL), -EINVAL);
	rf_chan_release(src);
}

/* buf-fn: topic 0 gets a buffer of 4, 9 fails, 7 asks for a negative size. */
static int topic_buf(rf_val topic, rf_val *n)
{
	*n = topic == 7 ? -1 : topic == 0 ? 4 : 0;
	return topic == 9 ? -EDOM : 0;
}

/* (pub ch topic-fn buf-fn): topic 0's channel holds values its stalled subscriber has
 * not taken, so the pub still serves topic 1 (unbuffered, it would stall on 2). */
static void test_pub_buf(void **state)
{
	rf_chan *src, *even, *odd, *x;
	rf_pub *p;
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_chan_new(&even), 0); /* not read until the end */
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 10, &odd), 0);
	assert_int_equal(rf_chan_new(&x), 0);
	assert_int_equal(rf_pub_new_buf(src, parity, topic_buf, &p), 0);
	assert_int_equal(rf_pub_sub(p, 0, even, true), 0);
	assert_int_equal(rf_pub_sub(p, 1, odd, true), 0);
	assert_int_equal(rf_pub_sub(p, 9, x, true), -EDOM);
	assert_int_equal(rf_pub_sub(p, 7, x, true), -EINVAL);
	rf_val in[] = {0, 2, 4, 1}, v;
	for (int i = 0; i < 4; i++)
		assert_int_equal(put5(src, in[i]), 0);
	assert_int_equal(take5(odd, &v), 0);
	assert_int_equal(v, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(take5(even, &v), 0);
		assert_int_equal(v, in[i]);
	}
	rf_chan_close(src);
	assert_int_equal(take5(even, &v), RF_ECLOSED);
	rf_pub_free(p);
	rf_chan_release(src);
	rf_chan_release(even);
	rf_chan_release(odd);
	rf_chan_release(x);
	assert_int_equal(rf_pub_new_buf(NULL, parity, topic_buf, &p), -EINVAL);
}

static int halt_at_neg(rf_val acc, rf_val v, rf_val *out)
{
	*out = acc + v;
	return v < 0 ? -ERANGE : 0;
}

/* (reduced acc) once v > 4. */
static int sum_below_5(rf_val acc, rf_val v, rf_val *out)
{
	*out = acc;
	if (v > 4)
		return RF_XF_DONE;
	*out = acc + v;
	return 0;
}

/* acc * 100 + v: the order of the folded values shows. */
static int shift_add(rf_val acc, rf_val v, rf_val *out)
{
	*out = acc * 100 + v;
	return 0;
}

/* (partition-all 3) emitting each group's sum: state = sum * 4 + count. */
static int sum3_step(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	int64_t sum = xf->state / 4 + v, count = xf->state % 4 + 1;
	if (count == 3) {
		rf_xform_emit(sink, sum);
		sum = count = 0;
	}
	xf->state = sum * 4 + count;
	return 0;
}
static void sum3_flush(rf_xform *xf, rf_xform_sink *sink)
{
	if (xf->state % 4)
		rf_xform_emit(sink, xf->state / 4);
}

/* Pass every value, count them; the flush emits 1000 + the count. */
static int count_step(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	rf_xform_emit(sink, v);
	xf->state++;
	return 0;
}
static void count_flush(rf_xform *xf, rf_xform_sink *sink)
{
	rf_xform_emit(sink, 1000 + xf->state);
}
static int shift_until_100(rf_val acc, rf_val v, rf_val *out)
{
	*out = acc * 100 + v;
	return *out >= 100 ? RF_XF_DONE : 0;
}

static int is_even(rf_val v, rf_val *keep)
{
	*keep = v % 2 == 0;
	return 0;
}

static int fail_at_3(rf_val v, rf_val *out)
{
	*out = v;
	return v == 3 ? -EDOM : 0;
}

/* A source of 0..n-1, closed. */
static rf_chan *range_chan(int n)
{
	rf_val vals[64];
	assert_true(n <= 64);
	for (int i = 0; i < n; i++)
		vals[i] = i;
	rf_chan *c;
	assert_int_equal(rf_to_chan(vals, (size_t)n, &c), 0);
	return c;
}

static rf_val transduce_of(const rf_xform *xf, rf_update_fn f, rf_val init, rf_chan *src,
                           int want_rc)
{
	rf_chan *r;
	assert_int_equal(rf_chan_transduce(xf, f, init, src, &r), 0);
	rf_val v = -1;
	assert_int_equal(take5(r, &v), want_rc);
	rf_chan_release(r);
	rf_chan_close(src); /* a reduction that stopped early leaves the rest */
	rf_chan_release(src);
	return v;
}

static void test_transduce(void **state)
{
	/* (a/transduce (filter even?) + 0 (a/to-chan! (range 10))) => 20 */
	rf_xform even = rf_xform_filter(is_even);
	assert_int_equal(transduce_of(&even, rf_add, 0, range_chan(10), 0), 20);
	/* (a/transduce (partition-all 3) conj [] (a/to-chan! (range 8))) =>
	 * [[0 1 2] [3 4 5] [6 7]]: sums 3, 12, 13, the last from the completion step */
	rf_xform sum3 = {.step = sum3_step, .flush = sum3_flush};
	assert_int_equal(transduce_of(&sum3, shift_add, 0, range_chan(8), 0), 31213);
	/* the xform is copied per call: the same one again gives the same */
	assert_int_equal(transduce_of(&sum3, shift_add, 0, range_chan(8), 0), 31213);
	/* (a/transduce (take 3) + 100 (a/to-chan! (range 10))) => 103 */
	rf_xform take3 = rf_xform_take(3);
	assert_int_equal(transduce_of(&take3, rf_add, 100, range_chan(10), 0), 103);
	/* f's reduced stops the taking; the completion step still folds what it emits (as
	 * partition-all's completion does after a reduced): 0, 1, 102 (reduced), then the
	 * flush's 1003 */
	rf_xform counting = {.step = count_step, .flush = count_flush};
	assert_int_equal(transduce_of(&counting, shift_until_100, 0, range_chan(10), 0), 11203);
	/* a failing step or f: the result channel closes with its code */
	rf_xform fail = rf_xform_map(fail_at_3);
	transduce_of(&fail, rf_add, 0, range_chan(10), -EDOM);
	assert_int_equal(transduce_of(&even, rf_add, 7, range_chan(0), 0), 7); /* => init */

	rf_chan *src = range_chan(3), *r;
	rf_xform bad = rf_xform_map(NULL), none = {0};
	assert_int_equal(rf_chan_transduce(NULL, rf_add, 0, src, &r), -EINVAL);
	assert_int_equal(rf_chan_transduce(&bad, rf_add, 0, src, &r), -EINVAL);
	assert_int_equal(rf_chan_transduce(&none, rf_add, 0, src, &r), -EINVAL);
	assert_int_equal(rf_chan_transduce(&even, NULL, 0, src, &r), -EINVAL);
	assert_int_equal(rf_chan_transduce(&even, rf_add, 0, NULL, &r), -EINVAL);
	assert_int_equal(rf_chan_transduce(&even, rf_add, 0, src, NULL), -EINVAL);
	rf_chan_close(src);
	rf_chan_release(src);
}

static void test_take_n(void **state)
{
	/* (let [src (a/to-chan! (range 10)) t (a/take 3 src)] [(<!! (a/into [] t)) (<!! src)])
	 * => [[0 1 2] 3] */
	rf_chan *src = range_chan(10), *t;
	assert_int_equal(rf_chan_take_n(3, src, 0, &t), 0);
	rf_val got[16], v;
	assert_int_equal(drain(t, got, 16), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(take5(src, &v), 0);
	assert_int_equal(v, 3);
	rf_chan_release(t);
	rf_chan_close(src);
	rf_chan_release(src);

	/* (take 0 ...) => [], and the source keeps everything; take past the close */
	src = range_chan(2);
	assert_int_equal(rf_chan_take_n(0, src, 0, &t), 0);
	assert_int_equal(drain(t, got, 16), 0);
	rf_chan_release(t);
	assert_int_equal(rf_chan_take_n(5, src, 4, &t), 0); /* buffered output */
	assert_int_equal(drain(t, got, 16), 2);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	rf_chan_release(t);
	rf_chan_release(src);

	assert_int_equal(rf_chan_take_n(1, NULL, 0, &t), -EINVAL);
	assert_int_equal(rf_chan_new(&src), 0);
	assert_int_equal(rf_chan_take_n(1, src, 0, NULL), -EINVAL);
	rf_chan_release(src);
}

static int sum_all(const rf_val *vals, size_t n, rf_val ctx, rf_val *out)
{
	rf_val s = ctx;
	for (size_t i = 0; i < n; i++)
		s += vals[i];
	*out = s;
	return s == ctx + 34 ? -EDOM : 0;
}

static void test_map(void **state)
{
	/* (a/into [] (a/map + [(a/to-chan! [1 2 3]) (a/to-chan! [10 20])])) => [11 22] */
	rf_val a[] = {1, 2, 3}, b[] = {10, 20}, c[] = {30, 30, 30};
	rf_chan *ins[3], *out;
	assert_int_equal(rf_to_chan(a, 3, &ins[0]), 0);
	assert_int_equal(rf_to_chan(b, 2, &ins[1]), 0);
	assert_int_equal(rf_chan_map(sum_all, 1000, ins, 2, 0, &out), 0);
	rf_val got[8];
	assert_int_equal(drain(out, got, 8), 2);
	assert_int_equal(got[0], 1011);
	assert_int_equal(got[1], 1022);
	rf_chan_release(out);
	for (int i = 0; i < 2; i++) {
		rf_chan_close(ins[i]);
		rf_chan_release(ins[i]);
	}

	/* f fails on the second round (2 + 2 + 30): the output closes with its code */
	assert_int_equal(rf_to_chan(a, 3, &ins[0]), 0);
	assert_int_equal(rf_to_chan(a, 3, &ins[1]), 0);
	assert_int_equal(rf_to_chan(c, 3, &ins[2]), 0);
	assert_int_equal(rf_chan_map(sum_all, 0, ins, 3, 2, &out), 0);
	rf_val v;
	assert_int_equal(take5(out, &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(take5(out, &v), -EDOM);
	rf_chan_release(out);
	for (int i = 0; i < 3; i++) {
		rf_chan_close(ins[i]);
		rf_chan_release(ins[i]);
	}

	assert_int_equal(rf_chan_map(NULL, 0, ins, 1, 0, &out), -EINVAL);
	assert_int_equal(rf_chan_map(sum_all, 0, NULL, 1, 0, &out), -EINVAL);
	assert_int_equal(rf_chan_map(sum_all, 0, ins, 0, 0, &out), -EINVAL);
	assert_int_equal(rf_chan_map(sum_all, 0, (rf_chan *[2]){NULL, NULL}, 2, 0, &out), -EINVAL);
	assert_int_equal(rf_chan_map(sum_all, 0, ins, 1, 0, NULL), -EINVAL);
	assert_int_equal(rf_chan_map(sum_all, 0, ins, SIZE_MAX / 4, 0, &out), -EINVAL);
}

static void test_reduce_into(void **state)
{
	rf_val vals[100];
	for (int i = 0; i < 100; i++)
		vals[i] = i + 1;
	rf_chan *src, *r;
	assert_int_equal(rf_to_chan(vals, 100, &src), 0);
	assert_int_equal(rf_chan_reduce(rf_add, 1000, src, &r), 0);
	assert_int_equal(result_of(r), 1000 + 5050);
	rf_chan_release(src);

	vals[50] = -1;
	assert_int_equal(rf_to_chan(vals, 100, &src), 0);
	assert_int_equal(rf_chan_reduce(halt_at_neg, 0, src, &r), 0);
	rf_val v;
	assert_int_equal(take5(r, &v), -ERANGE);
	rf_chan_release(r);
	rf_chan_close(src); /* the reduce stopped early; drop the rest */
	rf_chan_release(src);

	/* (a/reduce (fn [acc v] (if (> v 4) (reduced acc) (+ acc v))) 0 (a/to-chan! (range
	 * 10))) => 10 */
	assert_int_equal(rf_to_chan(vals, 10, &src), 0); /* 1..10 */
	assert_int_equal(rf_chan_reduce(sum_below_5, 0, src, &r), 0);
	assert_int_equal(result_of(r), 1 + 2 + 3 + 4);
	rf_chan_close(src);
	rf_chan_release(src);

	assert_int_equal(rf_to_chan(vals, 100, &src), 0);
	assert_int_equal(rf_chan_into(src, &r), 0);
	rf_vals *vs = rf_to_ptr(result_of(r));
	assert_int_equal(vs->n, 100);
	assert_memory_equal(vs->v, vals, sizeof(vals));
	free(vs);
	rf_chan_release(src);
}

static int square(rf_val v, rf_val *out)
{
	*out = v * v;
	return 0;
}

static int slow_square(rf_val v, rf_val *out)
{
	if (v % 7 == 0)
		sched_sleep_until(time_now_ns() + 1000000); /* out-of-order finishing */
	return square(v, out);
}

static void async_square(rf_val v, rf_chan *res, rf_val ctx)
{
	atomic_fetch_add((_Atomic int *)rf_to_ptr(ctx), 1);
	rf_chan_put_async(res, v * v, NULL, 0);
	rf_chan_close(res);
}

static void check_squares(rf_chan *out, int n)
{
	rf_val got[200];
	assert_int_equal(drain(out, got, 200), (size_t)n);
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], (rf_val)i * i); /* order preserved */
}

static void test_pipeline(void **state)
{
	rf_val vals[200];
	for (int i = 0; i < 200; i++)
		vals[i] = i;
	rf_chan *src, *out;
	rf_xform sq = rf_xform_map(slow_square);
	assert_int_equal(rf_to_chan(vals, 200, &src), 0);
	assert_int_equal(rf_chan_new(&out), 0);
	assert_int_equal(rf_pipeline(4, out, &sq, src, true), 0);
	check_squares(out, 200);
	rf_chan_release(src);
	rf_chan_release(out);

	assert_int_equal(rf_to_chan(vals, 200, &src), 0);
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 8, &out), 0);
	assert_int_equal(rf_pipeline_blocking(3, out, &sq, src, true), 0);
	check_squares(out, 200);
	rf_chan_release(src);
	rf_chan_release(out);

	_Atomic int calls = 0;
	assert_int_equal(rf_to_chan(vals, 200, &src), 0);
	assert_int_equal(rf_chan_new(&out), 0);
	assert_int_equal(rf_pipeline_async(5, out, async_square, rf_from_ptr(&calls), src, true),
	                 0);
	check_squares(out, 200);
	assert_int_equal(atomic_load(&calls), 200);
	rf_chan_release(src);
	rf_chan_release(out);

	/* a filtering transformation: results may be empty per value */
	rf_xform even = rf_xform_filter(parity);
	assert_int_equal(rf_to_chan(vals, 10, &src), 0);
	assert_int_equal(rf_chan_new(&out), 0);
	assert_int_equal(rf_pipeline(2, out, &even, src, true), 0);
	rf_val got[10];
	assert_int_equal(drain(out, got, 10), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(got[i], 2 * i + 1);
	rf_chan_release(src);
	rf_chan_release(out);
	assert_int_equal(rf_pipeline(0, out, &even, src, true), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_to_chan_pipe_onto),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_mult),
	    cmocka_unit_test(test_pub_sub),
	    cmocka_unit_test(test_mix),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_reduce_into),
	    cmocka_unit_test(test_transduce),
	    cmocka_unit_test(test_take_n),
	    cmocka_unit_test(test_map),
	    cmocka_unit_test(test_unsub_all_topic),
	    cmocka_unit_test(test_split_buf),
	    cmocka_unit_test(test_pub_buf),
	    cmocka_unit_test(test_pipeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
