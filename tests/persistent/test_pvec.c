/* persistent vectors: random operation sequences checked against a plain array, old
 * versions unchanged (structural sharing), transients, subvec views, owned elements
 * balanced (every retain released), fold over the leaves, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringfold.h"

/* A model: a plain array and its length. */
typedef struct model {
	rf_val *x;
	size_t n;
} model;

static void check(const rf_pvec *v, const model *m)
{
	assert_int_equal(rf_pvec_count(v), m->n);
	for (size_t i = 0; i < m->n; i++) {
		rf_val x = -1;
		assert_int_equal(rf_pvec_nth(v, i, &x), 0);
		if (x != m->x[i])
			fail_msg("element %zu: %lld, want %lld", i, (long long)x,
			         (long long)m->x[i]);
	}
	/* iteration by runs agrees with nth */
	size_t i = 0, len;
	const rf_val *run;
	for (; i < m->n; i += len) {
		assert_int_equal(rf_pvec_chunk(v, i, &run, &len), 0);
		assert_true(len >= 1 && len <= 32 && i + len <= m->n);
		assert_memory_equal(run, &m->x[i], len * sizeof(rf_val));
	}
	assert_int_equal(i, m->n);
}

static model copy_model(const model *m)
{
	model c = {malloc((m->n + 1) * sizeof(rf_val)), m->n};
	memcpy(c.x, m->x, m->n * sizeof(rf_val));
	return c;
}

/* Random conj / assoc / pop, keeping every 50th version with its model to recheck at the
 * end: old versions never change. */
static void random_ops(void **state)
{
	enum { STEPS = 60000, CAP = 70000, KEEP = 64 };
	srand(7);
	model m = {malloc(CAP * sizeof(rf_val)), 0};
	rf_pvec *v;
	assert_int_equal(rf_pvec_new(NULL, &v), 0);
	rf_pvec *kept[KEEP];
	model kept_m[KEEP];
	int nkept = 0;
	for (int s = 0; s < STEPS; s++) {
		if (s % 1000 == 999 && nkept < KEEP) { /* keep this version and its model */
			rf_pvec_retain(v);
			kept[nkept] = v;
			kept_m[nkept++] = copy_model(&m);
		}
		int op = rand() % 10;
		rf_pvec *n = NULL;
		rf_val x = (rf_val)rand() * 7919 - 5;
		if (op < 6 || m.n == 0) { /* grow more than shrink */
			assert_int_equal(rf_pvec_conj(v, x, &n), 0);
			m.x[m.n++] = x;
		} else if (op < 8) {
			size_t i = (size_t)rand() % m.n;
			assert_int_equal(rf_pvec_assoc(v, i, x, &n), 0);
			m.x[i] = x;
		} else {
			assert_int_equal(rf_pvec_pop(v, &n), 0);
			m.n--;
		}
		rf_pvec_release(v);
		v = n;
		if (s % 997 == 0)
			check(v, &m);
	}
	check(v, &m);
	for (int k = 0; k < nkept; k++) {
		check(kept[k], &kept_m[k]);
		rf_pvec_release(kept[k]);
		free(kept_m[k].x);
	}
	rf_pvec_release(v);
	free(m.x);
}

/* Grow to 40,000 (root at level 15), keeping every prefix length that crosses a level;
 * shrink back by pop to 0: every kept version still reads as it did. */
static void grow_shrink_levels(void **state)
{
	enum { N = 40000 };
	static const size_t marks[] = {0, 1, 31, 32, 33, 64, 1056, 1057, 32800, 32801, 33824};
	rf_pvec *keep[sizeof(marks) / sizeof(marks[0])];
	model m = {malloc(N * sizeof(rf_val)), 0};
	rf_pvec *v, *n;
	assert_int_equal(rf_pvec_new(NULL, &v), 0);
	for (size_t i = 0, k = 0; i <= N; i++) {
		if (k < sizeof(marks) / sizeof(marks[0]) && marks[k] == i) {
			rf_pvec_retain(v);
			keep[k++] = v;
		}
		if (i == N)
			break;
		assert_int_equal(rf_pvec_conj(v, (rf_val)i * 3, &n), 0);
		m.x[m.n++] = (rf_val)i * 3;
		rf_pvec_release(v);
		v = n;
	}
	check(v, &m);
	while (m.n) {
		assert_int_equal(rf_pvec_pop(v, &n), 0);
		rf_pvec_release(v);
		v = n;
		m.n--;
		if (m.n % 4093 == 0 || m.n < 70)
			check(v, &m);
	}
	assert_int_equal(rf_pvec_pop(v, &n), -ERANGE);
	for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
		model pm = {m.x, marks[k]};
		check(keep[k], &pm);
		rf_pvec_release(keep[k]);
	}
	rf_pvec_release(v);
	free(m.x);
}

