/* tests/fault/scenario.c: one pass over every family, written to survive any single
 * call failing: each step checks its codes, frees what it made on every path, and
 * checks what must hold whenever the calls it depends on succeeded. */
#include "fault/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "ringfold/agent.h"
#include "ringfold/atom.h"
#include "ringfold/chan.h"
#include "ringfold/executor.h"
#include "ringfold/fj.h"
#include "ringfold/fold.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/lock.h"
#include "ringfold/promise.h"
#include "ringfold/ref.h"
#include "ringfold/runtime.h"
#include "ringfold/var.h"

#define EXPECT(x)                                                                                  \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #x);           \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

static int bad;

static int inc(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg;
	return 0;
}

static void atoms(void)
{
	rf_atom *a;
	if (rf_atom_new(0, &a) < 0)
		return;
	int ok = 0;
	for (int i = 0; i < 50; i++)
		ok += rf_atom_swap(a, inc, 1, NULL) == 0;
	rf_val v;
	EXPECT(rf_atom_deref(a, &v) == 0 && v == ok);
	rf_atom_free(a);
}

static rf_ref *refs[2];

static int transfer(rf_val amount, rf_val *out)
{
	int rc = rf_ref_alter(refs[0], inc, -amount, NULL);
	return rc < 0 ? rc : rf_ref_alter(refs[1], inc, amount, NULL);
}

static void stm(void)
{
	if (rf_ref_new(100, &refs[0]) < 0)
		return;
	if (rf_ref_new(0, &refs[1]) == 0) {
		for (int i = 0; i < 10; i++)
			(void)rf_dosync(transfer, 3, NULL);
		rf_val a, b;
		EXPECT(rf_ref_deref(refs[0], &a) == 0 && rf_ref_deref(refs[1], &b) == 0 &&
		       a + b == 100);
		rf_ref_free(refs[1]);
	}
	rf_ref_free(refs[0]);
}

static int producer(rf_val arg, rf_val *out)
{
	rf_chan *ch = rf_to_ptr(arg);
	for (int i = 1; i <= 10; i++)
		if (rf_chan_put(ch, i) < 0)
			break;
	rf_chan_close(ch);
	*out = 1;
	return 0;
}

static void channels(void)
{
	rf_chan *ch, *res;
	if (rf_chan_new_buf(RF_BUF_FIXED, 4, &ch) < 0)
		return;
	if (rf_go(producer, rf_from_ptr(ch), &res) == 0) {
		rf_val v, sum = 0;
		int n = 0;
		while (rf_chan_take(ch, &v) == 0)
			sum += v, n++;
		EXPECT(n == 10 && sum == 55); /* puts to a buffered chan cannot fail here */
		EXPECT(rf_chan_take(res, &v) == 0 && v == 1);
		rf_chan_release(res);
	}
	rf_chan_release(ch);
	rf_chan *t;
	if (rf_chan_timeout(1, &t) == 0) {
		rf_val v;
		EXPECT(rf_chan_take(t, &v) == RF_ECLOSED);
		rf_chan_release(t);
	}
}

static int square(rf_val arg, rf_val *out)
{
	*out = arg * arg;
	return 0;
}

static int deref_promise(rf_val arg, rf_val *out)
{
	return rf_promise_deref(rf_to_ptr(arg), out);
}

static void futures(void)
{
	rf_future *fs[20];
	for (int i = 0; i < 20; i++)
		if (rf_future_call(square, i, &fs[i]) < 0)
			fs[i] = NULL;
	for (int i = 0; i < 20; i++) {
		if (!fs[i])
			continue;
		rf_val v;
		EXPECT(rf_future_deref(fs[i], &v) == 0 && v == i * i);
		rf_future_free(fs[i]);
	}
	rf_promise *p;
	if (rf_promise_new(&p) < 0)
		return;
	rf_future *f;
	if (rf_future_call(deref_promise, rf_from_ptr(p), &f) == 0) {
		EXPECT(rf_promise_deliver(p, 7) == 0);
		rf_val v;
		EXPECT(rf_future_deref(f, &v) == 0 && v == 7);
		rf_future_free(f);
	}
	rf_promise_free(p);
}

