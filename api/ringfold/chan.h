/* ringfold/chan.h: core.async channels and go processes.
 *
 * A channel carries 64-bit values (rf_val) between go processes and threads. Any word is a
 * value, 0 included: "closed and drained" is not a value but the result RF_ECLOSED.
 *
 *   core.async                      ringfold
 *   (chan)                          rf_chan_new(&c)                      unbuffered
 *   (chan n)                        rf_chan_new_buf(RF_BUF_FIXED, n, &c)
 *   (chan (dropping-buffer n))      rf_chan_new_buf(RF_BUF_DROPPING, n, &c)   keeps the first n
 *   (chan (sliding-buffer n))       rf_chan_new_buf(RF_BUF_SLIDING, n, &c)    keeps the last n
 *   (chan n xform)                  rf_chan_new_xform(RF_BUF_FIXED, n, &xf, &c)
 *   (promise-chan)                  rf_chan_new_promise(NULL, &c)
 *   a channel that owns its values  rf_chan_new_opts(&opts, &c) with opts.release = f
 *   (>! c v) / (>!! c v)            rf_chan_put(c, v)          parks a fiber, blocks a thread
 *   (<! c) / (<!! c)                rf_chan_take(c, &v)
 *   a put or take with a deadline   rf_chan_put_timeout(c, v, ms), rf_chan_take_timeout(c, ms, &v)
 *   (put! c v fn) / (take! c fn)    rf_chan_put_async / rf_chan_take_async
 *   (offer! c v) / (poll! c)        rf_chan_offer / rf_chan_poll            never wait
 *   (close! c)                      rf_chan_close(c)
 *   (alts! [...]) / (alts!! [...])  rf_alts(ops, n, flags, &which, &v)
 *   (timeout ms)                    rf_chan_timeout(ms, &c)
 *   (go ...)                        rf_go(fn, arg, &result)
 *
 * Results map as follows: a put that Clojure answers `true` returns 0, `false` (channel
 * closed) returns RF_ECLOSED; a take that Clojure answers nil on a closed channel returns
 * RF_ECLOSED; core.async's AssertionError "No more than 1024 pending puts/takes are allowed
 * on a single channel" is RF_EPENDINGLIMIT (limit: rf_config.chan_pending_limit /
 * RF_CHAN_PENDING_LIMIT, default 1024); a zero-size buffer is -EINVAL (core.async throws).
 *
 * Waiting. Every waiting form parks when called on a fiber (a go process: the core runs
 * other fibers meanwhile) and futex-waits on a plain thread; the same function serves both,
 * so <! and <!! are one call. A go process must not make foreign blocking system calls
 * (they stall every fiber of its core): run them through rf_blocking.
 *
 * Lifetime. A channel is reference counted: the creator holds one reference,
 * rf_chan_retain adds one, rf_chan_release drops one, and the channel lives on while a go
 * process, a timer or a combinator still holds one. The caller's reference must outlive
 * the caller's own operations on it, and an operation touches the channel no more once
 * its effect can be seen: whoever sees it (a put's value taken, a take's value or the
 * room it made, an alts' winning clause done, a close) may drop the last reference
 * while that call is still returning. So a go process may borrow its creator's
 * reference for an operation whose effect the creator waits to see; an alts touches its
 * other channels until it returns. A channel made with a release function owns its
 * pointer values from the moment it accepts a put until a take receives one (then the
 * taker owns it): release(value, ctx) runs exactly once for every other accepted value
 * other than RF_NIL, after the channel's lock is dropped: a value a dropping or sliding
 * buffer discards, a promise's later puts, a put a transformation does not pass on (a
 * filtered or failed one, or one its step replaced: the channel compares what the step
 * emits with what it got), a transformation's output that could not be buffered, a put
 * accepted after the transformation finished, and, when the last reference goes, every
 * value still buffered or offered by a put_async still pending. A promise channel keeps
 * its one value for every taker, so takers only borrow it: it is released when the
 * channel ends. The release function runs on whichever thread or fiber dropped the value,
 * with no channel locked (it may use this channel too), except when memory runs out in
 * the middle of a transformation's step: then it runs under that channel's mutex. A
 * transformation must not emit one pointer twice (each copy would be released).
 *
 * Cost when nothing waits: one uncontended lock and a few loads/stores.
 */
