/* The README's example: ten futures deposit into one atom; deref waits for each. */
#include <ringfold.h>
#include <stdio.h>

static rf_atom balance; /* (def balance (atom 0)) */

static int deposit(rf_val amount, rf_val *out)
{
	return rf_atom_swap(&balance, rf_add, amount, out); /* (swap! balance + amount) */
}

int main(void)
{
	rf_future *f[10];
	rf_val v;
	if (rf_atom_init(&balance, 0) < 0)
		return 1;
	for (int i = 0; i < 10; i++) /* (future (deposit (inc i))): a fiber each */
		if (rf_future_call(deposit, i + 1, &f[i]) < 0)
			return 1;
	for (int i = 0; i < 10; i++) { /* @f: parks a fiber, blocks a thread */
		if (rf_deref(f[i], &v) < 0)
			return 1;
		rf_future_free(f[i]);
	}
	rf_deref(&balance, &v); /* @balance */
	printf("balance: %lld\n", (long long)v);
	rf_shutdown();
	return v == 55 ? 0 : 1;
}