static void transients(void **state)
{
	enum { N = 5000 };
	rf_val xs[N];
	for (int i = 0; i < N; i++)
		xs[i] = i;
	rf_pvec *v, *w;
	assert_int_equal(rf_pvec_from(xs, N, NULL, &v), 0);
	model orig = {xs, N};
	check(v, &orig);
	rf_tvec *t;
	assert_int_equal(rf_pvec_transient(v, &t), 0);
	model m = {malloc((2 * N) * sizeof(rf_val)), N};
	memcpy(m.x, xs, sizeof(xs));
	srand(11);
	for (int s = 0; s < 20000; s++) {
		int op = rand() % 3;
		rf_val x = rand();
		if (op == 0 && m.n < 2 * N) {
			assert_int_equal(rf_tvec_conj(t, x), 0);
			m.x[m.n++] = x;
		} else if (op == 1 && m.n) {
			size_t i = (size_t)rand() % m.n;
			assert_int_equal(rf_tvec_assoc(t, i, x), 0);
			m.x[i] = x;
		} else if (m.n) {
			assert_int_equal(rf_tvec_pop(t), 0);
			m.n--;
		}
		assert_int_equal(rf_tvec_count(t), m.n);
		if (m.n) {
			size_t i = (size_t)rand() % m.n;
			rf_val y;
			assert_int_equal(rf_tvec_nth(t, i, &y), 0);
			assert_int_equal(y, m.x[i]);
		}
	}
	assert_int_equal(rf_tvec_nth(t, m.n, &(rf_val){0}), -ERANGE);
	assert_int_equal(rf_tvec_assoc(t, m.n + 1, 0), -ERANGE);
	assert_int_equal(rf_tvec_persistent(t, &w), 0);
	check(w, &m);
	check(v, &orig); /* the source of the transient never changed */
	rf_pvec_release(w);
	rf_pvec_release(v);
	free(m.x);
}

static void subvecs(void **state)
{
	enum { N = 3000 };
	rf_val xs[N + 10];
	for (int i = 0; i < N; i++)
		xs[i] = 1000 + i;
	rf_pvec *v, *s, *t2, *u;
	assert_int_equal(rf_pvec_from(xs, N, NULL, &v), 0);
	assert_int_equal(rf_pvec_subvec(v, 100, 2100, &s), 0);
	model ms = {xs + 100, 2000};
	check(s, &ms);
	/* conj on a subvec ending early writes past its end, leaving v alone */
	assert_int_equal(rf_pvec_conj(s, -1, &t2), 0);
	rf_val x;
	assert_int_equal(rf_pvec_nth(t2, 2000, &x), 0);
	assert_int_equal(x, -1);
	assert_int_equal(rf_pvec_count(t2), 2001);
	model mv = {xs, N};
	check(v, &mv);
	/* conj on a subvec that ends where v does: a window still, one longer */
	rf_pvec *e, *e1, *e2;
	assert_int_equal(rf_pvec_subvec(v, 100, N, &e), 0);
	assert_int_equal(rf_pvec_conj(e, -2, &e1), 0); /* claims v's next tail slot */
	assert_int_equal(rf_pvec_conj(e, -3, &e2), 0); /* finds it taken: copies */
	xs[N] = -2;
	model me = {xs + 100, N - 100 + 1};
	check(e1, &me);
	xs[N] = -3;
	check(e2, &me);
	me.n--;
	check(e, &me);
	check(v, &mv);
	rf_pvec_release(e2);
	rf_pvec_release(e1);
	rf_pvec_release(e);
	/* conj on a subvec of the whole: claims the next slot as a conj on v would, and the
	 * result is a version of its own */
	rf_pvec *f, *fw, *f1;
	assert_int_equal(rf_pvec_conj(v, -4, &f), 0); /* v's next slot is taken: a new tail */
	assert_int_equal(rf_pvec_subvec(f, 0, N + 1, &fw), 0);
	assert_int_equal(rf_pvec_conj(fw, -5, &f1), 0);
	assert_ptr_not_equal(f1, fw);
	assert_ptr_not_equal(f1, f);
	xs[N] = -4;
	xs[N + 1] = -5;
	model mf = {xs, N + 2};
	check(f1, &mf);
	mf.n--;
	check(f, &mf);
	check(fw, &mf);
	rf_pvec_release(fw);
	rf_pvec_release(f);
	mf.n++;
	check(f1, &mf);
	rf_pvec_release(f1);
	/* subvec of a subvec, pop, assoc, transient of a view, fold of a view */
	assert_int_equal(rf_pvec_subvec(s, 10, 20, &u), 0);
	model mu = {xs + 110, 10};
	check(u, &mu);
	rf_pvec *p;
	assert_int_equal(rf_pvec_pop(u, &p), 0);
	mu.n = 9;
	check(p, &mu);
	rf_pvec_release(p);
	rf_tvec *t;
	assert_int_equal(rf_pvec_transient(u, &t), 0);
	assert_int_equal(rf_tvec_conj(t, 5), 0);
	assert_int_equal(rf_tvec_persistent(t, &p), 0);
	assert_int_equal(rf_pvec_count(p), 11);
	rf_pvec_release(p);
	rf_val sum = 0;
	assert_int_equal(rf_fold_n(rf_r_pvec(s), 64, rf_add, 0, rf_add, &sum), 0);
	rf_val want = 0;
	for (int i = 100; i < 2100; i++)
		want += xs[i];
	assert_int_equal(sum, want);
	assert_int_equal(rf_pvec_subvec(v, 5, 4, &p), -ERANGE);
	assert_int_equal(rf_pvec_subvec(v, 0, N + 1, &p), -ERANGE);
	assert_int_equal(rf_pvec_subvec(v, N, N, &p), 0);
	assert_int_equal(rf_pvec_count(p), 0);
	assert_int_equal(rf_pvec_pop(p, &u), -ERANGE);
	rf_pvec_release(p);
	rf_pvec_release(u);
	rf_pvec_release(t2);
	rf_pvec_release(s);
	rf_pvec_release(v);
}

