/* ringfold/base.h: values, error codes, and the one convention every family follows.
 *
 * Every other ringfold header includes this one. docs/api.md gives the convention with
 * examples; this comment is its summary.
 *
 * Values. A value is one 64-bit word, rf_val: an integer, or a pointer stored with
 * rf_from_ptr() and read back with rf_to_ptr(). ringfold never looks inside a value.
 * RF_NIL (0) plays Clojure's nil where one is needed.
 *
 * Results. A function that can fail returns int: 0 on success or a negative code, and
 * its results through out-parameters, which come last. Codes reuse -errno where one fits
 * (-EINVAL, -ENOMEM, -ETIMEDOUT, -ECANCELED, -EBADF, ...); ringfold's own codes are
 * RF_E... below -4095 so they never collide with -errno. rf_strerror() names both. A
 * NULL handle, NULL out-pointer, NULL function or out-of-range argument is -EINVAL,
 * unless the function's comment states a precondition instead.
 * Truth: a question that cannot fail returns bool; one that can returns int: 1 yes,
 * 0 no, or a negative code (rf_atom_compare_and_set).
 *
 * Time. Every blocking call has an untimed form and a _timeout form whose last argument
 * before the out-parameters is `int64_t timeout_ms`: 0 polls, a negative value is
 * -EINVAL, and running out of time is always -ETIMEDOUT (never a value). Clojure's
 * (deref x ms default) is rf_deref_default(): it stores the default and still returns
 * -ETIMEDOUT, so the caller can tell a timeout from a value equal to the default.
 *
 * Handles. Objects ringfold allocates: rf_<family>_new(..., rf_<family> **out) and
 * rf_<family>_free(x) (void; NULL is a no-op). Objects in the caller's memory:
 * rf_<family>_init(x, ...) and rf_<family>_destroy(x), both int. Shared objects with a
 * reference count (channels, deferreds): rf_<family>_retain(x) and _release(x); the
 * creator holds the first reference. A reference that owns pointer values takes an
 * rf_release_fn, called once for every value it held when that value can no longer be
 * seen (replaced, dropped, or left in it when it is destroyed or freed).
 *
 * User functions. Every function ringfold calls on the caller's behalf takes a
 * context word as its last plain argument (`arg` or `ctx`, given when it was
 * registered or called) and has one of the shapes below. A body or update function
 * returns 0 and its result through `out`, or a negative code of its own choosing, which
 * ringfold hands back unchanged to whoever derefs or asks: the way Clojure carries an
 * exception. *out is RF_NIL on entry.
 *
 * Structs that grow. A struct the caller fills for ringfold (rf_config, the families'
 * *_opts) starts with `size_t size`, set by its _default() function or by the caller to
 * sizeof; ringfold reads only the fields that size covers, so a program built against
 * an older header keeps working. One ringfold fills whose extent depends on the machine
 * (rf_stats) is made by its _new, which records its size and sizes its arrays.
 *
 * Headers say, per function: Returns, Errors, Blocks (never / may park or block, and on
 * what), Context (fiber, plain thread, inside a transaction or an action) and Cost.
 */
#ifndef RINGFOLD_BASE_H
#define RINGFOLD_BASE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RF_API __attribute__((visibility("default")))

/* Alignment of the opaque storage structs, spelled for C11 and for C++. */
#ifdef __cplusplus
#define RF_ALIGNAS(n) alignas(n)
#else
#define RF_ALIGNAS(n) _Alignas(n)
#endif

typedef int64_t rf_val;
#define RF_NIL ((rf_val)0)

/* A pointer as a value.
 * Returns: p as an rf_val (NULL is RF_NIL); rf_to_ptr gives p back.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    none (a conversion). */
static inline rf_val rf_from_ptr(const void *p)
{
	return (rf_val)(intptr_t)p;
}

/* The pointer a value made by rf_from_ptr holds.
 * Returns: the pointer (RF_NIL gives NULL).
 * Errors:  none; a value not made by rf_from_ptr gives a pointer not to be used.
 * Blocks:  never.
 * Context: any.
 * Cost:    none (a conversion). */
