/* ringfold from C++: <ringfold.h> compiles under -Wall -Wextra -Werror -pedantic with
 * C++17 and C++20, and the families work when called from C++: atoms, a future, a
 * channel fed by a go process, a ref altered in a transaction, a read section, a
 * bound function run on a raw thread, and rf_deref /
 * rf_deref_timeout / rf_deref_default through their C++ overloads.
 * Built with the public headers and the shared library only; exits 0 when every check
 * holds, aborts with file and line (from any thread or fiber) when one does not. */
#include <ringfold.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
			             #cond);                                                       \
			std::abort();                                                              \
		}                                                                                  \
	} while (0)

static_assert(alignof(rf_atom) == RF_ATOM_SIZE, "an atom fills one cache line");
static_assert(sizeof(rf_atom) == RF_ATOM_SIZE, "an atom fills one cache line");
static_assert(alignof(rf_lock) == 8 && alignof(rf_volatile) == 8, "opaque storage alignment");

static const int kGoValues = 100;

/* A captureless lambda converts to a ringfold callback pointer. */
static const rf_update_fn times = [](rf_val old, rf_val arg, rf_val *out) -> int {
	*out = old * arg;
	return 0;
};

static void atoms()
{
	rf_atom a; /* caller memory, aligned by RF_ALIGNAS */
	CHECK(rf_atom_init(&a, 1) == 0);
	rf_val v = 0;
	CHECK(rf_atom_swap(&a, rf_add, 41, &v) == 0 && v == 42);
	CHECK(rf_atom_swap(&a, times, 2, &v) == 0 && v == 84);
	CHECK(rf_atom_compare_and_set(&a, 84, 7) == 1);
	CHECK(rf_atom_compare_and_set(&a, 84, 8) == 0);
	CHECK(rf_deref(&a, &v) == 0 && v == 7);
	CHECK(rf_atom_swap(nullptr, rf_add, 1, &v) == -EINVAL);
	rf_atom_destroy(&a);

	rf_atom *h = nullptr;
	CHECK(rf_atom_new(5, &h) == 0);
	CHECK(rf_atom_reset(h, 6) == 0);
	CHECK(rf_deref(h, &v) == 0 && v == 6);
	rf_atom_free(h);

	/* the inline read section around an owning atom's value */
	rf_atom owning;
	CHECK(rf_atom_init_owning(
	          &owning, rf_from_ptr(new int(3)),
	          [](rf_val x, rf_val) { delete static_cast<int *>(rf_to_ptr(x)); }, 0) == 0);
	rf_reclaim_enter();
	CHECK(rf_deref(&owning, &v) == 0);
	CHECK(rf_atom_reset(&owning, rf_from_ptr(new int(4))) == 0);
	CHECK(*static_cast<int *>(rf_to_ptr(v)) == 3); /* replaced, not released yet */
	rf_reclaim_exit();
	rf_atom_destroy(&owning);
	rf_reclaim_barrier();
}

/* A bound function carries a dynamic binding to a raw thread. */
struct capture {
	rf_bound_fn *bf;
	rf_val var;
};

static int read_var(rf_val var, rf_val *out)
{
	return rf_var_deref(static_cast<rf_var *>(rf_to_ptr(var)), out);
}

static int make_bound(rf_val arg, rf_val *)
{
	auto *c = static_cast<capture *>(rf_to_ptr(arg));
	return rf_bound_fn_new(read_var, c->var, &c->bf);
}

static void vars()
{
	rf_var *v = nullptr;
	CHECK(rf_var_new_dynamic(1, &v) == 0);
	capture cap = {nullptr, rf_from_ptr(v)};
	CHECK(rf_var_binding(v, 2, make_bound, rf_from_ptr(&cap), nullptr) == 0);
	rf_future *f = nullptr;
	rf_val out = 0;
	CHECK(rf_thread_start(rf_bound_fn_call, rf_from_ptr(cap.bf), &f) == 0);
	CHECK(rf_future_deref(f, &out) == 0 && out == 2);
	rf_future_free(f);
	rf_bound_fn_free(cap.bf);
	rf_var_free(v);
}