#ifndef RINGFOLD_CHAN_H
#define RINGFOLD_CHAN_H

#include "ringfold/base.h"
#include "ringfold/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_chan rf_chan;

typedef enum rf_buf_kind {
	RF_BUF_NONE = 0,     /* unbuffered: a put waits for a take (rf_chan_opts only) */
	RF_BUF_FIXED = 1,    /* puts wait while n values are buffered */
	RF_BUF_DROPPING = 2, /* never waits; a put to a full buffer is accepted and dropped */
	RF_BUF_SLIDING = 3,  /* never waits; a put to a full buffer drops the oldest value */
	RF_BUF_PROMISE = 4,  /* promise-chan (rf_chan_opts only) */
} rf_buf_kind;

/* Transformations applied on put (core.async's transducer argument to chan).
 * step(xf, v, sink) is called under the channel's lock for every value put, emits zero or
 * more values with rf_xform_emit(sink, ...) and returns 0 to go on, RF_XF_DONE when the
 * transformation is finished (reduced: the channel closes; pending puts are accepted and
 * dropped, as core.async aborts them), or a negative code, which drops the value (core.async's
 * default ex-handler). flush (may be NULL) runs once at close and may emit final values.
 * Both run with the channel locked (a transformed channel's lock is a mutex, not a spin
 * lock): they must be quick, must not wait (park or block) and must not touch this
 * channel. `state` is the channel's own copy
 * (each channel copies the rf_xform it is given), free for a stateful step. */
#define RF_XF_DONE 1
typedef struct rf_xform_sink rf_xform_sink;
typedef struct rf_xform {
	int (*step)(struct rf_xform *xf, rf_val v, rf_xform_sink *sink);
	void (*flush)(struct rf_xform *xf, rf_xform_sink *sink);
	rf_body_fn fn; /* for map/filter: fn(v, &out) */
	void *ctx;     /* user data */
	int64_t state; /* per-channel mutable state */
} rf_xform;

/* Emit v from a step or flush into the channel's buffer.
 * The buffer grows past n if a step expands, as in core.async; dropping and sliding
 * buffers apply their policy; a promise channel keeps only its first value.
 * Returns: nothing.
 * Errors:  none returned: if the buffer cannot grow (out of memory) v is dropped and the
 *          put that ran the step returns -ENOMEM (a flush at close has nobody to tell);
 *          the channel stays usable. Precondition: sink is the one given to this step
 *          or flush.
 * Blocks:  never.
 * Context: a step or flush function (the channel is locked).
 * Cost:    one store into the buffer (an allocation when it grows). */
RF_API void rf_xform_emit(rf_xform_sink *sink, rf_val v);

/* (map f): a transformation that puts fn(v) in place of each value v put.
 * fn(v, &out) runs with the channel locked (see rf_xform); its negative return drops
 * the value. Give it to rf_chan_new_xform or rf_chan_new_promise, which copy it.
 * Returns: the transformation, by value.
 * Errors:  none here; a NULL fn makes rf_chan_new_xform / rf_chan_new_promise return
 *          -EINVAL.
 * Blocks:  never.
 * Context: any.
 * Cost:    none (a struct). */
RF_API rf_xform rf_xform_map(rf_body_fn fn);

/* (filter pred): a transformation that keeps the values v for which pred(v, &keep) sets
 * keep != 0.
 * pred runs with the channel locked (see rf_xform); its negative return drops the value.
 * Returns: the transformation, by value.
 * Errors:  none here; a NULL pred makes rf_chan_new_xform / rf_chan_new_promise return
 *          -EINVAL.
 * Blocks:  never.
 * Context: any.
 * Cost:    none (a struct). */
RF_API rf_xform rf_xform_filter(rf_body_fn pred);

/* (take n): a transformation that passes the first n values, then closes the channel.
 * The n-th value closes it at once; puts still pending are accepted and dropped. n <= 0
 * passes nothing: the first put closes the channel. The count lives in the channel's
 * own copy, so one rf_xform_take value may serve several channels.
 * Returns: the transformation, by value.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    none (a struct). */
RF_API rf_xform rf_xform_take(int64_t n);

