/* runtime/base/probe.h: USDT probes of provider `ringfold` (docs/observability.md).
 *
 * PROBE(name, args...) marks a static tracepoint: with <sys/sdt.h> (Debian's
 * systemtap-sdt-dev) it is one nop in the code and a stapsdt note naming the probe and
 * where its arguments live, which perf, bpftrace and gdb turn into a breakpoint only
 * while someone traces it. Arguments must be integers or pointers. Without the header
 * (RF_HAVE_SDT undefined) a probe compiles to nothing.
 */
#ifndef RF_BASE_PROBE_H
#define RF_BASE_PROBE_H

#define RF_PROBE_N(_0, _1, _2, _3, _4, n, ...) n

#ifdef RF_HAVE_SDT
#include <sys/sdt.h>
#define PROBE(...)                                                                                 \
	RF_PROBE_N(__VA_ARGS__, DTRACE_PROBE4, DTRACE_PROBE3, DTRACE_PROBE2, DTRACE_PROBE1,        \
	           DTRACE_PROBE, )                                                                 \
	(ringfold, __VA_ARGS__)
#else
/* Nothing, but the arguments still count as used. */
#define RF_NOP0(n) ((void)0)
#define RF_NOP1(n, a) ((void)(a))
#define RF_NOP2(n, a, b) ((void)(a), (void)(b))
#define RF_NOP3(n, a, b, c) ((void)(a), (void)(b), (void)(c))
#define RF_NOP4(n, a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))
#define PROBE(...) RF_PROBE_N(__VA_ARGS__, RF_NOP4, RF_NOP3, RF_NOP2, RF_NOP1, RF_NOP0, )(__VA_ARGS__)
#endif

#endif
