/* runtime/core/conveyance.c: binding frames and their conveyance (see runtime/ctx.h and
 * runtime/stm/binding.h for the ownership rules).
 *
 * Reference counts: increments are relaxed (the incrementer already holds a reference,
 * so the frame cannot go away under it); the decrement is acq_rel so that the last
 * dropper's free happens after every other holder's last use (frame_put has the one
 * shortcut).
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/ctx.h"
#include "runtime/stm/binding.h"

/* Freed frames are kept for reuse by the thread that freed them (up to FRAME_CACHE, a
 * list through `parent`), so a binding costs no call into malloc. Thread-local: no
 * shared state; a thread's list is freed when it exits. */
#define FRAME_CACHE 64

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static _Thread_local rf_frame *cache;
static _Thread_local unsigned cached;
static _Thread_local bool cache_keyed;

static void cache_exit(void *p)
{
	rf_frame **list = p;
	while (*list) {
		rf_frame *f = *list;
		*list = f->parent;
		free(f);
	}
}

static void make_key(void)
{
	pthread_key_create(&cache_key, cache_exit);
}

static rf_frame *frame_alloc(void)
{
	rf_frame *f = cache;
	if (!f)
		return malloc(sizeof(*f));
	cache = f->parent;
	cached--;
	return f;
}

static void frame_free(rf_frame *f)
{
	if (cached == FRAME_CACHE) {
		free(f);
		return;
	}
	if (!cache_keyed) {
		pthread_once(&cache_once, make_key);
		pthread_setspecific(cache_key, &cache);
		cache_keyed = true;
	}
	f->parent = cache;
	cache = f;
	cached++;
}

rf_frame *rf_frame_new(rf_var *var, rf_val val, rf_frame *parent, const rf_ctx *binder)
{
	rf_frame *f = frame_alloc();
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->var = var;
	atomic_init(&f->val, val);
	f->binder = binder;
	f->parent = parent;
	if (parent)
		atomic_fetch_add_explicit(&parent->refs, 1, memory_order_relaxed);
	return f;
}

void *rf_bindings_capture(void)
{
	rf_frame *f = rf_ctx_self()->bindings;
	if (f)
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void *rf_bindings_install(void *frame)
{
	rf_ctx *ctx = rf_ctx_self();
	void *saved = ctx->bindings;
	ctx->bindings = frame;
	return saved;
}

/* Drop one reference; true if it was the last. A holder that sees a count of 1 is the
 * only one: references are only ever added by someone who holds one already, so none
 * can appear; the acquire load pairs with the release half of the other holders'
 * decrements (their last uses come before the free) and saves the read-modify-write on
 * the usual path, a binding that nothing captured. */
static bool frame_put(rf_frame *f)
{
	return atomic_load_explicit(&f->refs, memory_order_acquire) == 1 ||
	       atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1;
}

void rf_bindings_release(void *frame)
{
	rf_frame *f = frame;
	/* iterative: a long chain must not recurse */
	while (f && frame_put(f)) {
		rf_frame *parent = f->parent;
		frame_free(f);
		f = parent;
	}
}
