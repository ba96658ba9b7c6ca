/* runtime/deref/thread.c: a function on a new OS thread, its outcome kept in a future.
 * The thread owns the future's runner reference; nothing else is shared.
 */
#include <pthread.h>

#include "ringfold/thread.h"
#include "runtime/deref/future.h"

static void *thread_main(void *arg)
{
	future_run(arg, false); /* a raw thread conveys no bindings */
	return NULL;
}

int rf_thread_start(rf_body_fn fn, rf_val arg, rf_future **out)
{
	if (!fn)
		return -EINVAL;
	struct rf_future *f;
	int rc = future_alloc(fn, arg, NULL, &f);
	if (rc < 0)
		return rc;
	pthread_attr_t attr;
	pthread_t tid;
	if ((rc = pthread_attr_init(&attr)) != 0) {
		future_discard(f);
		return -rc;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, thread_main, f);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		future_discard(f);
		return -rc;
	}
	if (out)
		*out = f;
	else
		rf_future_free(f);
	return 0;
}
