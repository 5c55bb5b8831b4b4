#!/usr/bin/env bash
# Committed entries/s with the tile writer on and off (issue 13: tiles keep up with ingest).
# For each of on, off (and again, alternating, --rounds times): a fresh ledger, veta-server
# (default tiles, or --tiles-dir none), `veta-load --workload memo --mode stream` of N entries;
# with tiles on, how long after the load the published checkpoint covered every entry, and
# the folders' sizes; and CPU, which a machine shared with other work measures better than
# throughput: the server's CPU seconds over the run and the tile writer thread's own (its line
# in the server's log at shutdown). MODES="on hashes off" adds a run with hash tiles only
# (--tile-bundles-dir none); the default is "on off".
# Speed is measured here, never asserted in tests.
# Usage: tools/tiles-bench.sh [BUILD_DIR (build-release)] [ENTRIES (1000000)] [ROUNDS (1)]
set -euo pipefail
build=$(cd "${1:-build-release}" && pwd) n=${2:-1000000} rounds=${3:-1}
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
one() {
  local mode=$1 d=$work/$1
  rm -rf "$d" && mkdir -p "$d"
  "$build/client/veta" init --data-dir "$d/data" >/dev/null 2>&1
  local extra=()
  [[ $mode == off ]] && extra=(--tiles-dir none)
  [[ $mode == hashes ]] && extra=(--tile-bundles-dir none)
  "$build/server/veta-server" --data-dir "$d/data" --listen 127.0.0.1:0 --port-file "$d/port" \
    "${extra[@]}" 2>"$d/server.log" &
  pid=$!
  for _ in $(seq 200); do [[ -s $d/port ]] && break; sleep 0.05; done
  echo "== tiles $mode, $n entries"
  "$build/tools/veta-load" --server "127.0.0.1:$(cat "$d/port")" \
    --authority-key "$d/data/authority-key.pem" --workload memo --mode stream --entries "$n" \
    --clients 4 2>&1 | grep -E "^stream|^verify"
  local end total=$((n + 9)) s=0  # genesis and veta-load's 8 key registrations
  end=$(date +%s.%N)
  if [[ $mode != off ]]; then
    for _ in $(seq 6000); do
      s=$(sed -n 2p "$d/data/tiles/checkpoint" 2>/dev/null || echo 0)
      ((s >= total)) && break
      sleep 0.01
    done
    echo "tiles: checkpoint of $s entries published $(echo "$(date +%s.%N) - $end" | bc) s after the load ended;" \
      "$(du -sh "$d/data/tiles" | cut -f1) hash tiles, $(du -sh "$d/data/tile-bundles" 2>/dev/null | cut -f1) bundles"
  fi
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -TERM "$pid"
  wait "$pid" || true
  echo "cpu: server $(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc) s (user+system)"
  grep "writer thread used" "$d/server.log" || true
  pid=
}
for _ in $(seq "$rounds"); do
  for mode in ${MODES:-on off}; do one "$mode"; done
done