/* Owned elements: each element is a counted object; every retain is matched. */
static _Atomic long live_refs;
/* Versions share their tail leaf: two conj on one version, a conj after a pop, one on a
 * subvec and one on a persistent! version each see their own elements, never another's. */
static void shared_tail(void **state)
{
	(void)state;
	rf_pvec *v, *a, *b, *p, *c, *s, *d, *n;
	rf_val x;
	assert_int_equal(rf_pvec_new(NULL, &v), 0);
	for (int i = 0; i < 37; i++) { /* a trie leaf and 5 in the tail */
		assert_int_equal(rf_pvec_conj(v, i, &n), 0);
		rf_pvec_release(v);
		v = n;
	}
	assert_int_equal(rf_pvec_conj(v, 100, &a), 0); /* claims the tail's next slot */
	assert_int_equal(rf_pvec_conj(v, 200, &b), 0); /* finds it taken: copies */
	assert_int_equal(rf_pvec_peek(a, &x), 0);
	assert_int_equal(x, 100);
	assert_int_equal(rf_pvec_peek(b, &x), 0);
	assert_int_equal(x, 200);
	assert_int_equal(rf_pvec_count(v), 37);
	assert_int_equal(rf_pvec_peek(v, &x), 0);
	assert_int_equal(x, 36);
	assert_int_equal(rf_pvec_pop(a, &p), 0);
	assert_int_equal(rf_pvec_conj(p, 300, &c), 0);
	assert_int_equal(rf_pvec_nth(c, 37, &x), 0);
	assert_int_equal(x, 300);
	assert_int_equal(rf_pvec_nth(a, 37, &x), 0);
	assert_int_equal(x, 100);
	assert_int_equal(rf_pvec_subvec(a, 0, 34, &s), 0);
	assert_int_equal(rf_pvec_conj(s, 400, &d), 0);
	assert_int_equal(rf_pvec_nth(d, 34, &x), 0);
	assert_int_equal(x, 400);
	assert_int_equal(rf_pvec_nth(a, 34, &x), 0);
	assert_int_equal(x, 34);
	rf_pvec *vs[] = {v, a, b, p, c, s, d};
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		rf_pvec_release(vs[i]);

	rf_tvec *t;
	rf_pvec *e, *w, *w1, *w2;
	assert_int_equal(rf_pvec_new(NULL, &e), 0);
	assert_int_equal(rf_pvec_transient(e, &t), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(rf_tvec_conj(t, i), 0);
	assert_int_equal(rf_tvec_persistent(t, &w), 0);
	assert_int_equal(rf_pvec_conj(w, -1, &w1), 0);
	assert_int_equal(rf_pvec_conj(w, -2, &w2), 0);
	assert_int_equal(rf_pvec_nth(w1, 40, &x), 0);
	assert_int_equal(x, -1);
	assert_int_equal(rf_pvec_nth(w2, 40, &x), 0);
	assert_int_equal(x, -2);
	assert_int_equal(rf_pvec_nth(w2, 39, &x), 0);
	assert_int_equal(x, 39);
	rf_pvec *ws[] = {e, w, w1, w2};
	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		rf_pvec_release(ws[i]);
}

/* Versions held as rf_vals (rf_coll_nested, rf_coll_retain / rf_coll_release), and a
 * pop that lands on a length an older version of the same tail has: each is held and
 * released on its own, and the counts of the tail they share come out even (ASan). */
static void nested_and_popped(void **state)
{
	(void)state;
	rf_pvec *outer, *in, *n, *p, *q;
	rf_val x;
	assert_int_equal(rf_pvec_new(&rf_coll_nested, &outer), 0);
	for (int k = 0; k < 40; k++) {
		assert_int_equal(rf_pvec_new(NULL, &in), 0);
		for (int i = 0; i < k; i++) {
			assert_int_equal(rf_pvec_conj(in, 1000 * k + i, &n), 0);
			rf_pvec_release(in);
			in = n;
		}
		assert_int_equal(rf_pvec_conj(outer, rf_from_ptr(in), &n), 0); /* retains in */
		rf_coll_retain(rf_from_ptr(in), 0);
		rf_coll_release(rf_from_ptr(in), 0);
		rf_pvec_release(in); /* outer's reference is left */
		rf_pvec_release(outer);
		outer = n;
	}
	for (int k = 0; k < 40; k++) {
		assert_int_equal(rf_pvec_nth(outer, (size_t)k, &x), 0);
		in = rf_to_ptr(x);
		assert_int_equal(rf_pvec_count(in), k);
		for (int i = 0; i < k; i++) {
			assert_int_equal(rf_pvec_nth(in, (size_t)i, &x), 0);
			assert_int_equal(x, 1000 * k + i);
		}
	}
	rf_pvec_release(outer);

	assert_int_equal(rf_pvec_new(NULL, &in), 0);
	assert_int_equal(rf_pvec_conj(in, 1, &n), 0);
	rf_pvec_release(in);
	assert_int_equal(rf_pvec_conj(n, 2, &p), 0);  /* [1 2] */
	assert_int_equal(rf_pvec_conj(p, 3, &in), 0); /* [1 2 3] */
	assert_int_equal(rf_pvec_pop(in, &q), 0);     /* [1 2] again, on the same tail */
	rf_pvec_release(in);
	rf_pvec_release(p);
	rf_pvec_retain(q);
	rf_pvec_release(q);
	assert_int_equal(rf_pvec_count(q), 2);
	assert_int_equal(rf_pvec_peek(q, &x), 0);
	assert_int_equal(x, 2);
	assert_int_equal(rf_pvec_conj(q, 4, &in), 0); /* slot 2 was taken: a copy */
	assert_int_equal(rf_pvec_nth(in, 2, &x), 0);
	assert_int_equal(x, 4);
	rf_pvec_release(q);
	rf_pvec_release(n);
	rf_pvec_release(in);
}

static void obj_retain(rf_val x, rf_val ctx)
{
	assert_int_equal(ctx, 7);
	atomic_fetch_add(&live_refs, 1);
}
static void obj_release(rf_val x, rf_val ctx)
{
	atomic_fetch_sub(&live_refs, 1);
}
static const rf_coll_ops counted = {
    .size = sizeof(rf_coll_ops), .retain = obj_retain, .release = obj_release, .ctx = 7};

static void owned_elements_balance(void **state)
{
	rf_pvec *v, *n, *old;
	assert_int_equal(rf_pvec_new(&counted, &v), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(rf_pvec_conj(v, i + 1, &n), 0);
		rf_pvec_release(v);
		v = n;
	}
	assert_int_equal(atomic_load(&live_refs), 3000);
	rf_pvec_retain(v);
	old = v;
	for (int i = 0; i < 500; i++) {
		assert_int_equal(rf_pvec_assoc(v, (size_t)(i * 5), -i, &n), 0);
		rf_pvec_release(v);
		v = n;
	}
	for (int i = 0; i < 1200; i++) {
		assert_int_equal(rf_pvec_pop(v, &n), 0);
		rf_pvec_release(v);
		v = n;
	}
	rf_tvec *t;
	assert_int_equal(rf_pvec_transient(v, &t), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(rf_tvec_conj(t, i), 0);
	for (int i = 0; i < 900; i++)
		assert_int_equal(rf_tvec_pop(t), 0);
	assert_int_equal(rf_tvec_assoc(t, 3, 77), 0);
	rf_pvec *w;
	assert_int_equal(rf_tvec_persistent(t, &w), 0);
	rf_tvec *t2;
	assert_int_equal(rf_pvec_transient(w, &t2), 0);
	assert_int_equal(rf_tvec_assoc(t2, 0, 1), 0);
	rf_tvec_free(t2);
	rf_pvec_release(w);
	rf_pvec_release(v);
	rf_pvec_release(old);
	assert_int_equal(atomic_load(&live_refs), 0);
}

/* Owning references count a value by its word: a result equal to a value they hold is
 * taken as that same reference (atom.h, ref.h). So no operation may return a pointer that
 * a version held already has: subvec of the whole vector, pop back to a length the tail
 * had. Each must leave every element released once the owners are gone. */
static int trim_op(rf_val v, rf_val max, rf_val *out)
{
	rf_pvec *n = NULL;
	size_t cnt = rf_pvec_count(rf_to_ptr(v));
	int rc = rf_pvec_subvec(rf_to_ptr(v), 0, cnt < (size_t)max ? cnt : (size_t)max, &n);
	*out = rf_from_ptr(n);
	return rc;
}

static int pop_op(rf_val v, rf_val arg, rf_val *out)
{
	(void)arg;
	rf_pvec *n = NULL;
	int rc = rf_pvec_pop(rf_to_ptr(v), &n);
	*out = rf_from_ptr(n);
	return rc;
}

static rf_ref *stack;

static int push_body(rf_val x, rf_val *out)
{
	return rf_ref_alter(stack, rf_pvec_conj_op, x, out);
}

static int pop_body(rf_val arg, rf_val *out)
{
	return rf_ref_alter(stack, pop_op, arg, out);
}

static rf_pvec *counted_vec(int n)
{
	rf_pvec *v, *next;
	assert_int_equal(rf_pvec_new(&counted, &v), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(rf_pvec_conj(v, i, &next), 0);
		rf_pvec_release(v);
		v = next;
	}
	return v;
}

/* (swap! a #(subvec % 0 (min 10 (count %)))) with nothing to trim. */
static void owning_atom_trims_nothing(void **state)
{
	(void)state;
	rf_atom *a;
	rf_pvec *v = counted_vec(5);
	assert_int_equal(rf_atom_new_owning(rf_from_ptr(v), rf_coll_release, 0, &a), 0);
	assert_int_equal(rf_atom_swap(a, trim_op, 10, NULL), 0);
	rf_atom_free(a);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live_refs), 0);
}

