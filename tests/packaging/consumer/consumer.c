/* A program that uses ringfold as an installed package would: public header only. */
#include <ringfold.h>
#include <stdio.h>

static int answer(rf_val arg, rf_val *out)
{
	*out = arg * 2;
	return 0;
}

int main(void)
{
	rf_atom counter;
	rf_future *f;
	rf_val v;
	if (rf_atom_init(&counter, 0) || rf_atom_swap(&counter, rf_add, 10, NULL) ||
	    rf_atom_deref(&counter, &v) || v != 10)
		return 1;
	if (rf_future_call(answer, 21, &f) || rf_future_deref(f, &v) || v != 42)
		return 2;
	rf_future_free(f);
	rf_atom_destroy(&counter);
	rf_shutdown();
	puts("consumer: ok");
	return 0;
}
