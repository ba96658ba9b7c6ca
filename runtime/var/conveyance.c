/* runtime/var/conveyance.c: binding frames and their conveyance (see runtime/var/convey.h and
 * runtime/var/binding.h for the ownership rules).
 *
 * Reference counts: increments are relaxed (the incrementer already holds a reference,
 * so the frame cannot go away under it); the decrement is acq_rel so that the last
 * dropper's free happens after every other holder's last use (frame_put has the one
 * shortcut).
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/var/binding.h"
#include "runtime/var/convey.h"

/* Freed frames are kept for reuse by the thread that freed them (up to FRAME_CACHE, a
 * list through `parent`), so a binding costs no call into malloc. Thread-local: no
 * shared state; a thread's list is freed when it exits. */
#define FRAME_CACHE 64

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static _Thread_local var_frame *cache;
static _Thread_local unsigned cached;
static _Thread_local bool cache_keyed;

static void cache_exit(void *p)
{
	var_frame **list = p;
	while (*list) {
		var_frame *f = *list;
		*list = f->parent;
		free(f);
	}
}

static void make_key(void)
{
	pthread_key_create(&cache_key, cache_exit);
}

static var_frame *frame_alloc(void)
{
	var_frame *f = cache;
	if (!f)
		return malloc(sizeof(*f));
	cache = f->parent;
	cached--;
	return f;
}

static void frame_free(var_frame *f)
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

var_frame *var_frame_new(rf_var *var, rf_val val, var_frame *parent, const exec_ctx *binder)
{
	var_frame *f = frame_alloc();
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

/* A context started with a captured frame drops it when it ends. */
static void release_conveyed(exec_ctx *c)
{
	var_bindings_release(c->conveyed);
	c->conveyed = NULL;
}

void *var_bindings_capture(void)
{
	static _Atomic bool end_hooked; /* relaxed: ctx_on_end is idempotent */
	var_frame *f = ctx_self()->bindings;
	if (!f)
		return NULL;
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&end_hooked, memory_order_relaxed)) {
		ctx_on_end(release_conveyed); /* cannot fail: the only registration of its kind */
		atomic_store_explicit(&end_hooked, true, memory_order_relaxed);
	}
	return f;
}

void *var_bindings_install(void *frame)
{
	exec_ctx *ctx = ctx_self();
	void *saved = ctx->bindings;
	ctx->bindings = frame;
	return saved;
}

/* Drop one reference; true if it was the last. A holder that sees a count of 1 is the
 * only one: references are only ever added by someone who holds one already, so none
 * can appear; the acquire load pairs with the release half of the other holders'
 * decrements (their last uses come before the free) and saves the read-modify-write on
 * the usual path, a binding that nothing captured. */
static bool frame_put(var_frame *f)
{
	return atomic_load_explicit(&f->refs, memory_order_acquire) == 1 ||
	       atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1;
}

void var_bindings_release(void *frame)
{
	var_frame *f = frame;
	/* iterative: a long chain must not recurse */
	while (f && frame_put(f)) {
		var_frame *parent = f->parent;
		frame_free(f);
		f = parent;
	}
}