static inline void *rf_to_ptr(rf_val v)
{
	return (void *)(intptr_t)v;
}

/* clang-format off */
/* ringfold's own error codes. Ranges are reserved per family. */
enum rf_error {
	/* runtime, numa, io: -5000.. */
	RF_ETOPOLOGY = -5000,    /* RF_TOPOLOGY malformed, or names a CPU outside the affinity mask */
	RF_ESHUTDOWN = -5001,    /* work offered after shutdown: RejectedExecutionException */
	RF_ESTARTED = -5002,     /* rf_init() after the runtime already started */
	RF_ENOURING = -5003,     /* io_uring asked for explicitly but not available here */
	RF_ECONFIG = -5004,      /* a malformed RF_* variable or rf_config field (named on stderr) */
	/* deref family (delay, promise, future, deferred, executor service): -5100.. */
	RF_EDELIVERED = -5100,   /* deliver on a realized promise (Clojure: returns nil, no effect) */
	RF_ERECURSIVE = -5101,   /* a delay dereferenced from inside its own body */
	RF_EABANDONED = -5102,   /* last handle of a pending deferred freed: nobody can realize it */
	/* atom, volatile, locking, reclamation: -5200.. */
	RF_EVALIDATOR = -5200,   /* validator rejected: IllegalStateException "Invalid reference state" */
	RF_ENOTOWNER = -5201,    /* unlock by a non-owner: IllegalMonitorStateException */
	/* refs, STM and vars: -5300.. */
	RF_ENOTX = -5300,        /* alter/ref-set/commute/ensure outside dosync: "No transaction running" */
	RF_ERETRYLIMIT = -5301,  /* "Transaction failed after reaching retry limit" */
	RF_ECOMMUTESET = -5302,  /* ref-set/alter after commute: "Can't set after commute" */
	RF_EIOINTX = -5303,      /* io! inside a transaction: "I/O in transaction" */
	RF_ENOTDYNAMIC = -5304,  /* binding a non-dynamic var: "Can't dynamically bind non-dynamic var" */
	RF_ENOTBOUND = -5305,    /* set on a var not thread-bound: "Can't change/establish root binding" */
	RF_ETXRETRY = -5306,     /* transaction must run again (Clojure's RetryEx); pass it on */
	RF_ENOTBINDER = -5307,   /* set from another context: "Can't set!: from non-binding thread" */
	/* agents: -5400.. */
	RF_EAGENTFAILED = -5400, /* send to a failed agent: "Agent is failed, needs restart" */
	RF_EAGENTOK = -5401,     /* restart of a healthy agent: "Agent does not need a restart" */
	RF_EAWAITINACTION = -5402, /* await inside an action: "Can't await in agent action" */
	/* channels and go: -5500.. */
	RF_ECLOSED = -5500,      /* take from a closed, drained channel (Clojure: nil) */
	RF_EPENDINGLIMIT = -5501, /* "No more than 1024 pending puts/takes are allowed on a single channel." */
	/* fork/join, fold, pmap: -5600.. */
	RF_ENOTINPOOL = -5600,   /* fork/join from outside a pool task */
	RF_EEND = -5601,         /* a pmap stream has no more elements (Clojure: the seq ends) */
};
/* clang-format on */

/* The name of any code ringfold returns, its own or a -errno.
 * Returns: a string in static storage, never NULL: "success" for 0, "RF_E...: what it
 *          means" for ringfold's codes, strerror's text for a -errno, "unknown ringfold
 *          error" for anything else.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a scan of a short table. */
RF_API const char *rf_strerror(int code);

/* The one shape of an update function: swap, alter, commute, send and send-off call
 * fn(old, arg, &out) and take *out as the new value. The tutorial's (swap! a + 10) is
 * rf_atom_swap(a, rf_add, 10). */
typedef int (*rf_update_fn)(rf_val old, rf_val arg, rf_val *out);

