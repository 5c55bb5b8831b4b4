#!/usr/bin/env bash
# End to end with the real binaries: three veta-witness processes and a veta-server with a
# 2-of-3 witness policy; `veta prove` / `veta verify` (JSON bundle and C2SP tlog-proof) with
# the policy; a witness killed with SIGKILL restarts holding its state; a policy the
# checkpoint does not meet is refused.
# A backup is restored only against a checkpoint the quorum cosigned (veta-backup
# --witness-policy).
# Usage: witness_test.sh VETA VETA_SERVER VETA_WITNESS VETA_BACKUP
set -euo pipefail
export VETA_LANG=en  # the CLI's English output is checked below (Spanish: a C locale's default)
veta=$1 server=$2 witness=$3 backup=$4
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
fail() {
  echo "FAIL: $*" >&2
  tail -n 20 ./*.log >&2 2>/dev/null || true
  exit 1
}
expect_fail() {  # expect_fail "words in output" cmd...
  local words=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "should have failed: $*"; fi
  grep -q -- "$words" out.txt err.txt || { cat out.txt err.txt; fail "'$words' not in output of: $*"; }
  pass
}
wait_port() {  # wait_port FILE
  for _ in $(seq 200); do [[ -s $1 ]] && return 0; sleep 0.05; done
  fail "no port in $1"
}

"$veta" init --data-dir data --origin veta.test/witnessed >init.txt
log_vkey=$(sed -n 's/.*checkpoint verifier key: //p' init.txt)
echo "log $log_vkey" >logs.txt

"$witness" --help | grep -q "add-checkpoint" && pass || fail "witness --help"
"$witness" serve --help | grep -q "state-dir" && pass || fail "witness serve --help"
expect_fail "need --name" "$witness" serve --key x
start_witness() {  # start_witness I [PORT]
  rm -f "w$1.port"
  "$witness" serve --name "w$1.test" --key "w$1.pem" --logs logs.txt --state-dir "w$1.state" \
    --listen "127.0.0.1:${2:-0}" --prefix /w --port-file "w$1.port" 2>>"w$1.log" &
  wpid[$1]=$!
  pids+=("${wpid[$1]}")
  wait_port "w$1.port"
}
declare -A wpid
for i in 0 1 2; do
  vkey=$("$witness" keygen --name "w$i.test" --key "w$i.pem")
  [[ $vkey == w$i.test+* ]] && pass || fail "keygen printed $vkey"
  [[ $(stat -c %a "w$i.pem") == 600 ]] && pass || fail "key mode"
  [[ $("$witness" vkey --name "w$i.test" --key "w$i.pem") == "$vkey" ]] && pass || fail "vkey"
  start_witness "$i"
  echo "witness W$i $vkey http://127.0.0.1:$(cat w$i.port)/w" >>witnesses.txt
done
expect_fail "exists" "$witness" keygen --name w0.test --key w0.pem
{ echo "log $log_vkey"; cat witnesses.txt; echo "group G 2 W0 W1 W2"; echo "quorum G"; } >policy.txt
{ echo "log $log_vkey"; cat witnesses.txt; echo "group G all W0 W1 W2"; echo "quorum G"; } >all.txt
{ echo "log $log_vkey"; cat witnesses.txt; echo "quorum W9"; } >badpolicy.txt

expect_fail "quorum 'W9' is not a witness or group" "$server" --data-dir data --witness-policy badpolicy.txt
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 20 \
  --witness-policy policy.txt 2>>server.log &
spid=$!
pids+=($spid)
wait_port port
addr=127.0.0.1:$(cat port)

"$veta" keygen --out plant >/dev/null
"$veta" sign --type key-registration --key data/authority-key.pem plant.registration.json >reg.json
"$veta" submit --server "$addr" reg.json | grep -q "recorded as entry 1" && pass || fail "submit"
echo '{"subject":"lote 7","text":"recibido 800 kg","nonce":"7"}' >memo.json
"$veta" sign --key plant.pem memo.json >env.json
"$veta" submit --server "$addr" env.json | grep -q "recorded as entry 2" && pass || fail "memo"

# The published checkpoint is cosigned; proofs carry it and verify with the 2-of-3 policy.
# The quorum (2) publishes first; the third cosignature is added when it arrives: wait for it
# (a loaded machine may answer the third witness later), so that the checks below see all 3.
for _ in $(seq 300); do
  "$veta" checkpoint --server "$addr" --authority data/authority.pub.pem \
    --witness-policy all.txt --out /dev/null >/dev/null 2>&1 && break
  sleep 0.1
done
"$veta" prove --server "$addr" --authority data/authority.pub.pem --witness-policy policy.txt \
  --out bundle.json 2 >prove.txt || { cat prove.txt; fail "prove with policy"; }
grep -q "cosigned by 3 witnesses" prove.txt && pass || { cat prove.txt; fail "3 cosigners"; }
"$veta" verify --authority data/authority.pub.pem --witness-policy policy.txt bundle.json |
  grep -q "verified: entry 2" && pass || fail "verify with policy"
"$veta" prove --server "$addr" --authority data/authority.pub.pem --witness-policy policy.txt \
  --format tlog-proof --out entry2.tlog-proof 2 >/dev/null || fail "prove tlog-proof"
head -1 entry2.tlog-proof | grep -qx "c2sp.org/tlog-proof@v1" && pass || fail "tlog-proof header"
grep -q "^index 2$" entry2.tlog-proof && [[ $(grep -c "^— w" entry2.tlog-proof) == 3 ]] && pass ||
  { cat entry2.tlog-proof; fail "tlog-proof body"; }
"$veta" verify --authority data/authority.pub.pem --witness-policy all.txt entry2.tlog-proof |
  grep -q "verified: entry 2" && pass || fail "verify tlog-proof"
# A policy naming another log is refused before any cosignature is counted.
"$veta" init --data-dir other-data --origin veta.test/witnessed >other-init.txt
sed "s|^log .*|log $(sed -n 's/.*checkpoint verifier key: //p' other-init.txt)|" policy.txt >other-policy.txt
expect_fail "does not list the log" "$veta" verify --authority data/authority.pub.pem \
  --witness-policy other-policy.txt bundle.json
# A tlog-proof whose entry was altered fails.
sed 's/^extra \(.\)\(.\)/extra \2\1/' entry2.tlog-proof >altered.tlog-proof
expect_fail "FAILED" "$veta" verify --authority data/authority.pub.pem altered.tlog-proof
"$veta" checkpoint --server "$addr" --authority data/authority.pub.pem \
  --witness-policy policy.txt --out cp.note >cp.txt 2>cp.err && grep -q "cosigned by 3" cp.err && pass ||
  fail "checkpoint with policy"

# A witness killed with SIGKILL comes back holding what it cosigned.
held=$(curl -s "http://127.0.0.1:$(cat w0.port)/w/$(printf %s veta.test/witnessed | sha256sum | cut -c1-64)/checkpoint" | sed -n 2p)
[[ $held -ge 3 ]] && pass || fail "witness 0 serves its checkpoint ($held)"
kill -9 "${wpid[0]}"
wait "${wpid[0]}" 2>/dev/null || true
if curl -sf -X POST --data-binary "old 0" "http://127.0.0.1:$(cat w0.port)/w/add-checkpoint"; then
  fail "witness 0 still answers after kill -9"
fi
start_witness 0 "$(cat w0.port)"
code=$(curl -s -o body.txt -w '%{http_code}' -X POST --data-binary $'old 0\n\n'"$(cat cp.note)"$'\n' \
  "http://127.0.0.1:$(cat w0.port)/w/add-checkpoint")
[[ $code == 409 ]] && [[ $(cat body.txt) -ge $held ]] && pass || fail "after kill -9: $code $(cat body.txt)"

# Two witnesses down: new checkpoints are not cosigned; a 2-of-3 client refuses an uncosigned
# bundle (the server's newest plain checkpoint, fetched as a proof at that size).
kill -9 "${wpid[1]}" "${wpid[2]}"
echo '{"subject":"lote 8","text":"otra","nonce":"8"}' >memo2.json
"$veta" sign --key plant.pem memo2.json >env2.json
"$veta" submit --server "$addr" env2.json | grep -q "recorded as entry" && pass || fail "memo2"
expect_fail "no checkpoint covers entry" "$veta" prove --server "$addr" \
  --authority data/authority.pub.pem --wait-ms 500 3
grep -q "did not cosign checkpoint" server.log && pass || fail "server logs the missing cosignatures"

# A backup restored against a witnessed checkpoint: cp.note (cosigned by 3) passes a 2-of-3
# policy; the ledger's newest checkpoint, signed by the operator alone, does not.
kill -TERM "$spid"
wait "$spid" 2>/dev/null || true
"$backup" create --data-dir data --backup-dir bk >/dev/null && pass || fail "backup create"
"$backup" restore --backup-dir bk --data-dir restored --checkpoint cp.note --log-key "$log_vkey" \
  --witness-policy policy.txt >restore.txt && grep -q "restored backup" restore.txt && pass ||
  fail "restore against a cosigned checkpoint: $(cat restore.txt)"
expect_fail "not witnessed as the policy asks" "$backup" restore --backup-dir bk \
  --data-dir restored2 --checkpoint data/latest-checkpoint --log-key "$log_vkey" \
  --witness-policy policy.txt
[[ ! -e restored2 ]] && pass || fail "a refused restore left restored2 behind"

echo "witness e2e: $checks checks passed"
