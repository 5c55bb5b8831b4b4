#!/usr/bin/env bash
# End to end: veta-follower following a real veta-server while veta-load writes to it, killed
# with SIGKILL mid-stream, restarted on the same folder: it catches up with no entry lost or
# doubled, serves the same answers as the primary, refuses writes naming the primary, stops
# cleanly on SIGTERM, and its folder passes veta-audit.
# Usage: follower_test.sh VETA VETA_SERVER VETA_AUDIT VETA_LOAD VETA_FOLLOWER
set -euo pipefail
veta=$1 server=$2 audit=$3 load=$4 follower=$5
work=$(mktemp -d)
pid= fpid= lpid=
cleanup() {
  for p in $lpid $fpid $pid; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
fail() {
  echo "FAIL: $*" >&2
  tail -n 20 server.log follower.log 2>/dev/null >&2 || true
  exit 1
}
wait_file() { for _ in $(seq 200); do [[ -s $1 ]] && return 0; sleep 0.05; done; return 1; }
start_follower() {
  rm -f fport mport
  "$follower" --primary "$addr" --data-dir replica --authority data/authority.pub.pem \
    --listen 127.0.0.1:0 --port-file fport --page-entries 20 --poll-ms 10 \
    --metrics-listen 127.0.0.1:0 --metrics-port-file mport \
    --status-file status --status-interval-ms 20 2>>follower.log &
  fpid=$!
  wait_file fport || fail "the follower did not start"
  faddr=127.0.0.1:$(cat fport)
}
checkpoint_size() {  # the tree size of a server's latest checkpoint
  "$veta" checkpoint --server "$1" --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p'
}
held() { sed -n 's/^entries \([0-9]*\),.*/\1/p' status 2>/dev/null; }

"$veta" init --data-dir data --origin veta.test/follower >/dev/null
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 20 \
  2>>server.log &
pid=$!
wait_file port || fail "the server did not start"
addr=127.0.0.1:$(cat port)

"$follower" --help | grep -q -- "--primary" && pass || fail "help"
if "$follower" --data-dir replica 2>err.txt; then fail "no --primary should fail"; fi
grep -q "give --primary" err.txt && pass || fail "no --primary: $(cat err.txt)"

# The follower starts on an empty folder and follows while the load writes.
start_follower
"$load" --server "$addr" --authority-key data/authority-key.pem --workload extraction \
  --entries 3000 --keys 4 --clients 2 --mode stream --rate 3000 >load.txt 2>&1 &
lpid=$!
for _ in $(seq 400); do [[ "$(held)" -gt 200 ]] 2>/dev/null && break; sleep 0.02; done
[[ "$(held)" -gt 200 ]] || fail "the follower did not follow: $(cat status 2>/dev/null)"
kill -9 "$fpid"
wait "$fpid" 2>/dev/null || true
killed_at=$(held)
wait "$lpid" || { cat load.txt; fail "veta-load"; }
lpid=
grep -q "committed" load.txt && pass || fail "load: $(cat load.txt)"
total=$(checkpoint_size "$addr")
[[ "$killed_at" -lt "$total" ]] && pass || fail "killed at $killed_at of $total: not mid-stream"
echo "follower killed at $killed_at of $total entries"

# Restarted on the same folder: catches up with the primary's latest checkpoint.
start_follower
total=$(checkpoint_size "$addr")
for _ in $(seq 1000); do
  [[ "$(checkpoint_size "$faddr")" == "$total" ]] && grep -q "lag 0 entries" status 2>/dev/null && break
  sleep 0.02
done
[[ "$(checkpoint_size "$faddr")" == "$total" ]] && pass || fail "caught up: $(cat status)"
# Its lag is a metric: 0 entries behind once caught up (refreshed every second).
metric() {
  python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/metrics").read().decode().splitlines():
    if line.startswith(sys.argv[2] + " "): print(line.split()[1])' "$(cat mport)" "$1"
}
for _ in $(seq 100); do [[ "$(metric veta_follower_lag_entries)" == "0" ]] && break; sleep 0.05; done
[[ "$(metric veta_follower_lag_entries)" == "0" ]] && pass || fail "lag metric: $(metric veta_follower_lag_entries)"
[[ "$(metric veta_log_entries)" == "$total" ]] && pass || fail "log metric: $(metric veta_log_entries) of $total"

# No entry lost or doubled: the same entries, the same checkpoint, the same records.
for start in 0 1000 2000 3000; do
  "$veta" list --server "$addr" --start $start --limit 1000 >p.txt
  "$veta" list --server "$faddr" --start $start --limit 1000 >f.txt
  cmp -s p.txt f.txt && pass || fail "entries from $start differ"
done
[[ $("$veta" list --server "$faddr" --start "$total" --limit 10 | wc -l) == 0 ]] && pass ||
  fail "the follower holds entries past the primary's checkpoint"
"$veta" checkpoint --server "$addr" --json >p.txt
"$veta" checkpoint --server "$faddr" --json >f.txt
cmp -s p.txt f.txt && pass || fail "checkpoints differ"
"$veta" records unit --server "$addr" --limit 50 >p.txt
"$veta" records unit --server "$faddr" --limit 50 >f.txt
cmp -s p.txt f.txt && [[ -s p.txt ]] && pass || fail "unit records differ"
"$veta" prove --server "$faddr" --authority data/authority.pub.pem --out proof.json 100 >/dev/null &&
  "$veta" verify --authority data/authority.pub.pem proof.json >/dev/null && pass ||
  fail "a proof from the follower"

# Writes go to the primary.
echo '{"subject":"x","text":"y","nonce":"1"}' >memo.json
"$veta" sign --key data/authority-key.pem memo.json >env.json
if "$veta" submit --server "$faddr" env.json >out.txt 2>&1; then fail "a follower took a write"; fi
grep -q "FAILED_PRECONDITION\|follower" out.txt && grep -q "$addr" out.txt && pass ||
  fail "write refusal: $(cat out.txt)"

# SIGTERM: a clean stop (exit 0); the folder passes the audit.
kill -TERM "$fpid"
wait "$fpid" && pass || fail "the follower did not stop cleanly"
fpid=
grep -q "stopped cleanly" follower.log && pass || fail "no clean stop in the log"
"$audit" replica >audit.txt 2>&1 && pass || { cat audit.txt; fail "veta-audit of the follower"; }

# A follower pinned to another authority's key stops at once and exits 2, saying why (--once
# and serving alike), and serves nothing it could not verify.
"$veta" init --data-dir other --origin veta.test/other >/dev/null
set +e
"$follower" --primary "$addr" --data-dir r2 --authority other/authority.pub.pem --once 2>err.txt
rc=$?
"$follower" --primary "$addr" --data-dir r3 --authority other/authority.pub.pem \
  --listen 127.0.0.1:0 --status-interval-ms 0 2>err3.txt
rc3=$?
set -e
[[ $rc == 2 ]] && grep -q "does not verify" err.txt && pass || fail "exit $rc: $(cat err.txt)"
[[ $rc3 == 2 ]] && grep -q "STOPPED at entry 0" err3.txt && pass || fail "exit $rc3: $(cat err3.txt)"

# Failover: the old primary stops; the follower's folder, opened by veta-server with the
# authority's key, goes on from the same log (its next entry is the next number).
kill -TERM "$pid"
wait "$pid" || true
pid=
rm -f port
"$server" --data-dir replica --authority-key data/authority-key.pem --listen 127.0.0.1:0 \
  --port-file port 2>>server.log &
pid=$!
wait_file port || fail "veta-server did not open the follower's folder"
addr=127.0.0.1:$(cat port)
"$veta" submit --server "$addr" env.json | grep -q "recorded as entry $total" && pass ||
  fail "the promoted follower did not take entry $total"
echo "follower e2e: $checks checks passed"