static void agents(void)
{
	rf_agent *a;
	if (rf_agent_new(0, NULL, &a) < 0)
		return;
	int sent = 0;
	for (int i = 0; i < 10; i++)
		sent += rf_agent_send(a, inc, 1) == 0;
	if (rf_agent_await(&a, 1) == 0) {
		rf_val v;
		EXPECT(rf_agent_deref(a, &v) == 0 && (v == sent || rf_agent_error(a) < 0));
	}
	rf_agent_free(a);
}

static int add(rf_val acc, rf_val x, rf_val *out)
{
	*out = acc + x;
	return 0;
}

static void folds(void)
{
	rf_val sum;
	if (rf_fold(rf_r_range(0, 10000), add, 0, add, &sum) == 0)
		EXPECT(sum == 49995000);
}

static int read_one(rf_val fd, rf_val *out)
{
	char c;
	ssize_t n = rf_io_read((int)fd, &c, 1);
	*out = c;
	return n == 1 ? 0 : (int)n;
}

static void io(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	rf_future *f;
	if (rf_future_call(read_one, p[0], &f) == 0) {
		EXPECT(write(p[1], "z", 1) == 1);
		rf_val v;
		EXPECT(rf_future_deref(f, &v) == 0 && v == 'z');
		rf_future_free(f);
	}
	close(p[0]);
	close(p[1]);
}

static void executors(void)
{
	rf_executor *ex;
	if (rf_executor_new(2, &ex) < 0)
		return;
	rf_future *f;
	if (rf_executor_submit(ex, square, 9, &f) == 0) {
		rf_val v;
		EXPECT(rf_future_deref(f, &v) == 0 && v == 81);
		rf_future_free(f);
	}
	rf_executor_free(ex);
}

static int locked_inc(rf_val arg, rf_val *out)
{
	(*(long *)rf_to_ptr(arg))++;
	*out = 0;
	return 0;
}

static void locks(void)
{
	rf_lock *l;
	if (rf_lock_new(&l) < 0)
		return;
	long n = 0;
	int ok = 0;
	for (int i = 0; i < 10; i++)
		ok += rf_locking(l, locked_inc, rf_from_ptr(&n), NULL) == 0;
	EXPECT(n == ok);
	rf_lock_free(l);
}

static rf_var *dyn;

static int read_dyn(rf_val arg, rf_val *out)
{
	return rf_var_deref(dyn, out);
}

/* Inside (binding [*dyn* 5] ...): every kind of started work sees 5 or is refused. */
static int spawn_bound(rf_val arg, rf_val *out)
{
	rf_future *f;
	if (rf_future_call(read_dyn, 0, &f) == 0) {
		rf_val v = 0;
		EXPECT(rf_future_deref(f, &v) == 0 && v == 5);
		rf_future_free(f);
	}
	rf_chan *res;
	if (rf_go(read_dyn, 0, &res) == 0) {
		rf_val v = 0;
		int rc = rf_chan_take(res, &v);
		EXPECT(rc == 0 ? v == 5 : rc == RF_ECLOSED);
		rf_chan_release(res);
	}
	rf_val v = 0;
	if (rf_fj_invoke(read_dyn, 0, &v) == 0)
		EXPECT(v == 5);
	return 0;
}

static void vars(void)
{
	if (rf_var_new_dynamic(1, &dyn) < 0)
		return;
	rf_val out;
	int rc = rf_var_binding(dyn, 5, spawn_bound, 0, &out);
	EXPECT(rc == 0 || rc == -ENOMEM);
	rf_var_free(dyn);
}

int scenario(void)
{
	bad = 0;
	(void)rf_init(NULL); /* failing is fine: the first family call tries again */
	atoms();
	stm();
	channels();
	futures();
	agents();
	folds();
	io();
	executors();
	locks();
	vars();
	rf_shutdown();
	return bad;
}
