# ringfold-gdb.py: gdb commands for ringfold programs (docs/observability.md).
#
#   (gdb) source /usr/share/ringfold/ringfold-gdb.py   (cmake --install puts it there)
#   (gdb) ringfold-fibers          every fiber of every worker: id, state, what it waits
#                                  on and since when, its entry function
#   (gdb) ringfold-fibers bt       the same, each with its backtrace: a parked fiber's
#                                  registers are read from its saved context and put in
#                                  the worker thread's for the backtrace, then restored
#
# Needs the library's debug information (ringfold builds with -g) and a live process:
# the backtrace of a parked fiber writes registers, which a core file cannot take.
import gdb

STATES = {0: "new", 1: "ready", 2: "running", 3: "yielded", 4: "parking", 5: "parked", 6: "done"}
KINDS = ["something", "channel", "alts", "promise/future/delay", "lock", "I/O on fd", "timer",
         "agent", "executor", "fork/join tasks", "transaction"]


def symbol(addr):
    if addr == 0:
        return "?"
    try:
        text = gdb.execute("info symbol 0x%x" % addr, to_string=True).strip()
    except gdb.error:
        return "0x%x" % addr
    return text.split(" in section")[0] if "No symbol" not in text else "0x%x" % addr


def arch_frame(sp):
    """Registers of a context saved by mctx_swap at stack pointer sp (switch_*.S)."""
    ptr = gdb.lookup_type("unsigned long").pointer()
    word = lambda off: int(gdb.Value(sp + off).cast(ptr).dereference())
    arch = gdb.selected_frame().architecture().name()
    if "x86-64" in arch:
        return {"rbx": word(40), "rbp": word(48), "r12": word(32), "r13": word(24),
                "r14": word(16), "r15": word(8), "rip": word(56), "rsp": sp + 64}
    if "aarch64" in arch:
        regs = {"x%d" % (19 + i): word(8 * i) for i in range(10)}
        regs.update({"x29": word(80), "x30": word(88), "pc": word(88), "sp": sp + 160})
        return regs
    raise gdb.GdbError("ringfold-fibers bt: no saved-context layout for " + arch)


def backtrace_of(sp):
    regs = arch_frame(sp)
    saved = {r: int(gdb.parse_and_eval("$" + r)) for r in regs}
    try:
        for r, v in regs.items():
            gdb.execute("set $%s = 0x%x" % (r, v), to_string=True)
        return gdb.execute("bt", to_string=True)
    finally:
        for r, v in saved.items():
            gdb.execute("set $%s = 0x%x" % (r, v), to_string=True)
        gdb.invalidate_cached_frames()


class RingfoldFibers(gdb.Command):
    """List every ringfold fiber; "ringfold-fibers bt" adds each one's backtrace."""

    def __init__(self):
        super().__init__("ringfold-fibers", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        want_bt = arg.strip() == "bt"
        n = int(gdb.parse_and_eval("sched_nworkers"))
        tab = gdb.parse_and_eval("sched_worker_tab")
        tick = int(gdb.parse_and_eval("sched_tick_ms"))
        total = 0
        for i in range(n):
            w = tab[i]
            running = int(w["running"])
            gdb.write("worker %d (cpu %d, node %d)\n" % (int(w["index"]), int(w["cpu"]),
                                                          int(w["node"])))
            f = w["all"]
            while int(f) != 0:
                total += 1
                fid = int(f["id"])
                state = STATES.get(int(f["state"]), str(int(f["state"])))
                if int(f) == running:
                    state = "running"
                line = "  fiber %d.%d %s" % (fid >> 40, fid & ((1 << 40) - 1), state)
                if state == "parked":
                    kind = int(f["wait_kind"])
                    line += " on %s" % (KINDS[kind] if kind < len(KINDS) else kind)
                    obj = int(f["wait_obj"])
                    if obj:
                        line += " %d" % obj if kind == 5 else " 0x%x" % obj
                    if tick:
                        line += " for %d ms" % ((tick - int(f["park_tick"])) & 0xffffffff)
                line += "  entry %s\n" % symbol(int(f["entry"]))
                gdb.write(line)
                if want_bt and state != "running" and int(f["started"]):
                    sp = int(f["mctx"]["sp"])
                    for l in backtrace_of(sp).splitlines():
                        gdb.write("      " + l + "\n")
                f = f["all_next"]
        gdb.write("%d fibers on %d workers\n" % (total, n))


RingfoldFibers()
