/* ringfold/async.h: core.async's combinators over channels (see ringfold/chan.h).
 *
 * Each combinator runs as one or more go processes that hold their own references to the
 * channels they use, so the caller may rf_chan_release its references at any time.
 *
 *   core.async                          ringfold
 *   (pipe from to close?)               rf_pipe(from, to, close)
 *   (merge chs buf)                     rf_merge(chs, n, buf, &out)       out: (chan buf)
 *   (mult ch) (tap m c close?)          rf_mult_new(ch, &m), rf_mult_tap(m, c, close)
 *   (untap m c) (untap-all m)           rf_mult_untap, rf_mult_untap_all
 *   (pub ch topic-fn) (sub p t c close?) rf_pub_new(ch, fn, &p), rf_pub_sub(p, t, c, close)
 *   (pub ch topic-fn buf-fn)            rf_pub_new_buf(ch, fn, buf_fn, &p)
 *   (unsub p t c) (unsub-all p)         rf_pub_unsub, rf_pub_unsub_all
 *   (unsub-all p topic)                 rf_pub_unsub_all_topic(p, topic)
 *   (mix out) (admix m c) (toggle ...)  rf_mix_new(to, &m), rf_mix_admix, rf_mix_toggle ...
 *   (split pred ch)                     rf_split(pred, ch, &t, &f)        unbuffered outputs
 *   (split pred ch tbuf fbuf)           rf_split_buf(pred, ch, tbuf, fbuf, &t, &f)
 *   (onto-chan! ch coll close?)         rf_onto_chan(ch, vals, n, close, &done)
 *   (to-chan! coll)                     rf_to_chan(vals, n, &out)
 *   (reduce f init ch)                  rf_chan_reduce(f, init, ch, &out)
 *   (transduce xform f init ch)         rf_chan_transduce(&xf, f, init, ch, &out)
 *   (take n ch buf)                     rf_chan_take_n(n, ch, buf, &out)
 *   (map f chs buf)                     rf_chan_map(f, ctx, chs, n, buf, &out)
 *   (into [] ch)                        rf_chan_into(ch, &out)            out carries an rf_vals *
 *   (pipeline n to xf from close?)      rf_pipeline(n, to, xf, from, close)
 *   (pipeline-blocking ...)             rf_pipeline_blocking(...)
 *   (pipeline-async n to af from)       rf_pipeline_async(n, to, af, ctx, from, close)
 */
#ifndef RINGFOLD_ASYNC_H
#define RINGFOLD_ASYNC_H

#include "ringfold/chan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (pipe from to close?): move every value from `from` to `to`; when `from` closes, close
 * `to` if `close`. Stops early when `to` closes.
 * Returns: 0.
 * Errors:  -EINVAL (NULL from or to), -ENOMEM, RF_ESHUTDOWN (no go process could start).
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation and a go process. */
RF_API int rf_pipe(rf_chan *from, rf_chan *to, bool close);

/* (merge chs buf): one channel carrying every value of chs[0..n) (order within each input
 * kept); it closes once all inputs have closed. buf == 0: unbuffered, else a fixed
 * buffer of buf.
 * Returns: 0 and *out, the merged channel (the caller's reference).
 * Errors:  -EINVAL (NULL out; NULL chs with n > 0; a NULL chs[i]), -ENOMEM,
 *          RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel, an allocation and a go process. */
RF_API int rf_merge(rf_chan *const *chs, size_t n, size_t buf, rf_chan **out);

/* mult: every value of ch goes to every tap; the next value is taken only after each tap
 * accepted the current one. A value with no taps is dropped. A tap that is closed is
 * removed. When ch closes, taps added with close = true are closed. */
typedef struct rf_mult rf_mult;

/* (mult ch): a mult over ch.
 * Returns: 0 and *out (the caller's handle; rf_mult_free drops it).
 * Errors:  -EINVAL (NULL ch or out), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation and a go process. */
RF_API int rf_mult_new(rf_chan *ch, rf_mult **out);

/* (tap m tap close?): add tap (again: only its close flag changes).
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or tap), -ENOMEM.
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a scan of the taps, sometimes a realloc. */
RF_API int rf_mult_tap(rf_mult *m, rf_chan *tap, bool close);

