#!/usr/bin/env bash
# gdb.sh SCRIPT PROG: in gdb batch mode, stop PROG at gdb_target_ready and check that
# ringfold-fibers lists its parked go blocks with their entries and backtraces. Exit 77
# (ctest: skipped) with the reason when gdb cannot trace here (no gdb, ptrace denied).
set -uo pipefail
script=$1 prog=$2
command -v gdb >/dev/null || { echo "SKIPPED (not a pass): gdb is not installed"; exit 77; }
out=$(gdb -nx -batch -ex "set debuginfod enabled off" -ex "source $script" \
  -ex "break gdb_target_ready" -ex run -ex "ringfold-fibers bt" -ex kill "$prog" 2>&1)
echo "$out"
if grep -q "ptrace: Operation not permitted\|Could not trace the inferior\|not being run" <<<"$out" &&
   ! grep -q "fibers on" <<<"$out"; then
  echo "SKIPPED (not a pass): gdb cannot trace processes here"
  exit 77
fi
fail=0
check() { grep -Eq "$1" <<<"$out" || { echo "FAIL: no line matches: $1"; fail=1; }; }
check '^  fiber [0-9]+\.[0-9]+ parked on channel 0x[0-9a-f]+ for [0-9]+ ms  entry gdb_target_waits_on_chan'
check '^  fiber [0-9]+\.[0-9]+ parked on timer for [0-9]+ ms  entry gdb_target_sleeps'
# the backtraces go through the family's code into the go block's body: a frame of
# runtime/chan/chan.c, whichever function it is (an optimized rf_chan_take tail-calls
# op_wait, which is too big to inline, and leaves no frame of its own)
check '^      #[0-9]+ .*gdb_target_waits_on_chan'
check '^      #[0-9]+ .*gdb_target_sleeps'
check '^      #[0-9]+ .* at .*/runtime/chan/chan\.c:[0-9]+$'
check '^[0-9]+ fibers on [0-9]+ workers'
exit $fail
