/* runtime/var/conveyance.c: heap frames, captures and their conveyance (see
 * runtime/var/convey.h and runtime/var/binding.h for the ownership rules).
 *
 * A capture copies the context's local frames, newest first, down to the first frame
 * that is shared already or has a copy already, and hands out a reference to the copy
 * of the newest. Copies of the binder's own frames are remembered in their `twin`, so a
 * second capture in the same scope copies nothing and set! reaches both.
 *
 * Reference counts (shared frames): increments are relaxed (the incrementer already
 * holds a reference, so the frame cannot go away under it); the decrement is acq_rel so
 * that the last dropper's free happens after every other holder's last use (frame_put
 * has the one shortcut).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/var/binding.h"
#include "runtime/var/convey.h"

/* Freed frames are kept for reuse by the thread that freed them (up to FRAME_CACHE, a
 * list through `parent`), so a push or a capture costs no call into malloc.
 * Thread-local: no shared state; a thread's list is freed when it exits. */
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

var_frame *var_frame_alloc(void)
{
	var_frame *f = cache;
	if (!f)
		return malloc(sizeof(*f));
	cache = f->parent;
	cached--;
	return f;
}

void var_frame_free(var_frame *f)
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

/* A context that ends drops the frame it was started with, and the frames it pushed and
 * never popped (a precondition broken, but no reason to leak their copies). */
static void context_end(exec_ctx *c)
{
	bool running = c == ctx_self(); /* a fiber ending: its frames are in the thread's word */
	var_frame *f = running ? var_top() : c->bindings;
	while (f && f->kind == FRAME_PUSHED && f->binder == c) {
		var_frame *parent = f->parent;
		var_frame_leave(f);
		var_frame_free(f);
		f = parent;
	}
	if (running)
		var_set_top(NULL);
	c->bindings = NULL;
	var_bindings_release(c->conveyed);
	c->conveyed = NULL;
}

int var_hook_end(void)
{
	static _Atomic bool hooked; /* relaxed: ctx_on_end is idempotent */
	if (atomic_load_explicit(&hooked, memory_order_relaxed))
		return 0;
	int rc = ctx_on_end(context_end);
	if (!rc)
		atomic_store_explicit(&hooked, true, memory_order_relaxed);
	return rc;
}

static void retain(var_frame *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

int var_bindings_capture(void **frame)
{
	const exec_ctx *ctx = ctx_self();
	var_frame *top = var_top(), *base = NULL, *f;
	*frame = NULL;
	if (!top)
		return 0;
	if (var_hook_end()) /* only the first capture or push registers; no hook: no frame */
		return -ENOMEM;
	size_t n = 0;
	for (f = top; f; f = f->parent, n++) {
		if (f->kind == FRAME_SHARED) {
			base = f;
			break;
		}
		/* Acquire pairs with the release below (a capture by the binder while this
		 * context borrows its frames: a fork/join task): the copy is complete. */
		if ((base = atomic_load_explicit(&f->twin, memory_order_acquire)))
			break;
	}
	if (base)
		retain(base); /* for the capture (n == 0) or the bottom copy's parent */
	if (n == 0) {
		*frame = base;
		return 0;
	}
	var_frame *copy = NULL, **link = &copy;
	f = top;
	for (size_t i = 0; i < n; i++, f = f->parent) {
		var_frame *c = var_frame_alloc();
		if (!c) {
			*link = base;
			var_bindings_release(copy);
			return -ENOMEM;
		}
		bool mine = f->binder == ctx; /* only the binder links its frames to copies */
		c->var = f->var;
		atomic_init(&c->val, atomic_load_explicit(&f->val, memory_order_relaxed));
		c->binder = f->binder;
		atomic_init(&c->twin, mine ? f : NULL);
		c->kind = FRAME_SHARED;
		atomic_init(&c->refs, mine ? 2 : 1); /* the one above (or the capture); the twin */
		*link = c;
		link = &c->parent;
	}
	*link = base;
	/* Link the binder's frames to their copies only now that the chain is complete; a
	 * scope whose frame now has a copy ends on the slow path, which drops the copy. */
	for (var_frame *c = copy; c != base; c = c->parent) {
		var_frame *local = atomic_load_explicit(&c->twin, memory_order_relaxed);
		if (local) {
			atomic_store_explicit(&local->twin, c, memory_order_release);
			if (local->kind == FRAME_SCOPED)
				local->covered = 1;
		}
	}
	*frame = copy;
	return 0;
}

void *var_bindings_install(void *frame)
{
	void *saved = var_top();
	var_set_top(frame);
	return saved;
}

/* Drop one reference; true if it was the last. A holder that sees a count of 1 is the
 * only one: references are only ever added by someone who holds one already, so none
 * can appear; the acquire load pairs with the release half of the other holders'
 * decrements (their last uses come before the free) and saves the read-modify-write on
 * the usual path, a capture that nothing else shares. */
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
		var_frame_free(f);
		f = parent;
	}
}
