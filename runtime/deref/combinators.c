/* runtime/deref/combinators.c: on-realized callbacks, chain, catch, zip, any.
 *
 * Each combinator is a heap node of listeners on its inputs plus one reference to its
 * output cell. Inputs hold the listeners (no reference the other way): an input that
 * is abandoned still realizes (RF_EABANDONED), so every listener runs exactly once and
 * every node is freed by its last listener.
 *
 * zip: slots fill a private copy of the values; `left` counts inputs not yet
 * successful, `fired` inputs not yet heard from. Each slot's write of its value is
 * ordered before its acq_rel decrement of `left`; the decrement that reaches zero thus
 * sees every value (release sequence of the RMWs), copies them to the caller's array
 * and realizes the output, whose release publishes the copy to derefs. The node is
 * freed by whichever listener decrements `fired` to zero.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/deref/deferred.h"

struct callback {
	deferred_listener l;
	rf_realized_fn fn;
	rf_val ctx;
};

static void callback_fire(deferred_listener *l, int code, rf_val value)
{
	struct callback *cb = (struct callback *)l;
	cb->fn(code, value, cb->ctx);
	free(cb);
}

int rf_deferred_on_realized(rf_deferred *d, rf_realized_fn fn, rf_val ctx)
{
	if (!d || !fn)
		return -EINVAL;
	struct callback *cb = malloc(sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	cb->l.fn = callback_fire;
	cb->fn = fn;
	cb->ctx = ctx;
	deferred_listen(d, &cb->l);
	return 0;
}

/* A new output cell with two references: the caller's handle and the node's. */
static int new_output(rf_deferred **out)
{
	int rc = rf_deferred_new(out);
	if (rc == 0)
		deferred_ref(*out);
	return rc;
}

struct step {
	deferred_listener l;
	rf_deferred *out;
	rf_val arg;
	rf_update_fn on_value; /* chain */
	rf_catch_fn on_error;  /* catch */
};

static void step_fire(deferred_listener *l, int code, rf_val value)
{
	struct step *s = (struct step *)l;
	rf_val v = RF_NIL;
	int rc = code;
	if (code == 0 && s->on_value)
		rc = s->on_value(value, s->arg, &v);
	else if (code < 0 && s->on_error)
		rc = s->on_error(code, s->arg, &v);
	else
		v = value;
	deferred_complete(s->out, rc < 0 ? rc : 0, rc < 0 ? RF_NIL : v);
	deferred_unref(s->out);
	free(s);
}

static int add_step(rf_deferred *d, rf_update_fn on_value, rf_catch_fn on_error, rf_val arg,
                    rf_deferred **out)
{
	if (!d || !out || (!on_value && !on_error))
		return -EINVAL;
	struct step *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = new_output(&s->out);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->l.fn = step_fire;
	s->arg = arg;
	s->on_value = on_value;
	s->on_error = on_error;
	*out = s->out; /* before listening: the step may run, and drop its reference, at once */
	deferred_listen(d, &s->l);
	return 0;
}

int rf_deferred_chain(rf_deferred *d, rf_update_fn fn, rf_val arg, rf_deferred **out)
{
	return fn ? add_step(d, fn, NULL, arg, out) : -EINVAL;
}

int rf_deferred_catch(rf_deferred *d, rf_catch_fn fn, rf_val arg, rf_deferred **out)
{
	return fn ? add_step(d, NULL, fn, arg, out) : -EINVAL;
}

struct fan;
struct slot {
	deferred_listener l;
	struct fan *fan;
	size_t i;
};

struct fan {
	rf_deferred *out;
	_Atomic size_t left;  /* zip: inputs not yet successful */
	_Atomic size_t fired; /* inputs not yet heard from; the last frees the node */
	rf_val *values;       /* zip: the caller's array, written once at success */
	size_t n;
	rf_val *copy; /* zip: n values, private */
	struct slot slots[];
};

static struct fan *new_fan(size_t n, rf_val *values, bool zip)
{
	size_t size = sizeof(struct fan) + n * sizeof(struct slot) + (zip ? n * sizeof(rf_val) : 0);
	struct fan *f = malloc(size);
	if (!f)
		return NULL;
	if (new_output(&f->out) < 0) {
		free(f);
		return NULL;
	}
	atomic_init(&f->left, n);
	atomic_init(&f->fired, n);
	f->values = values;
	f->n = n;
	f->copy = zip ? (rf_val *)&f->slots[n] : NULL;
	return f;
}

static void fan_fired(struct fan *f)
{
	/* acq_rel: the last listener sees every other listener's use of the node. */
	if (atomic_fetch_sub_explicit(&f->fired, 1, memory_order_acq_rel) == 1) {
		deferred_unref(f->out);
		free(f);
	}
}

static void zip_fire(deferred_listener *l, int code, rf_val value)
{
	struct slot *s = (struct slot *)l;
	struct fan *f = s->fan;
	if (code < 0) {
		deferred_complete(f->out, code, RF_NIL); /* the first error wins */
	} else {
		f->copy[s->i] = value;
		/* acq_rel: see the file comment (the last decrement sees every value). */
		/* Reaching zero means every input succeeded, so no error realized the output
		 * and the caller's array is still the caller's to be filled. */
		if (atomic_fetch_sub_explicit(&f->left, 1, memory_order_acq_rel) == 1) {
			memcpy(f->values, f->copy, f->n * sizeof(rf_val));
			deferred_complete(f->out, 0, rf_from_ptr(f->values));
		}
	}
	fan_fired(f);
}

static void any_fire(deferred_listener *l, int code, rf_val value)
{
	struct slot *s = (struct slot *)l;
	deferred_complete(s->fan->out, code, value); /* the first outcome wins */
	fan_fired(s->fan);
}

static int fan_out(rf_deferred *const *ds, size_t n, rf_val *values, deferred_listener_fn fire,
                   rf_deferred **out)
{
	bool zip = fire == zip_fire;
	if (!out || (n && !ds) || (zip && n && !values) || (!zip && !n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!ds[i])
			return -EINVAL;
	if (n == 0) { /* zip of nothing: realized at once */
		int rc = rf_deferred_new(out);
		if (rc == 0)
			deferred_complete(*out, 0, rf_from_ptr(values));
		return rc;
	}
	struct fan *f = new_fan(n, values, zip);
	if (!f)
		return -ENOMEM;
	*out = f->out; /* before listening: the node may be freed once the last slot fires */
	for (size_t i = 0; i < n; i++) {
		f->slots[i].l.fn = fire;
		f->slots[i].fan = f;
		f->slots[i].i = i;
	}
	for (size_t i = 0; i < n; i++)
		deferred_listen(ds[i], &f->slots[i].l);
	return 0;
}

int rf_deferred_zip(rf_deferred *const *ds, size_t n, rf_val *values, rf_deferred **out)
{
	return fan_out(ds, n, values, zip_fire, out);
}

int rf_deferred_any(rf_deferred *const *ds, size_t n, rf_deferred **out)
{
	return fan_out(ds, n, NULL, any_fire, out);
}