/* The one shape of a body: delay, future, go, thread, executor task and transaction
 * bodies are called fn(arg, &out). */
typedef int (*rf_body_fn)(rf_val arg, rf_val *out);

/* The one shape of a release function: a reference made with one (an atom, a ref, an
 * agent, a channel) owns the objects its pointer values point to and gives each up
 * through release(value, ctx) once no reader can still use it. */
typedef void (*rf_release_fn)(rf_val value, rf_val ctx);

/* The one shape of a validator, for atoms, refs, agents and vars: returns 1 if value is
 * a valid state, 0 if not (the change is refused with RF_EVALIDATOR: Clojure's
 * IllegalStateException "Invalid reference state"), or a negative code of its own (the
 * change is refused and that code returned: a validator that throws). */
typedef int (*rf_validator_fn)(rf_val value, rf_val ctx);

/* The one shape of a watch, for atoms, refs, agents and vars: called as
 * watch(key, ref, old, new, ctx) after a change, with `ref` the atom, ref, agent or var
 * that changed. Returns 0, or a negative code: the change stays made (as in Clojure,
 * where a watch runs after the state changed), every other watch still runs, and the
 * call that made the change returns the first such code (rf_dosync for refs,
 * rf_var_alter_root for vars; an agent's action has no caller, so there the code is an
 * error of the action: agent-error and the error handler get it). Keys are rf_val everywhere; a
 * watch with an existing key replaces it; removing a key that is not there does
 * nothing and returns 0 (Clojure's remove-watch). */
typedef int (*rf_watch_fn)(rf_val key, void *ref, rf_val old_val, rf_val new_val, rf_val ctx);

/* Ready-made update functions on integer values (Clojure's +, inc, dec, max, min,
 * constantly, unchecked-multiply, even?, odd?), for rf_atom_swap, rf_ref_alter,
 * rf_agent_send and the others, and as a fold's maps and filters (fold.h compiles a
 * pipeline of them into one loop). Each returns 0 and cannot fail; out must not be NULL
 * (ringfold always passes one). */

/* (+ old arg): *out = old + arg, wrapping on overflow (Clojure's unchecked-add).
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one add; rf_atom_swap does it as one fetch-and-add on an atom that never had
 *          a validator, watches or release function. */
RF_API int rf_add(rf_val old, rf_val arg, rf_val *out);

/* (inc old): *out = old + 1, wrapping on overflow; arg is ignored.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_add. */
RF_API int rf_inc(rf_val old, rf_val arg, rf_val *out);

/* (dec old): *out = old - 1, wrapping on overflow; arg is ignored.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_add. */
RF_API int rf_dec(rf_val old, rf_val arg, rf_val *out);

/* (max old arg): *out = the greater of old and arg, compared as signed integers.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one compare. */
RF_API int rf_max(rf_val old, rf_val arg, rf_val *out);

/* (min old arg): *out = the smaller of old and arg, compared as signed integers.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one compare. */
RF_API int rf_min(rf_val old, rf_val arg, rf_val *out);

/* ((constantly arg) old): *out = arg, whatever old is.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one store. */
RF_API int rf_constantly(rf_val old, rf_val arg, rf_val *out);

/* (unchecked-multiply x k) as a map: *out = x * k, wrapping on overflow.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one multiply; none per element in a fold of known functions (fold.h). */
RF_API int rf_mul(rf_val x, rf_val k, rf_val *out);

/* (even? x) as a predicate: *out = 1 if x is even, else 0; arg is ignored.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one test; none per element in a fold of known functions (fold.h). */
RF_API int rf_even(rf_val x, rf_val arg, rf_val *out);

/* (odd? x) as a predicate: *out = 1 if x is odd, else 0; arg is ignored.
 * Returns: 0 and *out.
 * Errors:  none. Precondition: out not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one test; none per element in a fold of known functions (fold.h). */
RF_API int rf_odd(rf_val x, rf_val arg, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