/* (untap m tap): remove tap; a channel that is not a tap is ignored.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or tap).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a scan of the taps. */
RF_API int rf_mult_untap(rf_mult *m, rf_chan *tap);

/* (untap-all m): remove every tap.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    one release per tap. */
RF_API int rf_mult_untap_all(rf_mult *m);

/* Drop the caller's handle; the mult runs on until its source closes.
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic decrement. */
RF_API void rf_mult_free(rf_mult *m);

/* pub: topic_fn(v, &topic) picks each value's topic; the value goes to every subscriber of
 * that topic (a mult per topic) or is dropped when there is none. topic_fn's negative
 * return drops the value. When the source closes, subscriptions made with close = true
 * are closed. */
typedef struct rf_pub rf_pub;

/* (pub ch topic-fn): a pub over ch.
 * Returns: 0 and *out (the caller's handle; rf_pub_free drops it).
 * Errors:  -EINVAL (NULL ch, topic_fn or out), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation and a go process. */
RF_API int rf_pub_new(rf_chan *ch, rf_body_fn topic_fn, rf_pub **out);

/* (pub ch topic-fn buf-fn): rf_pub_new whose topic channels are buffered: when a
 * subscription makes a new topic, buf_fn(topic, &n) gives its channel's buffer (n == 0:
 * unbuffered, n > 0: a fixed buffer of n). buf_fn runs inside rf_pub_sub, under the
 * pub's mutex: it must be quick and not touch the pub. NULL buf_fn is rf_pub_new.
 * Returns: 0 and *out (the caller's handle; rf_pub_free drops it).
 * Errors:  as rf_pub_new; rf_pub_sub returns buf_fn's negative code, or -EINVAL for
 *          n < 0, and subscribes nothing.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_pub_new. */
RF_API int rf_pub_new_buf(rf_chan *ch, rf_body_fn topic_fn, rf_body_fn buf_fn, rf_pub **out);

/* (sub p topic ch close?): subscribe ch to topic.
 * Returns: 0.
 * Errors:  -EINVAL (NULL p or ch; a buf_fn's n < 0), -ENOMEM, RF_ESHUTDOWN (a new
 *          topic's mult could not start), a buf_fn's negative code.
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a topic lookup; a channel and a go process for a new topic. */
RF_API int rf_pub_sub(rf_pub *p, rf_val topic, rf_chan *ch, bool close);

/* (unsub p topic ch): unsubscribe ch from topic; an unknown topic or channel is ignored.
 * Returns: 0.
 * Errors:  -EINVAL (NULL p or ch).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a topic lookup and a scan of its taps. */
RF_API int rf_pub_unsub(rf_pub *p, rf_val topic, rf_chan *ch);

/* (unsub-all p): drop every subscription of every topic.
 * Returns: 0.
 * Errors:  -EINVAL (NULL p).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    one release per subscription and topic. */
RF_API int rf_pub_unsub_all(rf_pub *p);

/* (unsub-all p topic): drop every subscription of topic (none is closed); an unknown
 * topic is ignored.
 * Returns: 0.
 * Errors:  -EINVAL (NULL p).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a topic lookup, one release per subscription of it. */
RF_API int rf_pub_unsub_all_topic(rf_pub *p, rf_val topic);

/* Drop the caller's handle; the pub runs on until its source closes.
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic decrement. */
RF_API void rf_pub_free(rf_pub *p);

/* mix: values of every admixed input go to `to`. Per input, toggles as in core.async:
 * mute (taken and dropped), pause (not taken), solo (when any input is soloed, only soloed
 * inputs are heard; the others are muted or paused per the solo mode, default mute).
 * A closed input is removed. The mix stops when `to` closes. */
typedef struct rf_mix rf_mix;
enum { RF_MIX_MUTE = 1, RF_MIX_PAUSE = 2, RF_MIX_SOLO = 4 };
/* (mix to): a mix whose output is the channel `to`.
 * Returns: 0 and *out (the caller's handle; rf_mix_free drops it).
 * Errors:  -EINVAL (to or out NULL), -ENOMEM, RF_ESHUTDOWN (no go process could start).
 * Blocks:  never.
 * Context: any.
 * Cost:    two allocations, a channel and a go process. */
