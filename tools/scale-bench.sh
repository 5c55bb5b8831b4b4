#!/usr/bin/env bash
# Ingest as the ledger grows (issue 10: the rate at 10M entries >= 0.9x the rate at 100k, and the
# server's RSS <= 512 MiB throughout). One fresh ledger, veta-server with its defaults (tiles
# on), `veta-load --mode stream --clients 4` of N entries; every INTERVAL seconds a line with
# the committed tree size, the rate over the interval, the server's RSS and its CPU; at the end,
# the overall rate, the peak RSS (VmHWM), the server's CPU time per entry (steadier than a rate
# on a shared machine) and the ledger's size on disk.
# SERVER_ARGS adds flags to veta-server, SERVER_ENV variables to its environment; WORKLOAD (memo) picks veta-load's workload;
# VETA_ROCKSDB_LOG=info keeps RocksDB's own LOG with its compaction statistics, copied to
# OUT/rocksdb.LOG when OUT is set. Speed is measured here, never asserted in tests.
# Usage: tools/scale-bench.sh [BUILD_DIR (build-release)] [ENTRIES (3000000)] [INTERVAL (20)]
set -euo pipefail
build=$(cd "${1:-build-release}" && pwd) n=${2:-3000000} every=${3:-20}
work=$(mktemp -d -p "${TMPDIR:-/var/tmp}")
pid= load=
cleanup() {
  [[ -n "$load" ]] && kill -9 "$load" 2>/dev/null
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build/client/veta" init --data-dir "$work/data" >/dev/null 2>&1
# shellcheck disable=SC2086
env ${SERVER_ENV:-} "$build/server/veta-server" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" ${SERVER_ARGS:-} 2>"$work/server.log" &
pid=$!
for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
addr=127.0.0.1:$(cat "$work/port")
echo "== ${WORKLOAD:-memo}, $n entries, server ${SERVER_ARGS:-(defaults)}"
"$build/tools/veta-load" --server "$addr" --authority-key "$work/data/authority-key.pem" \
  --workload "${WORKLOAD:-memo}" --mode stream --entries "$n" --clients 4 --server-pid "$pid" \
  >"$work/load.out" 2>&1 &
load=$!
size() { VETA_LANG=en "$build/client/veta" checkpoint --server "$addr" --json 2>/dev/null |
  sed -n 's/.*"treeSize": *"\{0,1\}\([0-9]*\).*/\1/p'; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }
start=$(date +%s.%N) last_t=$start last_n=$(size) last_c=$(ticks)
hz=$(getconf CLK_TCK)
printf '%8s %10s %10s %8s %6s\n' seconds entries entries/s rss_MiB cpu
while kill -0 "$load" 2>/dev/null; do
  sleep "$every"
  t=$(date +%s.%N) s=$(size) c=$(ticks)
  [[ -z "$s" ]] && continue
  printf '%8.0f %10d %10.0f %8d %6.2f\n' "$(echo "$t - $start" | bc)" "$s" \
    "$(echo "($s - $last_n) / ($t - $last_t)" | bc -l)" "$(rss)" \
    "$(echo "($c - $last_c) / $hz / ($t - $last_t)" | bc -l)"
  last_t=$t last_n=$s last_c=$c
done
wait "$load" || true
load=
grep -E "^stream|^verify" "$work/load.out" || cat "$work/load.out"  # with CPU in verifications
cpu=$(echo "scale=1; $(ticks) / $hz" | bc)
echo "peak RSS: $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status") MiB;" \
  "server CPU: $cpu s, $(echo "scale=1; $cpu * 1000000 / $n" | bc) us per entry;" \
  "ledger on disk: $(du -sh "$work/data" | cut -f1)"
kill -TERM "$pid"
wait "$pid" || true
pid=
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  for f in "$work"/data/ledger/LOG "$work"/data/*/LOG; do
    [[ -f $f ]] && cp "$f" "$OUT/rocksdb.LOG" && break
  done
  cp "$work/server.log" "$OUT/server.log"
fi
