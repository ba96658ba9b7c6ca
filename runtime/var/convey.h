/* runtime/var/convey.h: conveyance of dynamic bindings to other contexts (internal).
 *
 * Clojure's binding-conveyor-fn. Whoever starts work on another context (future,
 * executor task, agent action, go process, fold/pmap task) captures the spawner's frame
 * and installs it around the work:
 *
 *     void *frame = var_bindings_capture();        // in the spawner; holds a reference
 *     ... later, in the worker:
 *     void *saved = var_bindings_install(frame);   // ctx->bindings = frame
 *     run the work;
 *     var_bindings_install(saved);
 *     var_bindings_release(frame);                 // drop the capture's reference
 *
 * A fiber spawned with a captured frame (fiber_spawn's `conveyed`) starts with it
 * installed and drops it when it ends (a ctx_end hook). A raw thread (rf_thread) conveys
 * nothing, as in Clojure. All three accept NULL.
 */
#ifndef RF_VAR_CONVEY_H
#define RF_VAR_CONVEY_H

void *var_bindings_capture(void);
void *var_bindings_install(void *frame);
void var_bindings_release(void *frame);

#endif
