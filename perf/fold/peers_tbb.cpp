// perf/fold/peers_tbb.cpp: oneTBB peers: parallel_reduce and a task_group per fib call.
#include "peers.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_group.h>

int64_t tbb_sum(const int64_t *a, size_t n)
{
	return oneapi::tbb::parallel_reduce(
	    oneapi::tbb::blocked_range<size_t>(0, n), int64_t(0),
	    [a](const oneapi::tbb::blocked_range<size_t> &r, int64_t s) {
		    for (size_t i = r.begin(); i < r.end(); i++)
			    s += a[i];
		    return s;
	    },
	    [](int64_t x, int64_t y) { return x + y; });
}

int64_t tbb_map_filter(const int64_t *a, size_t n)
{
	return oneapi::tbb::parallel_reduce(
	    oneapi::tbb::blocked_range<size_t>(0, n), int64_t(0),
	    [a](const oneapi::tbb::blocked_range<size_t> &r, int64_t s) {
		    for (size_t i = r.begin(); i < r.end(); i++)
			    if (a[i] % 2 == 0)
				    s += 3 * a[i];
		    return s;
	    },
	    [](int64_t x, int64_t y) { return x + y; });
}

int64_t tbb_fib(int64_t n)
{
	if (n < 2)
		return n;
	int64_t a = 0, b = 0;
	oneapi::tbb::task_group g;
	g.run([&] { a = tbb_fib(n - 1); });
	b = tbb_fib(n - 2);
	g.wait();
	return a + b;
}
