/* runtime/base/assert.h: invariant checks of debug builds (internal).
 *
 * RF_ASSERT(cond) aborts with file, line and the condition when RF_DEBUG_INVARIANTS is
 * defined (the CMake option of that name, on in the asan preset); otherwise it compiles
 * to nothing (cond is not evaluated). For invariants the comments state: owner-only
 * functions, locks held where required, states a structure can be in.
 */
#ifndef RF_BASE_ASSERT_H
#define RF_BASE_ASSERT_H

#ifdef RF_DEBUG_INVARIANTS
__attribute__((noreturn, cold)) void rf_assert_failed(const char *file, int line, const char *what);
#define RF_ASSERT(cond) ((cond) ? (void)0 : rf_assert_failed(__FILE__, __LINE__, #cond))
#else
#define RF_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
