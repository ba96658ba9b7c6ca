/* perf/fold/peers_omp.c: OpenMP peers: reduction(+) loops and a task per fib call. */
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
