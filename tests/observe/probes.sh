#!/usr/bin/env bash
# probes.sh library LIB: every USDT probe of provider ringfold is in LIB (readelf -n).
# probes.sh traced LIB PROG: perf (else bpftrace) sees the probes fire while PROG runs
#   (PROG uses channels on fibers); exit 77 (ctest: skipped) with the reason when this
#   machine does not let us trace.
set -uo pipefail
mode=$1 lib=$(readlink -f "$2")
probes="fiber_spawn fiber_park fiber_wake fiber_exit worker_sleep worker_wake io_submit
io_complete fj_steal_local fj_steal_remote fj_steal_failed tx_start tx_retry tx_barge
tx_commit agent_action agent_error chan_put_park chan_put chan_take_park chan_take stall"

notes=$(readelf -n "$lib") || { echo "FAIL: readelf -n $lib"; exit 1; }
location() { # the addresses of probe $1 (one per site)
  awk -v p="$1" '/Provider:/ {prov=$2} /Name:/ {name=$2}
    /Location:/ && prov=="ringfold" && name==p {sub(",", "", $2); print $2}' <<<"$notes"
}

if [ "$mode" = library ]; then
  missing=0
  for p in $probes; do
    [ -n "$(location "$p")" ] || { echo "FAIL: probe ringfold:$p is not in $lib"; missing=1; }
  done
  [ $missing -eq 0 ] && echo "all $(wc -w <<<"$probes") probes of provider ringfold are in $lib"
  exit $missing
fi

prog=$3
skip() { echo "SKIPPED (not a pass): $*"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
traced="fiber_spawn fiber_exit fiber_park fiber_wake chan_put chan_take"
if command -v perf >/dev/null; then
  group=rftest$$ added=0
  cleanup() { [ $added -eq 1 ] && perf probe -q -d "$group:*" >/dev/null 2>&1; rm -rf "$out"; }
  trap cleanup EXIT
  # Addresses, not perf's %sdt names: a group of our own lets runs in parallel coexist.
  for p in $traced; do
    i=0
    for addr in $(location "$p"); do
      perf probe -q -x "$lib" -a "$group:${p}__$((i++))=$addr" >"$out/probe.log" 2>&1 ||
        skip "perf probe cannot add uprobes here: $(head -1 "$out/probe.log")"
      added=1
    done
  done
  perf record -q -o "$out/perf.data" -e "$group:*" -- "$prog" >"$out/prog.log" 2>"$out/rec.log" ||
    skip "perf record failed: $(head -1 "$out/rec.log")"
  perf script -i "$out/perf.data" 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^'"$group"':/) {sub(":$", "", $i); sub("^'"$group"':", "", $i); sub("__[0-9]+$", "", $i); print $i}}' |
    sort | uniq -c >"$out/counts"
elif command -v bpftrace >/dev/null; then
  script=""
  for p in $traced; do script+="usdt:$lib:ringfold:$p { @[\"$p\"] = count(); } "; done
  bpftrace -e "$script" -c "$prog" >"$out/bt.log" 2>&1 || skip "bpftrace failed: $(grep -m1 ERROR "$out/bt.log")"
  sed -n 's/^@\[\(.*\)\]: \([0-9]*\)$/\2 \1/p' "$out/bt.log" >"$out/counts"
else
  skip "neither perf nor bpftrace is installed"
fi
count() { awk -v p="$1" '$2 == p {print $1}' "$out/counts"; }
cat "$out/counts"
fail=0
for p in $traced; do
  [ "$(count "$p")" -gt 0 ] 2>/dev/null || { echo "FAIL: no ringfold:$p event seen"; fail=1; }
done
# the producer puts 1000 items; each put fires chan_put once, parked or not
[ "$(count chan_put)" -ge 1000 ] 2>/dev/null || { echo "FAIL: $(count chan_put) chan_put events, want >= 1000"; fail=1; }
exit $fail
