/* runtime/var/convey.h: conveyance of dynamic bindings to other contexts (internal).
 *
 * Clojure's binding-conveyor-fn. Whoever starts work on another context (future,
 * executor task, agent action, go process, fold/pmap task) captures the spawner's frame
 * and installs it around the work:
 *
 *     void *frame;
 *     rc = var_bindings_capture(&frame);           // in the spawner; holds a reference
 *     ... later, in the worker:
 *     void *saved = var_bindings_install(frame);   // frame is now the innermost
 *     run the work;
 *     var_bindings_install(saved);
 *     var_bindings_release(frame);                 // drop the capture's reference
 *
 * The capture copies the spawner's frames that live on its stack into shared ones, once
 * per binding scope (runtime/var/binding.h). Out of memory it returns -ENOMEM with
 * *frame NULL, and the spawner refuses the work (or runs it in place, where the
 * bindings are the spawner's own): running it without its bindings would be wrong.
 * A fork/join task may instead install its forker's frame without a capture,
 * because the forker joins before its binding scope ends.
 *
 * A fiber spawned with a captured frame (fiber_spawn's `conveyed`) starts with it
 * installed and drops it when it ends (a ctx_end hook). A raw thread (rf_thread_start)
 * conveys nothing, as in Clojure. All three accept NULL.
 */
#ifndef RF_VAR_CONVEY_H
#define RF_VAR_CONVEY_H

#include <stdint.h>

#include "ringfold/var.h"

int var_bindings_capture(void **frame);
/* The running context's innermost frame, for a fork/join task to install uncaptured. */
static inline void *var_bindings_current(void)
{
	return (void *)(uintptr_t)rf_var_ctx.innermost;
}
void *var_bindings_install(void *frame);
void var_bindings_release(void *frame);

#endif
