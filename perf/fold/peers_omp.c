/* perf/fold/peers_omp.c: OpenMP peers: reduction(+) loops (map/filter inlined, and
 * through calls of the benchmark's functions) and a task per fib call. */
#include "peers.h"

int64_t omp_sum(const int64_t *a, size_t n)
{
	int64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
	for (size_t i = 0; i < n; i++)
		s += a[i];
	return s;
}

int64_t omp_map_filter(const int64_t *a, size_t n)
{
	int64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
	for (size_t i = 0; i < n; i++)
		if (a[i] % 2 == 0)
			s += 3 * a[i];
	return s;
}

int64_t omp_map_filter_calls(const int64_t *a, size_t n,
                             int (*pred)(int64_t x, int64_t arg, int64_t *out),
                             int (*f)(int64_t x, int64_t arg, int64_t *out))
{
	int64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
	for (size_t i = 0; i < n; i++) {
		int64_t keep = 0, y = 0;
		pred(a[i], 0, &keep);
		if (keep) {
			f(a[i], 3, &y);
			s += y;
		}
	}
	return s;
}

static int64_t fib_task(int64_t n)
{
	if (n < 2)
		return n;
	int64_t a, b;
#pragma omp task shared(a)
	a = fib_task(n - 1);
	b = fib_task(n - 2);
#pragma omp taskwait
	return a + b;
}

int64_t omp_fib(int64_t n)
{
	int64_t r = 0;
#pragma omp parallel
#pragma omp single
	r = fib_task(n);
	return r;
}
