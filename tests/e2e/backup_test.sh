#!/usr/bin/env bash
# End to end: veta-backup's commands on a real ledger, and a live backup of a running
# veta-server (--backup-dir, SIGUSR1), restored against a checkpoint saved earlier and refused
# against a newer one; the restored ledger audits clean and serves again.
# Usage: backup_test.sh VETA VETA_SERVER VETA_BACKUP VETA_AUDIT
set -euo pipefail
veta=$1 server=$2 backup=$3 audit=$4
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; tail -n 20 server.log >&2 2>/dev/null || true; exit 1; }
expect_fail() {  # expect_fail "words in output" cmd...
  local words=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "should have failed: $*"; fi
  grep -q -- "$words" out.txt err.txt || { cat out.txt err.txt; fail "'$words' not in output of: $*"; }
  pass
}
start() {  # start DATA_DIR [flags...]
  local dir=$1; shift
  rm -f port
  "$server" --data-dir "$dir" --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 0 \
    "$@" 2>>server.log &
  pid=$!
  for _ in $(seq 200); do [[ -s port ]] && break; sleep 0.05; done
  [[ -s port ]] || fail "server did not start"
  addr=127.0.0.1:$(cat port)
}
stop() { kill -TERM "$pid"; wait "$pid" || fail "server exit status $?"; pid=; }
memos() {  # memos FROM TO: signed by the writer's key
  for i in $(seq "$1" "$2"); do
    echo "{\"text\":\"memo $i\",\"nonce\":\"$i\"}" >m.json
    "$veta" sign --key writer.pem m.json >e.json
    "$veta" submit --server "$addr" e.json >/dev/null || fail "memo $i"
  done
}

"$veta" init --data-dir data --origin veta.test/backup >init.txt
logkey=$(sed -n 's/.*checkpoint verifier key: //p' init.txt)
[[ -n "$logkey" ]] || fail "no verifier key in veta init's output"
start data --backup-dir live
"$veta" keygen --out writer >/dev/null
"$veta" sign --type key-registration --key data/authority-key.pem writer.registration.json >reg.json
"$veta" submit --server "$addr" reg.json >/dev/null
memos 1 5  # 7 entries with the genesis and the key registration

# An offline backup needs the server stopped, and says how to make a live one.
expect_fail "send it SIGUSR1" "$backup" create --data-dir data --backup-dir offline
# A live backup: the checkpoint witnessed before it is held by it.
cp data/latest-checkpoint witnessed.note
kill -USR1 "$pid"
for _ in $(seq 200); do "$backup" list --backup-dir live 2>/dev/null | grep -q '^1 ' && break; sleep 0.05; done
"$backup" list --backup-dir live | grep -q '^1 .*>=7 ' && pass || fail "live backup not listed"
grep -q "backup 1 made in live" server.log && pass || fail "server did not log the backup"
# `veta-backup live` (deploy/veta-backup.service): signals the server, waits for its result,
# verifies the backup made; exit 0 only then.
"$backup" live --data-dir data --backup-dir live --pid "$pid" --timeout-seconds 60 >live.txt ||
  { cat live.txt; fail "veta-backup live"; }
grep -q "backup 2 made by veta-server .* and verified" live.txt && pass || fail "live report"
expect_fail "give --pid" "$backup" live --data-dir data --backup-dir live --pid 0
memos 6 8  # writes go on: 10 entries
cp data/latest-checkpoint newest.note
stop
# The server gone: live fails at once, saying so.
expect_fail "cannot signal veta-server" "$backup" live --data-dir data --backup-dir live \
  --pid 999999999
# A server whose backup folder cannot be written: its backup fails, and so does live (the
# unit's exit status), with the server's reason; the server goes on.
touch blocker
start data --backup-dir blocker/live
expect_fail "live backup failed: blocker is in the way of the folder blocker/live" \
  "$backup" live --data-dir data --backup-dir blocker/live --pid "$pid" --timeout-seconds 60
# A server without --backup-dir: refused, not waited for.
stop
start data
expect_fail "runs without --backup-dir" \
  "$backup" live --data-dir data --backup-dir live --pid "$pid" --timeout-seconds 60
stop
# An offline backup into a folder that cannot be written fails, and leaves nothing.
expect_fail "blocker is in the way of the folder blocker/offline" \
  "$backup" create --data-dir data --backup-dir blocker/offline
# A report that cannot be written (a full disk) is a failure.
if "$backup" list --backup-dir live >/dev/full 2>err.txt; then fail "list >/dev/full succeeded"; fi
grep -q "cannot write the report" err.txt && pass || fail "no message for a full stdout"

"$backup" create --data-dir data --backup-dir offline | grep -q "backup 1: 10 entries" && pass ||
  fail "offline backup"
"$backup" verify --backup-dir offline | grep -q "every file holds its checksum" && pass ||
  fail "verify"
# A damaged backup does not verify (non-zero), naming the damage.
cp -r offline damaged
victim=$(find damaged -name '*.sst' -size +1k | head -n 1)
[[ -n "$victim" ]] || fail "no table file in the backup"
printf 'XXXXXXXXXXXXXXXX' | dd of="$victim" bs=1 seek=100 conv=notrunc status=none
expect_fail "is damaged" "$backup" verify --backup-dir damaged
expect_fail "give --backup-dir" "$backup" list
expect_fail "unknown command" "$backup" frobnicate --backup-dir live

# Restore against the witnessed checkpoint, audit, serve.
"$backup" restore --backup-dir live --data-dir r1 --checkpoint witnessed.note --log-key "$logkey" \
  >restore.txt || { cat restore.txt; fail "restore"; }
grep -q "holds the checkpoint of 7 entries, audit clean" restore.txt && pass || fail "restore report"
"$audit" --quiet --checkpoint witnessed.note r1 && pass || fail "audit of the restored ledger"
# Against the newer checkpoint the live backup is short: refused, nothing left behind.
expect_fail "entries 7..9 witnessed but missing from the backup" \
  "$backup" restore --backup-dir live --data-dir r2 --checkpoint newest.note --log-key "$logkey"
[[ ! -e r2 ]] && ! ls -d r2.restoring-* 2>/dev/null && pass || fail "a refused restore left files"
expect_fail "does not verify" "$backup" restore --backup-dir offline --data-dir r2 \
  --checkpoint newest.note --log-key "veta.test/other+00000000+AWtleWtleWtleWtleWtleWtleWtleWtleWtleWtleWtleWtleWtl"
"$backup" restore --backup-dir live --data-dir r2 --checkpoint newest.note --log-key "$logkey" \
  --allow-older | grep -q "OLDER than the checkpoint of 10 entries" && pass || fail "allow-older"
# The offline backup holds the newest checkpoint; its restored ledger serves with the key.
"$backup" restore --backup-dir offline --data-dir r3 --checkpoint newest.note --log-key "$logkey" \
  >/dev/null && pass || fail "restore offline"
start r3 --authority-key data/authority-key.pem
"$veta" checkpoint --server "$addr" --json | grep -q '"treeSize":"10"' && pass || fail "restored serves"
memos 9 9
stop
"$audit" --quiet r3 && pass || fail "audit after writing to the restored ledger"
echo "e2e backup: $checks checks passed"