/* Options of rf_chan_new_opts and rf_chan_init. */
typedef struct rf_chan_opts {
	size_t size;           /* sizeof(rf_chan_opts); fields past it are defaults */
	rf_buf_kind kind;      /* RF_BUF_NONE (unbuffered) ... RF_BUF_PROMISE */
	size_t n;              /* buffer size (> 0 for FIXED, DROPPING, SLIDING) */
	const rf_xform *xform; /* NULL: none; copied */
	rf_release_fn release; /* NULL: values are words the channel does not own */
	rf_val release_ctx;    /* its ctx argument */
} rf_chan_opts;

/* Storage for a channel in the caller's memory (rf_chan_init); its bytes are private. */
typedef struct rf_chan_mem {
	RF_ALIGNAS(8) uint64_t opaque_[40];
} rf_chan_mem;

/* (chan), (chan n), (chan (dropping-buffer n)), (chan n xform), (promise-chan xform).
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL out, n == 0 for a buffer, unknown kind, xf without a buffer or
 *          without a step), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one or two allocations. */
RF_API int rf_chan_new(rf_chan **out);
RF_API int rf_chan_new_buf(rf_buf_kind kind, size_t n, rf_chan **out);
RF_API int rf_chan_new_xform(rf_buf_kind kind, size_t n, const rf_xform *xf, rf_chan **out);
/* (promise-chan xf): a channel that gives the first value put to every take, forever.
 * Later puts are accepted at once and ignored, so a put never waits; closed before a
 * value, takes return RF_ECLOSED. xf may be NULL.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL out, xf without a step, a map or filter of a NULL fn), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_chan_new_promise(const rf_xform *xf, rf_chan **out);

/* A channel from options, on the heap (_new_opts) or in the caller's memory (_init);
 * with opts->release it owns its values (see Lifetime above), for every buffer kind.
 * Returns: 0 and *out (the creator's reference; for _init, a handle inside mem).
 * Errors:  as rf_chan_new_buf; -EINVAL also for NULL mem or out, opts->size unset.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation for the buffer (+ one for the channel with _new_opts). */
RF_API int rf_chan_new_opts(const rf_chan_opts *opts, rf_chan **out);
RF_API int rf_chan_init(rf_chan_mem *mem, const rf_chan_opts *opts, rf_chan **out);

/* Undo rf_chan_init: releases the values still buffered (with a release function).
 * Returns: 0.
 * Errors:  -EINVAL (NULL, or a channel not made by rf_chan_init), -EBUSY (another
 *          reference is still held, by a go process, a timer or a combinator; nothing
 *          changes). rf_chan_release of the last reference does the same work.
 * Blocks:  never.
 * Context: any. Precondition: the caller's own operations on it are over.
 * Cost:    one CAS, plus the releases. */
RF_API int rf_chan_destroy(rf_chan *ch);

/* Add a reference (to hand the channel to another owner).
 * Returns: ch (NULL for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add. */
RF_API rf_chan *rf_chan_retain(rf_chan *ch);

/* Drop a reference; the last one discards the channel (releasing values it owns) and
 * frees it (not the memory of rf_chan_init).
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: the caller's own operations on it are over.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add (the last: the releases and a free). */
RF_API void rf_chan_release(rf_chan *ch);

/* (>! ch v) / (>!! ch v): put v, waiting for room (unbuffered: until a take receives it).
 * Returns: 0 (accepted).
 * Errors:  RF_ECLOSED (closed: Clojure's false; v not taken), RF_EPENDINGLIMIT, -EINVAL
 *          (NULL ch).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  until accepted (parks a fiber, futex-waits a thread).
 * Context: any.
 * Cost:    one uncontended lock when nothing waits. */
RF_API int rf_chan_put(rf_chan *ch, rf_val v);

/* rf_chan_put with a limit.
 * Returns: 0 (accepted).
 * Errors:  -ETIMEDOUT (withdrawn: v not delivered; 0 polls), as rf_chan_put, -EINVAL
 *          (timeout_ms < 0).
 * Blocks:  up to timeout_ms.
 * Context: any.
 * Cost:    as rf_chan_put, plus a timer entry when it waits. */
RF_API int rf_chan_put_timeout(rf_chan *ch, rf_val v, int64_t timeout_ms);