RF_API int rf_mix_new(rf_chan *to, rf_mix **out);

/* (admix m in): add in with no toggles; a member keeps its toggles.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or in), -ENOMEM.
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a scan of the inputs, a wake of the mix. */
RF_API int rf_mix_admix(rf_mix *m, rf_chan *in);

/* (unmix m in): remove in; a channel that is not an input is ignored.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or in).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a scan of the inputs, a wake of the mix. */
RF_API int rf_mix_unmix(rf_mix *m, rf_chan *in);

/* (unmix-all m): remove every input.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    one release per input, a wake of the mix. */
RF_API int rf_mix_unmix_all(rf_mix *m);

/* (toggle m {in flags}): set in's mode flags (RF_MIX_*), admixing it if needed.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or in, a flag other than RF_MIX_MUTE, _PAUSE, _SOLO), -ENOMEM.
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a scan of the inputs, a wake of the mix. */
RF_API int rf_mix_toggle(rf_mix *m, rf_chan *in, int flags);

/* (solo-mode m mode): what non-soloed inputs do while any is soloed.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m, mode neither RF_MIX_MUTE nor RF_MIX_PAUSE).
 * Blocks:  never (a short mutex).
 * Context: any.
 * Cost:    a wake of the mix. */
RF_API int rf_mix_solo_mode(rf_mix *m, int mode);

/* Drop the caller's handle; the mix runs on until `to` closes or no input is left.
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    a wake of the mix and an atomic decrement. */
RF_API void rf_mix_free(rf_mix *m);

/* (split pred ch): values for which pred(v, &out) gives out != 0 go to *t, the others to
 * *f; both close when ch closes. pred's negative return drops the value.
 * Returns: 0, *t and *f (unbuffered; the caller's references).
 * Errors:  -EINVAL (NULL pred, ch, t or f), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    two channels, an allocation and a go process. */
RF_API int rf_split(rf_body_fn pred, rf_chan *ch, rf_chan **t, rf_chan **f);

/* (split pred ch t-buf f-buf): rf_split with buffered outputs (0: unbuffered, n > 0: a
 * fixed buffer of n), so one side's slow taker holds the other back only once its
 * buffer is full.
 * Returns: 0, *t and *f (the caller's references).
 * Errors:  as rf_split.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_split. */
RF_API int rf_split_buf(rf_body_fn pred, rf_chan *ch, size_t tbuf, size_t fbuf, rf_chan **t,
                        rf_chan **f);

/* (onto-chan! ch vals close?): put vals[0..n) (copied) onto ch in order, then close ch if
 * `close`.
 * Returns: 0; *done (done may be NULL) is a channel that closes when that is over.
 * Errors:  -EINVAL (NULL ch; NULL vals with n > 0; an n no array of rf_val can have),
 *          -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of vals and a go process. */
RF_API int rf_onto_chan(rf_chan *ch, const rf_val *vals, size_t n, bool close, rf_chan **done);

/* (to-chan! vals): a channel carrying vals[0..n) (copied), then closed.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL out; NULL vals with n > 0; an n no array of rf_val can have),
 *          -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel, a copy of vals and a go process. */
RF_API int rf_to_chan(const rf_val *vals, size_t n, rf_chan **out);

/* (reduce f init ch): a channel carrying f(...f(f(init, v1), v2)..., vn) once ch closes.
 * f returning RF_XF_DONE (after setting *out) is Clojure's `reduced`: the reduction stops
 * there and carries *out. If f returns a negative code, the result channel closes with
 * that code (takes return it).
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL f, ch or out), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel and a go process; one call of f per value. */
RF_API int rf_chan_reduce(rf_update_fn f, rf_val init, rf_chan *ch, rf_chan **out);

/* (transduce xform f init ch): rf_chan_reduce over what the transformation xf makes of
 * ch's values. Each value taken goes through xf's step (a copy of *xf, so its state
 * starts as given), which passes what it emits to f; when ch closes, or xf's step or f
 * returns RF_XF_DONE (reduced), xf's flush runs as the completion step and what it emits
 * is reduced too. The result is the accumulator: f has no completion step of its own.
 * A negative code from the step or f closes the result channel with that code.
 * Returns: 0 and *out (the caller's reference), a channel that carries the result once.
 * Errors:  -EINVAL (NULL xf, xf->step, f, ch or out; a map or filter of a NULL fn),
 *          -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel and a go process; one step per value, one call of f per output. */