static void future()
{
	rf_future *f = nullptr;
	CHECK(rf_future_call(
	          [](rf_val arg, rf_val *out) -> int {
		          *out = arg + 1;
		          return 0;
	          },
	          41, &f) == 0);
	rf_val v = 0;
	CHECK(rf_deref(f, &v) == 0 && v == 42);
	CHECK(rf_deref_timeout(f, 0, &v) == 0 && v == 42);
	rf_future_free(f);

	rf_future *bad = nullptr;
	CHECK(rf_future_call([](rf_val, rf_val *) -> int { return -EPROTO; }, 0, &bad) == 0);
	CHECK(rf_deref(bad, &v) == -EPROTO);
	rf_future_free(bad);
}

/* A go process puts 1..kGoValues on the channel, closes it, and returns the count. */
static int producer(rf_val arg, rf_val *out)
{
	rf_chan *ch = static_cast<rf_chan *>(rf_to_ptr(arg));
	for (int i = 1; i <= kGoValues; i++)
		CHECK(rf_chan_put(ch, i) == 0);
	rf_chan_close(ch);
	*out = kGoValues;
	return 0;
}

static void channel()
{
	rf_chan *ch = nullptr, *done = nullptr;
	CHECK(rf_chan_new(&ch) == 0);
	CHECK(rf_go(producer, rf_from_ptr(ch), &done) == 0);
	rf_val v = 0, sum = 0, expect = 0;
	int rc;
	while ((rc = rf_chan_take(ch, &v)) == 0) {
		expect++;
		CHECK(v == expect); /* an unbuffered channel keeps the producer's order */
		sum += v;
	}
	CHECK(rc == RF_ECLOSED);
	CHECK(sum == kGoValues * (kGoValues + 1) / 2);
	CHECK(rf_chan_take(done, &v) == 0 && v == kGoValues);
	CHECK(rf_chan_take(done, &v) == RF_ECLOSED);
	rf_chan_release(done);
	rf_chan_release(ch);
}

static int transfer(rf_val arg, rf_val *out)
{
	rf_ref **refs = static_cast<rf_ref **>(rf_to_ptr(arg));
	int rc = rf_ref_alter(refs[0], rf_add, -30, nullptr);
	if (rc < 0)
		return rc;
	rc = rf_ref_alter(refs[1], rf_add, 30, nullptr);
	if (rc < 0)
		return rc;
	*out = rf_in_transaction() ? 1 : 0;
	return 0;
}

static void transaction()
{
	rf_ref *from = nullptr, *to = nullptr;
	CHECK(rf_ref_new(100, &from) == 0 && rf_ref_new(0, &to) == 0);
	rf_ref *refs[2] = {from, to};
	rf_val inside = 0, v = 0;
	CHECK(rf_dosync(transfer, rf_from_ptr(refs), &inside) == 0 && inside == 1);
	CHECK(!rf_in_transaction());
	CHECK(rf_deref(from, &v) == 0 && v == 70);
	CHECK(rf_deref(to, &v) == 0 && v == 30);
	CHECK(rf_ref_alter(from, rf_add, 1, nullptr) == RF_ENOTX);
	rf_ref_free(to);
	rf_ref_free(from);
}

static void deref_default()
{
	rf_promise *p = nullptr;
	CHECK(rf_promise_new(&p) == 0);
	rf_val v = 0;
	CHECK(rf_deref_default(p, 0, 99, &v) == -ETIMEDOUT && v == 99);
	CHECK(rf_deref_timeout(p, -1, &v) == -EINVAL);
	CHECK(rf_promise_deliver(p, 99) == 0);
	v = 0;
	CHECK(rf_deref_default(p, 0, 1, &v) == 0 && v == 99);
	rf_promise_free(p);
}

int main()
{
	atoms();
	future();
	channel();
	transaction();
	deref_default();
	vars();
	rf_shutdown();
	std::printf("C++%ld: ok\n", static_cast<long>(__cplusplus));
	return 0;
}
