/* The tutorial's Fork/Join summation: split until 512 numbers or fewer, fork one half,
 * compute the other, join.
 *
 *   (defn summation [numbers] (proxy [RecursiveTask] [] (compute [] ...)))
 *   (defn sum [numbers] (.invoke pool (summation (vec numbers))))
 *   (def answer (sum (range 1000000)))
 */
#include <ringfold.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct numbers {
	const int64_t *v;
	size_t count;
} numbers;

static int summation(rf_val arg, rf_val *out) /* compute [] */
{
	const numbers *ns = rf_to_ptr(arg);
	if (ns->count <= 512) { /* small enough: just reduce over them */
		int64_t sum = 0;
		for (size_t i = 0; i < ns->count; i++)
			sum += ns->v[i];
		*out = sum;
		return 0;
	}
	size_t half = ns->count / 2; /* otherwise split the vector roughly in two */
	numbers f1 = {ns->v, half}, f2 = {ns->v + half, ns->count - half};
	rf_fj_task t2;
	rf_val r1, r2;
	int rc = rf_fj_fork(&t2, summation, rf_from_ptr(&f2)); /* (.fork f2) */
	if (rc < 0)
		return rc;
	int rc1 = summation(rf_from_ptr(&f1), &r1); /* (.compute f1) */
	int rc2 = rf_fj_join(&t2, &r2);             /* (.join f2) */
	if (rc1 < 0 || rc2 < 0)
		return rc1 < 0 ? rc1 : rc2;
	*out = r1 + r2;
	return 0;
}

static int sum(const numbers *ns, rf_val *answer) /* (.invoke pool (summation ...)) */
{
	return rf_fj_invoke(summation, rf_from_ptr(ns), answer);
}

int main(void)
{
	size_t n = 1000000;
	int64_t *v = malloc(n * sizeof(*v)); /* (range 1000000) */
	if (!v)
		return 1;
	for (size_t i = 0; i < n; i++)
		v[i] = (int64_t)i;
	numbers ns = {v, n};
	rf_val answer;
	int rc = sum(&ns, &answer);
	free(v);
	printf("answer = %lld\n", (long long)answer);
	if (rc != 0 || answer != 499999500000LL) {
		fprintf(stderr, "wrong: rc %d (%s)\n", rc, rf_strerror(rc));
		return 1;
	}
	return 0;
}
