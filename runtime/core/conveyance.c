/* runtime/core/conveyance.c: binding-frame conveyance hooks (see runtime/ctx.h).
 * Until vars exist there are no frames: capture yields NULL and the rest accept it. */
#include "runtime/ctx.h"

void *rf_bindings_capture(void) { return rf_ctx_self()->bindings; }

void *rf_bindings_install(void *frame)
{
	rf_ctx *ctx = rf_ctx_self();
	void *saved = ctx->bindings;
	ctx->bindings = frame;
	return saved;
}

void rf_bindings_release(void *frame) { (void)frame; }