/* (<! ch) / (<!! ch): take a value, waiting for one.
 * Returns: 0 and *out.
 * Errors:  RF_ECLOSED (closed and drained: Clojure's nil; a go result channel gives its
 *          body's code instead), RF_EPENDINGLIMIT, -EINVAL (NULL ch or out).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  until a value or the close (parks a fiber, futex-waits a thread).
 * Context: any.
 * Cost:    one uncontended lock when a value is there. */
RF_API int rf_chan_take(rf_chan *ch, rf_val *out);

/* rf_chan_take with a limit.
 * Returns: 0 and *out.
 * Errors:  -ETIMEDOUT (*out untouched; 0 polls), as rf_chan_take, -EINVAL
 *          (timeout_ms < 0).
 * Blocks:  up to timeout_ms.
 * Context: any.
 * Cost:    as rf_chan_take, plus a timer entry when it waits. */
RF_API int rf_chan_take_timeout(rf_chan *ch, int64_t timeout_ms, rf_val *out);

/* (offer! ch v) / (poll! ch): only if it completes now.
 * Returns: 0 (poll: and *out).
 * Errors:  -EAGAIN (it would wait), RF_ECLOSED, -EINVAL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one lock. */
RF_API int rf_chan_offer(rf_chan *ch, rf_val v);
RF_API int rf_chan_poll(rf_chan *ch, rf_val *out);

/* The callback of rf_chan_put_async and rf_chan_take_async: cb(rc, v, ctx) with the
 * operation's result, rc as rf_chan_put / rf_chan_take would return it and v the value
 * taken (RF_NIL for a put). It runs with no channel locked and must be quick and not
 * wait; it may start other channel operations. */
typedef void (*rf_chan_cb)(int rc, rf_val v, rf_val ctx);

/* (put! ch v cb): put v without waiting; cb hears the result.
 * cb runs at most once: on the caller when the put completes at once, else on whichever
 * thread or fiber takes v. If the channel's last reference goes while the put is still
 * pending, cb never runs (an owning channel releases v). cb may be NULL (fire and
 * forget).
 * Returns: 0: done (cb has run, with 0 or a transformation's -ENOMEM) or queued.
 * Errors:  RF_ECLOSED (closed: cb has run with RF_ECLOSED; v not taken); RF_EPENDINGLIMIT,
 *          -ENOMEM, -EINVAL (NULL ch): cb not run.
 * Blocks:  never (the channel's lock; a transformed channel's is a mutex).
 * Context: any.
 * Cost:    one lock when it completes at once; one allocation when it is queued. */
RF_API int rf_chan_put_async(rf_chan *ch, rf_val v, rf_chan_cb cb, rf_val ctx);

/* (take! ch cb): take a value without waiting; cb hears the result.
 * cb runs at most once: on the caller when a value (or the close) is there at once, else
 * on whichever thread or fiber puts or closes. If the channel's last reference goes while
 * the take is still pending, cb never runs.
 * Returns: 0: done (cb has run, with 0 and the value, RF_ECLOSED, or a go result
 *          channel's body code) or queued.
 * Errors:  -EINVAL (NULL ch or cb), RF_EPENDINGLIMIT, -ENOMEM: cb not run.
 * Blocks:  never (as rf_chan_put_async).
 * Context: any.
 * Cost:    as rf_chan_put_async. */
RF_API int rf_chan_take_async(rf_chan *ch, rf_chan_cb cb, rf_val ctx);

/* (close! ch): no more puts.
 * Buffered values and puts made before the close are still taken, then takes return
 * RF_ECLOSED; takes waiting at the close get the buffered values, then RF_ECLOSED (their
 * callbacks run on the caller). A transformation's flush runs. Closing twice is harmless.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never (the channel's lock; a transformed channel's is a mutex).
 * Context: any.
 * Cost:    one lock, plus a wake-up per waiting take. */
RF_API void rf_chan_close(rf_chan *ch);

/* Whether ch is closed.
 * A snapshot: another context may close it right after; values buffered before the close
 * may still be taken.
 * Returns: true if closed; false if open, or ch NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API bool rf_chan_closed(rf_chan *ch);

/* One operation of an alts: a take from ch (put == false) or a put of val to ch. */
typedef struct rf_alt {
	rf_chan *ch;
	bool put;
	rf_val val;
} rf_alt;
enum { RF_ALT_PRIORITY = 1, RF_ALT_DEFAULT = 2 };