RF_API int rf_chan_transduce(const rf_xform *xf, rf_update_fn f, rf_val init, rf_chan *ch,
                             rf_chan **out);

/* (take n ch buf): a channel carrying at most the next n values of ch; it closes after
 * the n-th, or when ch closes first (n <= 0: at once). Values of ch after the n-th stay
 * in ch. As core.async's, it goes on taking its n values if the output is closed (they
 * are dropped). buf == 0: the output is unbuffered, else a fixed buffer of buf.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL ch or out), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel, an allocation and a go process. */
RF_API int rf_chan_take_n(int64_t n, rf_chan *ch, size_t buf, rf_chan **out);

/* The function of rf_chan_map: vals[0..n) are one value from each input, in the order of
 * the inputs; ctx is rf_chan_map's. Returns 0 and *out, or a negative code. */
typedef int (*rf_vals_fn)(const rf_val *vals, size_t n, rf_val ctx, rf_val *out);

/* (map f chs buf): a channel carrying f(first values of each of chs[0..n)), then f(second
 * values), ..., closing when any input closes (the values taken from the other inputs in
 * that round are dropped, as in core.async). One value is taken from each input in turn.
 * If f returns a negative code, the output closes with that code (takes return it once
 * drained). As core.async's, it goes on while the output is closed (results dropped).
 * buf == 0: the output is unbuffered, else a fixed buffer of buf.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL f, chs, out or a chs[i]; n == 0, where core.async's never
 *          closes; an n no array can have), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel, an allocation and a go process; one call of f per round. */
RF_API int rf_chan_map(rf_vals_fn f, rf_val ctx, rf_chan *const *chs, size_t n, size_t buf,
                       rf_chan **out);

/* What rf_chan_into delivers: every value of the source, in order. */
#ifdef __cplusplus /* g++ and clang++ take a flexible array member as an extension */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
typedef struct rf_vals {
	size_t n;
	rf_val v[];
} rf_vals;
#ifdef __cplusplus
#pragma GCC diagnostic pop
#endif

/* (into [] ch): a channel carrying rf_from_ptr(rf_vals *) holding every value of ch in
 * order once ch closes; the taker owns it and releases it with free().
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL ch or out), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a channel and a go process; amortized O(1) per value. */
RF_API int rf_chan_into(rf_chan *ch, rf_chan **out);

/* (pipeline n to xf from close?): take from `from`, transform each value with xf (a fresh
 * copy of xf per value, so xf.state starts as given every time) using n go processes,
 * and put the results onto `to` in input order; when `from` closes, close `to` if
 * `close`. xf runs outside any channel lock, step then flush; it may park in ringfold's
 * own waits and must not block the thread.
 * Returns: 0.
 * Errors:  -EINVAL (n < 1; NULL to, xf, xf->step or from), -ENOMEM (no worker could
 *          start), RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    two channels of n slots and n + 2 go processes. */
RF_API int rf_pipeline(int n, rf_chan *to, const rf_xform *xf, rf_chan *from, bool close);

/* (pipeline-blocking n to xf from close?): rf_pipeline with the n workers on plain
 * threads, where xf may block.
 * Returns: 0.
 * Errors:  as rf_pipeline.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_pipeline, with n thread creations. */
RF_API int rf_pipeline_blocking(int n, rf_chan *to, const rf_xform *xf, rf_chan *from, bool close);

/* pipeline-async's function: put v's results onto `result` and close it, now or later,
 * from anywhere; never free `result`. */
typedef void (*rf_async_fn)(rf_val v, rf_chan *result, rf_val ctx);

/* (pipeline-async n to af from close?): for each value v, af(v, result, ctx) is called
 * on a go process; results reach `to` in input order.
 * Returns: 0.
 * Errors:  -EINVAL (n < 1; NULL to, af or from), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_pipeline, plus a channel per value. */
RF_API int rf_pipeline_async(int n, rf_chan *to, rf_async_fn af, rf_val ctx, rf_chan *from,
                             bool close);

#ifdef __cplusplus
}
#endif
#endif
