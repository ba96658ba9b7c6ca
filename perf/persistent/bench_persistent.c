/* perf/persistent/bench_persistent.c: persistent vectors and hash maps beside a mutable C
 * array / open-addressing table (c_mutable, the floor); Clojure and im-rc rows come from
 * run-peers in the same run.
 *   pvec_conj_1e6       1e6 persistent conj, each version released once the next exists
 *                       (ns per conj)
 *   pvec_nth_1e6        1e6 nth at random indexes of a 1e6 vector (ns per nth)
 *   phm_assoc_1e6       1e6 persistent assoc of new integer keys, old versions released
 *                       (ns per assoc)
 *   phm_get_1e6         1e6 get of random present keys of a 1e6 map (ns per get)
 *   pvec_transient_1e6  a 1e6 vector built with conj! and persistent! (ns per conj!)
 *   pvec_fold_1e7       rf_fold rf_add over a 1e7 vector (ns per element; c_mutable: a
 *                       serial loop over an array)
 * Every answer is checked; a wrong one aborts the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ringfold.h"

#define N6 1000000ull
#define N7 10000000ull

static void check(const char *what, int64_t got, int64_t want)
{
	if (got != want) {
		fprintf(stderr, "bench_persistent: %s gave %lld, expected %lld\n", what,
		        (long long)got, (long long)want);
		exit(1);
	}
}

static void ok(const char *what, int rc)
{
	if (rc < 0) {
		fprintf(stderr, "bench_persistent: %s: %s\n", what, rf_strerror(rc));
		exit(1);
	}
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t xorshift(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int64_t key_of(uint64_t i)
{
	return (int64_t)(i * 0x9E3779B97F4A7C15ull);
}

/* ---- vectors ---- */

static uint64_t conj_ringfold(uint64_t ops, void *arg)
{
	rf_pvec *v, *n;
	ok("new", rf_pvec_new(NULL, &v));
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		ok("conj", rf_pvec_conj(v, (rf_val)i, &n));
		rf_pvec_release(v);
		v = n;
	}
	uint64_t t = bench_now_ns() - t0;
	rf_val last;
	ok("peek", rf_pvec_peek(v, &last));
	check("pvec conj", last, (int64_t)ops - 1);
	rf_pvec_release(v);
	return t;
}

static uint64_t conj_c(uint64_t ops, void *arg)
{
	size_t cap = 16, n = 0;
	int64_t *a = malloc(cap * sizeof(*a));
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		if (n == cap && !(a = realloc(a, (cap *= 2) * sizeof(*a))))
			exit(1);
		a[n++] = (int64_t)i;
	}
	uint64_t t = bench_now_ns() - t0;
	check("c conj", a[n - 1], (int64_t)ops - 1);
	free(a);
	return t;
}

static uint64_t transient_ringfold(uint64_t ops, void *arg)
{
	rf_pvec *e, *v;
	rf_tvec *t;
	ok("new", rf_pvec_new(NULL, &e));
	uint64_t t0 = bench_now_ns();
	ok("transient", rf_pvec_transient(e, &t));
	for (uint64_t i = 0; i < ops; i++)
		ok("conj!", rf_tvec_conj(t, (rf_val)i));
	ok("persistent!", rf_tvec_persistent(t, &v));
	uint64_t el = bench_now_ns() - t0;
	check("transient count", (int64_t)rf_pvec_count(v), (int64_t)ops);
	rf_pvec_release(v);
	rf_pvec_release(e);
	return el;
}

static rf_pvec *big_vec; /* 0 .. n-1 */
static int64_t *big_arr;
static uint64_t *idx; /* random indexes < N6 */

static uint64_t nth_ringfold(uint64_t ops, void *arg)
{
	int64_t s = 0, want = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_val x;
		rf_pvec_nth(big_vec, idx[i], &x);
		s += x;
	}
	uint64_t t = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++)
		want += (int64_t)idx[i];
	check("pvec nth", s, want);
	return t;
}

static uint64_t nth_c(uint64_t ops, void *arg)
{
	int64_t s = 0, want = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		s += big_arr[idx[i]];
	uint64_t t = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++)
		want += (int64_t)idx[i];
	check("c nth", s, want);
	return t;
}

static uint64_t fold_ringfold(uint64_t ops, void *arg)
{
	rf_val s = 0;
	uint64_t t0 = bench_now_ns();
	ok("fold", rf_fold(rf_r_pvec(big_vec), rf_add, 0, rf_add, &s));
	uint64_t t = bench_now_ns() - t0;
	check("pvec fold", s, (int64_t)(ops * (ops - 1) / 2));
	return t;
}

static uint64_t fold_c(uint64_t ops, void *arg)
{
	int64_t s = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		s += big_arr[i];
	uint64_t t = bench_now_ns() - t0;
	check("c fold", s, (int64_t)(ops * (ops - 1) / 2));
	return t;
}

static void make_big(uint64_t n)
{
	rf_pvec *e;
	rf_tvec *t;
	rf_pvec_release(big_vec);
	free(big_arr);
	ok("new", rf_pvec_new(NULL, &e));
	ok("transient", rf_pvec_transient(e, &t));
	big_arr = malloc(n * sizeof(*big_arr));
	for (uint64_t i = 0; i < n; i++) {
		ok("conj!", rf_tvec_conj(t, (rf_val)i));
		big_arr[i] = (int64_t)i;
	}
	ok("persistent!", rf_tvec_persistent(t, &big_vec));
	rf_pvec_release(e);
}

/* ---- maps ---- */