/* A stack in an owning ref that keeps history: push, then pop back to the first value's
 * length, which the history still holds. */
static void owning_ref_push_pop(void **state)
{
	(void)state;
	rf_ref_opts o = {.size = sizeof(o), .release = rf_coll_release, .min_history = 2};
	assert_int_equal(rf_ref_new_opts(rf_from_ptr(counted_vec(5)), &o, &stack), 0);
	assert_int_equal(rf_dosync(push_body, 99, NULL), 0);
	assert_int_equal(rf_dosync(pop_body, 0, NULL), 0);
	rf_ref_free(stack);
	rf_reclaim_barrier();
	assert_int_equal(atomic_load(&live_refs), 0);
}

static int is_even(rf_val x, rf_val arg, rf_val *out)
{
	*out = (x & 1) == 0;
	return 0;
}
static int times(rf_val x, rf_val k, rf_val *out)
{
	*out = x * k;
	return 0;
}

static void fold_over_leaves(void **state)
{
	static const size_t sizes[] = {0, 1, 31, 32, 33, 1000, 1025, 100000};
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		rf_tvec *t;
		rf_pvec *e, *v;
		assert_int_equal(rf_pvec_new(NULL, &e), 0);
		assert_int_equal(rf_pvec_transient(e, &t), 0);
		rf_val want = 0, want_even3 = 0;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(rf_tvec_conj(t, (rf_val)i - 7), 0);
			want += (rf_val)i - 7;
			if ((((rf_val)i - 7) & 1) == 0)
				want_even3 += ((rf_val)i - 7) * 3;
		}
		assert_int_equal(rf_tvec_persistent(t, &v), 0);
		rf_val got = -1;
		assert_int_equal(rf_fold_n(rf_r_pvec(v), 100, rf_add, 0, rf_add, &got), 0);
		assert_int_equal(got, want);
		rf_reducible c = rf_r_map(rf_r_filter(rf_r_pvec(v), is_even, 0), times, 3);
		assert_int_equal(rf_fold(c, rf_add, 0, rf_add, &got), 0);
		assert_int_equal(got, want_even3);
		assert_int_equal(rf_r_reduce(rf_r_pvec(v), rf_add, 0, &got), 0);
		assert_int_equal(got, want);
		rf_pvec_release(v);
		rf_pvec_release(e);
	}
}

