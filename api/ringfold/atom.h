/* ringfold/atom.h: atoms (Clojure's atom, swap!, reset!, compare-and-set!, swap-vals!,
 * reset-vals!, set-validator!, add-watch, remove-watch) and the read sections that make
 * pointer values safe to use after they have been replaced.
 *
 * An atom holds one rf_val. Changes are atomic and uncoordinated: a reader (rf_deref)
 * always sees a value some change wrote, never a partial one.
 *
 *   Clojure                          ringfold
 *   (atom 0)                         rf_atom_new(0, &a), or rf_atom_init(&a, 0) in place
 *   (atom 0 :validator f)            rf_atom_new + rf_atom_set_validator(a, f, ctx)
 *   @a                               rf_atom_deref(a, &v)          (or rf_deref)
 *   (swap! a f x) (swap-vals! a f x) rf_atom_swap(a, f, x, &new), rf_atom_swap_vals
 *   (reset! a v) (reset-vals! a v)   rf_atom_reset(a, v), rf_atom_reset_vals
 *   (compare-and-set! a old new)     rf_atom_compare_and_set(a, old, new): 1 / 0
 *   (set-validator! a f) (get-validator a)   rf_atom_set_validator / _get_validator
 *   (add-watch a k f) (remove-watch a k)     rf_atom_add_watch / rf_atom_remove_watch
 *   "Invalid reference state"        RF_EVALIDATOR
 *
 * Each atom fills one 64-byte cache line (RF_ATOM_SIZE), so two atoms never share one.
 * An atom made with a release function (the _owning forms) owns the objects its values
 * point to and releases a replaced value only after every read section open at that
 * moment has ended; a reader that uses a value after loading it wraps both in
 * rf_reclaim_enter() / rf_reclaim_exit() (ringfold/reclaim.h). docs/atom.md has the
 * details.
 *
 * Errors shared by every function: -EINVAL for a NULL atom, -EBADF for an atom that was
 * destroyed (checked on the atom's own cache line, so free of cost; using memory after
 * rf_atom_free() is still undefined). A user function's negative return is returned
 * unchanged, as Clojure rethrows the function's exception.
 *
 * Contexts: every function may be called from a fiber, a plain thread, a fork/join task,
 * an agent action or a watch; none blocks except rf_reclaim_barrier().
 */
#ifndef RINGFOLD_ATOM_H
#define RINGFOLD_ATOM_H

#include "ringfold/base.h"
#include "ringfold/reclaim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RF_ATOM_SIZE 64

/* Storage for an atom in the caller's memory (rf_atom_init); its bytes are private. */
typedef struct rf_atom {
	RF_ALIGNAS(RF_ATOM_SIZE) unsigned char opaque_[RF_ATOM_SIZE];
} rf_atom;

/* Validators and watches have the shapes of base.h (rf_validator_fn, rf_watch_fn; a
 * watch's `ref` is the rf_atom *). An atom's validator must be pure: it may run several
 * times per swap, on values never installed. */

/* (atom init): an atom in the caller's memory (_init) or on the heap (_new). The
 * _owning forms give it a release function and take ownership of init.
 * Returns: 0 (_new: and *out).
 * Errors:  -EINVAL (NULL atom or out, NULL release for _owning), -ENOMEM (_new).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few stores (+ one allocation). */
RF_API int rf_atom_init(rf_atom *atom, rf_val init);
RF_API int rf_atom_init_owning(rf_atom *atom, rf_val init, rf_release_fn release, rf_val ctx);
RF_API int rf_atom_new(rf_val init, rf_atom **out);
RF_API int rf_atom_new_owning(rf_val init, rf_release_fn release, rf_val ctx, rf_atom **out);

/* Undo rf_atom_init: retire the current value of an owning atom, drop the validator and
 * watches. Values read earlier stay valid while the reader's read section is open.
 * Returns: 0.
 * Errors:  -EINVAL (NULL), -EBADF (already destroyed).
 * Blocks:  only when memory or threads are exhausted: then it waits for readers (never
 *          inside a read section: there the value waits for a later grace period).
 * Context: any. Precondition: no other use of the atom, concurrent or later.
 * Cost:    a few stores, two frees. */
RF_API int rf_atom_destroy(rf_atom *atom);

/* Destroy and free an atom made by rf_atom_new.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none (a destroyed atom is left alone).
 * Blocks:  as rf_atom_destroy.
 * Context: any. Precondition: as rf_atom_destroy.
 * Cost:    as rf_atom_destroy, plus one free. */
RF_API void rf_atom_free(rf_atom *atom);

/* @atom: the current value.
 * An acquire load (seq_cst): everything the writer did before installing the value is
 * visible. Generic form: rf_deref (ringfold.h).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL atom or out), -EBADF (destroyed).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load from the atom's line. */
RF_API int rf_atom_deref(rf_atom *atom, rf_val *out);

