# perf/peers.sh: sourced by every perf/<family>/run-peers after it sets PEER_NAMES, the
# benchmarks it has rows for. Handles the arguments every run-peers takes:
#   --list       print PEER_NAMES, one a line, and exit
#   --only NAME  set ONLY=NAME; exit 0 with no rows when NAME is not one of ours
# Rows are CSV as perf/harness.h: bench,impl,ns_per_op,ops,min,max,reps,unit (ns_per_op the
# median). A run-peers that cannot produce its rows says why on stderr and exits non-zero
# (peers_need does that); perf/run then prints MISSING PEER ROW for each of its names.
ONLY=""
case ${1:-} in
  --list) printf '%s\n' "${PEER_NAMES[@]}"; exit 0 ;;
  --only)
    ONLY=${2:?--only needs a NAME}
    printf '%s\n' "${PEER_NAMES[@]}" | grep -qxF -- "$ONLY" || exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--only NAME | --list]" >&2; exit 2 ;;
esac

# Rust peers build with Debian's cargo, not a rustup one earlier in PATH: it is what a fresh
# machine has and what Debian's vendored crates (/usr/share/cargo/registry) are packaged for.
# It reads Cargo.lock up to version 3: generate lock files with it (newer cargos write 4).
CARGO=/usr/bin/cargo

# peers_need CMD|FILE...: exit 1, saying which, unless every command exists and every
# absolute path is a readable file.
peers_need() {
  local what
  for what in "$@"; do
    case $what in
      /*) [ -r "$what" ] && continue ;;
      *) command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    echo "$0: $what missing, no rows for ${ONLY:-${PEER_NAMES[*]}}" >&2
    exit 1
  done
}