/* Open addressing, linear probing, a power-of-two table kept at most half full; key 0 is
 * never used (keys are key_of(i + 1)), so 0 marks an empty slot. */
typedef struct table {
	int64_t *k, *v;
	size_t mask, n;
} table;

static size_t slot_of(int64_t k, size_t mask)
{
	uint64_t h = (uint64_t)k;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & mask;
}

static void t_put(table *t, int64_t k, int64_t v);

static void t_grow(table *t)
{
	table g = {calloc(2 * (t->mask + 1), 8), calloc(2 * (t->mask + 1), 8), 2 * t->mask + 1, 0};
	for (size_t i = 0; i <= t->mask; i++)
		if (t->k[i])
			t_put(&g, t->k[i], t->v[i]);
	free(t->k);
	free(t->v);
	*t = g;
}

static void t_put(table *t, int64_t k, int64_t v)
{
	if (2 * (t->n + 1) > t->mask + 1)
		t_grow(t);
	size_t i = slot_of(k, t->mask);
	while (t->k[i] && t->k[i] != k)
		i = (i + 1) & t->mask;
	t->n += !t->k[i];
	t->k[i] = k;
	t->v[i] = v;
}

static int64_t t_get(const table *t, int64_t k)
{
	size_t i = slot_of(k, t->mask);
	while (t->k[i] != k) {
		if (!t->k[i])
			return -1;
		i = (i + 1) & t->mask;
	}
	return t->v[i];
}

static uint64_t assoc_ringfold(uint64_t ops, void *arg)
{
	rf_phm *m, *n;
	ok("new", rf_phm_new(NULL, &m));
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 1; i <= ops; i++) {
		ok("assoc", rf_phm_assoc(m, key_of(i), (rf_val)i, &n));
		rf_phm_release(m);
		m = n;
	}
	uint64_t t = bench_now_ns() - t0;
	check("phm count", (int64_t)rf_phm_count(m), (int64_t)ops);
	rf_phm_release(m);
	return t;
}

static uint64_t assoc_c(uint64_t ops, void *arg)
{
	table t = {calloc(16, 8), calloc(16, 8), 15, 0};
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 1; i <= ops; i++)
		t_put(&t, key_of(i), (int64_t)i);
	uint64_t el = bench_now_ns() - t0;
	check("table count", (int64_t)t.n, (int64_t)ops);
	free(t.k);
	free(t.v);
	return el;
}

static rf_phm *big_map;
static table big_table;

static uint64_t get_ringfold(uint64_t ops, void *arg)
{
	int64_t s = 0, want = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_val v;
		rf_phm_get(big_map, key_of(idx[i] + 1), -1, &v);
		s += v;
	}
	uint64_t t = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++)
		want += (int64_t)idx[i] + 1;
	check("phm get", s, want);
	return t;
}

static uint64_t get_c(uint64_t ops, void *arg)
{
	int64_t s = 0, want = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		s += t_get(&big_table, key_of(idx[i] + 1));
	uint64_t t = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++)
		want += (int64_t)idx[i] + 1;
	check("table get", s, want);
	return t;
}

static void make_big_map(void)
{
	rf_phm *e;
	rf_thm *t;
	ok("new", rf_phm_new(NULL, &e));
	ok("transient", rf_phm_transient(e, &t));
	big_table = (table){calloc(16, 8), calloc(16, 8), 15, 0};
	for (uint64_t i = 1; i <= N6; i++) {
		ok("assoc!", rf_thm_assoc(t, key_of(i), (rf_val)i));
		t_put(&big_table, key_of(i), (int64_t)i);
	}
	ok("persistent!", rf_thm_persistent(t, &big_map));
	rf_phm_release(e);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	idx = malloc(N6 * sizeof(*idx));
	for (uint64_t i = 0; i < N6; i++)
		idx[i] = xorshift() % N6;
	if (bench_wanted("pvec_conj_1e6")) {
		bench_run("pvec_conj_1e6", "ringfold", N6, conj_ringfold, NULL);
		bench_run("pvec_conj_1e6", "c_mutable", N6, conj_c, NULL);
	}
	if (bench_wanted("pvec_nth_1e6")) {
		make_big(N6);
		bench_run("pvec_nth_1e6", "ringfold", N6, nth_ringfold, NULL);
		bench_run("pvec_nth_1e6", "c_mutable", N6, nth_c, NULL);
	}
	if (bench_wanted("phm_assoc_1e6")) {
		bench_run("phm_assoc_1e6", "ringfold", N6, assoc_ringfold, NULL);
		bench_run("phm_assoc_1e6", "c_mutable", N6, assoc_c, NULL);
	}
	if (bench_wanted("phm_get_1e6")) {
		make_big_map();
		bench_run("phm_get_1e6", "ringfold", N6, get_ringfold, NULL);
		bench_run("phm_get_1e6", "c_mutable", N6, get_c, NULL);
		rf_phm_release(big_map);
		free(big_table.k);
		free(big_table.v);
	}
	if (bench_wanted("pvec_transient_1e6")) {
		bench_run("pvec_transient_1e6", "ringfold", N6, transient_ringfold, NULL);
		bench_run("pvec_transient_1e6", "c_mutable", N6, conj_c, NULL);
	}
	if (bench_wanted("pvec_fold_1e7")) {
		make_big(N7);
		bench_run("pvec_fold_1e7", "ringfold", N7, fold_ringfold, NULL);
		bench_run("pvec_fold_1e7", "c_mutable", N7, fold_c, NULL);
	}
	rf_pvec_release(big_vec);
	free(big_arr);
	free(idx);
	rf_shutdown();
	return 0;
}