/* (swap! atom fn arg): apply fn to the current value until it installs.
 * Reads the value, computes fn(old, arg, &new) and installs new if the atom still holds
 * old (compare-and-swap), otherwise retries from the value now there: fn may run several
 * times and must be pure. The validator, if any, checks new before it is installed;
 * watches run after, on the calling thread. In an owning atom a result of fn that is not
 * installed (lost race, refused) is released at once, unless it is the old value.
 * Returns: 0; *new_out (may be NULL) is the installed value, as swap! returns it.
 * Errors:  -EINVAL (NULL atom or fn), -EBADF (destroyed), fn's code, RF_EVALIDATOR or
 *          the validator's code, -ENOMEM (owning atom: no retirement record, or no
 *          reclaim thread could be started): nothing changed for any of these. A
 *          watch's code, after the change (*new_out set).
 * Blocks:  never (lock-free; retries only when another change got in).
 * Context: any: fiber, plain thread, transaction, agent action, watch.
 * Cost:    one load, the call and one CAS when uncontended. rf_add, rf_inc and rf_dec on
 *          an atom that never had a validator, watches or release function are a single
 *          fetch-and-add with the same result; an atom that ever had one of them takes
 *          the full path (a read section, the validator and watches) on every change. */
RF_API int rf_atom_swap(rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *new_out);

/* (swap-vals! atom fn arg): rf_atom_swap that also gives the value it replaced.
 * For an owning atom the old value is already retired: use it only inside a read section
 * opened before the call.
 * Returns: 0; *old_out the value replaced, *new_out the value installed (either may be
 *          NULL).
 * Errors:  as rf_atom_swap.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_atom_swap. */
RF_API int rf_atom_swap_vals(rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *old_out,
                             rf_val *new_out);

/* (reset! atom v): install v whatever the current value.
 * The validator checks v first; watches run after the change.
 * Returns: 0.
 * Errors:  -EINVAL (NULL atom), -EBADF (destroyed), RF_EVALIDATOR or the validator's
 *          code, -ENOMEM (owning atom: no retirement record, or no reclaim thread could be
 *          started): v is not installed and an owning atom did not take it. A watch's
 *          code, after the change.
 * Blocks:  never.
 * Context: any.
 * Cost:    one exchange (plus the validator and watches). */
RF_API int rf_atom_reset(rf_atom *atom, rf_val value);

/* (reset-vals! atom v): rf_atom_reset that also gives the value it replaced.
 * For an owning atom the old value is already retired (see rf_atom_swap_vals).
 * Returns: 0; *old_out (may be NULL) the value replaced.
 * Errors:  as rf_atom_reset.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_atom_reset. */
RF_API int rf_atom_reset_vals(rf_atom *atom, rf_val value, rf_val *old_out);

/* (compare-and-set! atom old new): install new only if the atom holds exactly old.
 * "Exactly" is the same 64-bit word (Clojure compares identity). The validator checks
 * new before the compare, as in Clojure; watches run after a successful change.
 * Returns: 1 if installed; 0 if not (the atom held something else; an owning atom did
 *          not take new).
 * Errors:  -EINVAL (NULL atom), -EBADF (destroyed), RF_EVALIDATOR or the validator's
 *          code, -ENOMEM (owning atom): nothing installed. A watch's code, after the
 *          change (instead of 1).
 * Blocks:  never.
 * Context: any.
 * Cost:    one CAS (plus the validator and watches). */
RF_API int rf_atom_compare_and_set(rf_atom *atom, rf_val old_val, rf_val new_val);

/* (set-validator! atom fn): make fn the atom's validator; fn NULL removes it.
 * fn checks the current value first; if that is not valid the old validator stays in
 * place, as Clojure throws. Once set, the atom keeps to the full path of rf_atom_swap.
 * Returns: 0.
 * Errors:  -EINVAL (NULL atom), -EBADF (destroyed), RF_EVALIDATOR or fn's own code (the
 *          current value is not valid), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation, fn's call on the current value and an exchange; the replaced
 *          validator is freed after a grace period. */
RF_API int rf_atom_set_validator(rf_atom *atom, rf_validator_fn fn, rf_val ctx);

/* (get-validator atom): the atom's validator and its context.
 * Returns: 0; *fn (NULL if none) and *ctx (RF_NIL if none); either pointer may be NULL.
 * Errors:  -EINVAL (NULL atom), -EBADF (destroyed).
 * Blocks:  never.
 * Context: any.
 * Cost:    a read section and two loads. */
RF_API int rf_atom_get_validator(rf_atom *atom, rf_validator_fn *fn, rf_val *ctx);

/* (add-watch atom key fn): call fn(key, atom, old, new, ctx) after every change.
 * Changes are swap, reset and a successful compare_and_set. fn runs on the changing
 * thread after the change is visible to others, so watches of concurrent changes may run
 * concurrently and out of order, as in Clojure. A watch with the same key is replaced. A
 * watch's negative code is returned by the call that made the change, after it (base.h).
 * A watch may call any atom function, including on this atom.
 * Returns: 0.
 * Errors:  -EINVAL (NULL atom or fn), -EBADF (destroyed), -ENOMEM.
 * Blocks:  never (a lock-free copy-on-write list; retries only when another add or remove
 *          got in).
 * Context: any.
 * Cost:    a copy of the watch list (one allocation); the replaced list is freed after a
 *          grace period. The atom keeps to the full path of rf_atom_swap from then on. */
RF_API int rf_atom_add_watch(rf_atom *atom, rf_val key, rf_watch_fn fn, rf_val ctx);

/* (remove-watch atom key): remove the watch with that key.
 * No such watch is not an error (Clojure returns the atom either way).
 * Returns: 0.
 * Errors:  -EINVAL (NULL atom), -EBADF (destroyed), -ENOMEM.
 * Blocks:  never (as rf_atom_add_watch).
 * Context: any.
 * Cost:    as rf_atom_add_watch; a key that is not there costs a scan of the list. */
RF_API int rf_atom_remove_watch(rf_atom *atom, rf_val key);

#ifdef __cplusplus
}
#endif
#endif