/* (alts! ops) / (alts!! ops): complete exactly one operation of ops[0..n).
 * The same channel may appear several times. Among operations ready at once one is chosen
 * at random, or the first in order with RF_ALT_PRIORITY. With RF_ALT_DEFAULT, when none
 * is ready, none is done (Clojure's :default).
 * Returns: the chosen operation's result: 0, *which = its index, *val (val may be NULL)
 *          the value taken by a take.
 * Errors:  RF_ECLOSED (*which's take found its channel closed and drained, or its put
 *          found it closed; a go result channel gives its body's code instead),
 *          -EAGAIN (RF_ALT_DEFAULT and none ready; *which = -1), RF_EPENDINGLIMIT
 *          (*which = -1), RF_ESHUTDOWN (rf_shutdown cancelled a fiber's wait; *which =
 *          -1), -ENOMEM (n > 8 needs memory), -EINVAL (NULL ops or which, n == 0, a NULL
 *          channel). *val is left alone except after a take that returns 0.
 * Blocks:  until one operation completes (parks a fiber, futex-waits a thread); never
 *          with RF_ALT_DEFAULT.
 * Context: any.
 * Cost:    every channel locked once; waiting links a node on each of them. */
RF_API int rf_alts(const rf_alt *ops, size_t n, int flags, int *which, rf_val *val);

/* (alts! ops) with a deadline: rf_alts that gives up after timeout_ms.
 * Returns: as rf_alts.
 * Errors:  -ETIMEDOUT (none completed in time, 0 polls; *which = -1), as rf_alts,
 *          -EINVAL (timeout_ms < 0).
 * Blocks:  up to timeout_ms; never with RF_ALT_DEFAULT.
 * Context: any.
 * Cost:    as rf_alts, plus a timer entry when it waits. */
RF_API int rf_alts_timeout(const rf_alt *ops, size_t n, int flags, int64_t timeout_ms, int *which,
                           rf_val *val);

/* (timeout ms): a channel that closes after timeout_ms. As core.async's, calls whose
 * deadlines round to the same 10 ms share one channel (each caller gets its own
 * reference to release): it closes no earlier than timeout_ms and at most 10 ms later.
 * rf_shutdown closes every pending one.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (timeout_ms < 0, out NULL), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    a shared one a lookup; a new one a parked fiber on the worker's timers. */
RF_API int rf_chan_timeout(int64_t timeout_ms, rf_chan **out);

/* (go (fn arg)): run fn(arg, &out) as a go process.
 * A go process is a fiber on the executor, with the caller's dynamic bindings conveyed;
 * the runtime starts on first use. If result is non-NULL it receives a channel (buffer
 * 1) that carries *out once when fn returns 0 and then closes; if fn returns a negative
 * code the channel closes without a value and takes return that code instead of
 * RF_ECLOSED. Drop it with rf_chan_release.
 * Returns: 0; *result (if non-NULL) the result channel, the caller's reference.
 * Errors:  -EINVAL (NULL fn), the runtime's start error (RF_ECONFIG, ...), RF_ESHUTDOWN
 *          (the runtime is stopping), -ENOMEM.
 * Blocks:  never (but the first use starts the runtime: see rf_init).
 * Context: any.
 * Cost:    a small allocation, a pooled fiber stack and a push onto a worker's queue
 *          (with result, a channel too). */
RF_API int rf_go(rf_body_fn fn, rf_val arg, rf_chan **result);

/* (go (fn arg)) placed by opts (ringfold/runtime.h: a worker, a node, the spawner's
 * worker, a stack size); NULL opts is rf_go.
 * Returns: 0; *result as rf_go's.
 * Errors:  -EINVAL (NULL fn, opts->size too small, a worker or node out of range, a
 *          stack size out of range), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    rf_go's; a stack_size of its own maps a stack (one mmap) and unmaps it at
 *          the end instead of reusing a pooled one. */
RF_API int rf_go_with(const rf_spawn_opts *opts, rf_body_fn fn, rf_val arg, rf_chan **result);

#ifdef __cplusplus
}
#endif
#endif
