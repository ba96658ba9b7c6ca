/* The tutorial's reducers:
 *
 *   (def numbers (vec (range 1000000)))
 *   (r/fold + numbers)                      ; sum numbers in parallel
 *   (r/fold + (r/filter even? numbers))     ; sum only even numbers, no intermediate list
 */
#include <ringfold.h>
#include <stdio.h>
#include <stdlib.h>

static int even(rf_val x, rf_val unused, rf_val *out) /* even? */
{
	*out = x % 2 == 0;
	return 0;
}

int main(void)
{
	size_t n = 1000000;
	int64_t *v = malloc(n * sizeof(*v));
	if (!v)
		return 1;
	for (size_t i = 0; i < n; i++)
		v[i] = (int64_t)i;
	rf_reducible numbers = rf_r_int64(v, n);

	rf_val total, evens;
	int rc1 = rf_fold(numbers, rf_add, 0, rf_add, &total);
	int rc2 = rf_fold(rf_r_filter(numbers, even, 0), rf_add, 0, rf_add, &evens);
	free(v);
	printf("(r/fold + numbers) = %lld\n", (long long)total);
	printf("(r/fold + (r/filter even? numbers)) = %lld\n", (long long)evens);
	if (rc1 || rc2 || total != 499999500000LL || evens != 249999500000LL) {
		fprintf(stderr, "wrong: %s / %s\n", rf_strerror(rc1), rf_strerror(rc2));
		return 1;
	}
	return 0;
}