static void bad_input(void **state)
{
	rf_pvec *v, *n = NULL;
	rf_val x;
	assert_int_equal(rf_pvec_new(NULL, NULL), -EINVAL);
	assert_int_equal(rf_pvec_count(NULL), 0);
	assert_int_equal(rf_pvec_nth(NULL, 0, &x), -EINVAL);
	assert_int_equal(rf_pvec_conj(NULL, 1, &n), -EINVAL);
	assert_int_equal(rf_pvec_assoc(NULL, 0, 1, &n), -EINVAL);
	assert_int_equal(rf_pvec_pop(NULL, &n), -EINVAL);
	assert_int_equal(rf_pvec_transient(NULL, &(rf_tvec *){NULL}), -EINVAL);
	assert_int_equal(rf_tvec_conj(NULL, 1), -EINVAL);
	assert_int_equal(rf_pvec_from(NULL, 3, NULL, &n), -EINVAL);
	rf_coll_ops unsized = {.size = 0}; /* base.h: structs the caller fills carry their size */
	assert_int_equal(rf_pvec_new(&unsized, &n), -EINVAL);
	rf_coll_ops sized = rf_coll_ops_default();
	assert_int_equal(rf_pvec_new(&sized, &n), 0);
	rf_pvec_release(n);
	rf_pvec_release(NULL);
	rf_tvec_free(NULL);
	assert_int_equal(rf_pvec_new(NULL, &v), 0);
	assert_int_equal(rf_pvec_nth(v, 0, &x), -ERANGE);
	assert_int_equal(rf_pvec_peek(v, &x), -ERANGE);
	assert_int_equal(rf_pvec_pop(v, &n), -ERANGE);
	assert_int_equal(rf_pvec_conj(v, INT64_MIN, &n), 0);
	assert_int_equal(rf_pvec_nth(n, 1, &x), -ERANGE);
	assert_int_equal(rf_pvec_nth(n, SIZE_MAX, &x), -ERANGE);
	assert_int_equal(rf_pvec_assoc(n, SIZE_MAX, 0, &v), -ERANGE);
	assert_int_equal(rf_pvec_assoc(n, 2, 0, &v), -ERANGE);
	assert_int_equal(rf_pvec_peek(n, &x), 0);
	assert_int_equal(x, INT64_MIN);
	assert_int_equal(rf_pvec_chunk(n, 1, &(const rf_val *){NULL}, &(size_t){0}), -ERANGE);
	rf_pvec *w;
	assert_int_equal(rf_pvec_assoc(n, 1, INT64_MAX, &w), 0); /* i == count appends */
	assert_int_equal(rf_pvec_count(w), 2);
	assert_string_equal(rf_strerror(-ERANGE), rf_strerror(-ERANGE)); /* named */
	rf_pvec_release(w);
	rf_pvec_release(n);
	rf_pvec_release(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_ops),
	    cmocka_unit_test(grow_shrink_levels),
	    cmocka_unit_test(transients),
	    cmocka_unit_test(subvecs),
	    cmocka_unit_test(shared_tail),
	    cmocka_unit_test(nested_and_popped),
	    cmocka_unit_test(owned_elements_balance),
	    cmocka_unit_test(owning_atom_trims_nothing),
	    cmocka_unit_test(owning_ref_push_pop),
	    cmocka_unit_test(fold_over_leaves),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
