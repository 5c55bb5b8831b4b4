#!/usr/bin/env bash
# End to end: the real veta-server on a loopback port, driven only through the veta CLI.
# Usage: cli_test.sh VETA VETA_SERVER VETA_AUDIT VETA_LOAD [GO_VERIFIER]
set -euo pipefail
export VETA_LANG=en  # the CLI's English output is checked below (Spanish: a C locale's default)
veta=$1 server=$2 audit=$3 load=$4 goverify=${5:-}
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
# On failure, also say whether the server was still running and what it logged: a call that
# "cannot reach" a live server is the client's doing.
server_state() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    echo "server (pid $pid) still running; its log:" >&2
  else
    echo "server not running; its log:" >&2
  fi
  tail -n 20 server.log >&2 2>/dev/null || true
}
fail() { echo "FAIL: $*" >&2; server_state; exit 1; }
expect_fail() {  # expect_fail "words in stderr" cmd...
  local words=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "should have failed: $*"; fi
  grep -q -- "$words" out.txt err.txt || { cat out.txt err.txt; fail "'$words' not in output of: $*"; }
  pass
}
start() {
  rm -f port
  "$server" --data-dir data --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 20 2>>server.log &
  pid=$!
  for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
  [[ -s port ]] || { cat server.log; fail "server did not start"; }
  addr=127.0.0.1:$(cat port)
}

"$veta" --help | grep -q "prove" && pass || fail "check at line $LINENO"
"$veta" init --data-dir data --origin veta.test/e2e >init.txt && pass || fail "check at line $LINENO"
expect_fail "already exists" "$veta" init --data-dir data
expect_fail "unknown option --bogus" "$veta" get --bogus 1
start

# Keys, registration by the authority, a memo.
"$veta" keygen --out plant --algorithm ecdsa-p256 >/dev/null && pass || fail "check at line $LINENO"
"$veta" keygen --out stranger >/dev/null
"$veta" sign --type key-registration --key data/authority-key.pem plant.registration.json >reg.json
"$veta" submit --server "$addr" reg.json | grep -q "recorded as entry 1" && pass || fail "check at line $LINENO"
echo '{"subject":"lote 7","text":"recibido 800 kg de mineral","nonce":"7"}' >memo.json
"$veta" sign --key plant.pem memo.json >env.json
"$veta" submit --server "$addr" --json env.json >answer.json
grep -q '"code":0' answer.json && grep -q '"sequence":2' answer.json && pass || fail "check at line $LINENO"

# Bad input: a precise refusal, and nothing changes. (First wait until a checkpoint covers
# entry 2, so that the size read below is not a checkpoint still catching up.)
"$veta" prove --server "$addr" --authority data/authority.pub.pem 2 >/dev/null || fail "prove 2"
size_before=$("$veta" checkpoint --server "$addr" --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p')
expect_fail "ALREADY_EXISTS" "$veta" submit --server "$addr" env.json
# --json: one parseable object per envelope, the refusal code in its own member (the server
# sends it as trailing metadata; nobody parses "[CODE]" out of the message).
"$veta" submit --server "$addr" --json env.json >replayed.json || true
python3 -c 'import json; a = json.load(open("replayed.json")); assert a["refusal"] == "ENVELOPE_REPLAYED" and a["code"] == 6 and "already recorded" in a["message"], a' &&
  pass || { cat replayed.json; fail "submit --json of a refusal"; }
# The server from the environment (VETA_SERVER), as every command and tool takes it.
VETA_SERVER="$addr" "$veta" checkpoint --json | grep -q treeSize && pass || fail "VETA_SERVER"
"$veta" sign --key stranger.pem memo.json >stranger.json
expect_fail "is not registered" "$veta" submit --server "$addr" stranger.json
sed 's/"sig":"\(.\)/"sig":"A\1/' env.json | sed 's/"sig":"A\(.\)\(.\)/"sig":"\2\1/' >tampered.json
expect_fail "refused" "$veta" submit --server "$addr" tampered.json
echo '{"subject":"x","bogusField":1}' >bad.json
expect_fail "bogusField" "$veta" sign --key plant.pem bad.json
expect_fail "does not exist" "$veta" get --server "$addr" 99
sleep 0.1
size_after=$("$veta" checkpoint --server "$addr" --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p')
[[ "$size_before" == "$size_after" ]] && pass || fail "tree moved from $size_before to $size_after"

# Several envelopes by one stream, answered in order.
for i in 1 2 3; do
  echo "{\"text\":\"stream $i\",\"nonce\":\"$i\"}" >s$i.json
  "$veta" sign --key plant.pem s$i.json >se$i.json
done
"$veta" submit --server "$addr" se1.json se2.json se3.json env.json >stream.txt 2>&1 || true
sed -n 1p stream.txt | grep -q "se1.json: recorded as entry 3" && sed -n 3p stream.txt |
  grep -q "se3.json: recorded as entry 5" && grep -q "env.json: refused (ALREADY_EXISTS)" stream.txt &&
  pass || { cat stream.txt; fail "stream answers"; }

# Get, prove, verify offline; a one-byte change fails verification.
"$veta" get --server "$addr" 2 | grep -q '"text":"recibido 800 kg de mineral"' && pass || fail "check at line $LINENO"
"$veta" prove --server "$addr" --authority data/authority.pub.pem --out proof.json 2 | grep -q "verified" && pass || fail "check at line $LINENO"
"$veta" verify --authority data/authority.pub.pem proof.json | grep -q "^verified: entry 2" && pass || fail "check at line $LINENO"
"$veta" verify --lang es --authority data/authority.pub.pem proof.json | grep -q "^verificado: la entrada 2 está en el registro" && pass || fail "check at line $LINENO"
"$veta" verify --json --authority data/authority.pub.pem proof.json | grep -q '^{"verified":true' && pass || fail "check at line $LINENO"
"$veta" prove --json --server "$addr" --authority data/authority.pub.pem 2 | grep -q '"sequence":2' && pass || fail "check at line $LINENO"
sed 's/"leafIndex":"2"/"leafIndex":"1"/' proof.json >proof_bad.json
expect_fail "FAILED" "$veta" verify --authority data/authority.pub.pem proof_bad.json
expect_fail "FAILED" "$veta" verify --authority stranger.pub.pem proof.json
"$veta" checkpoint --server "$addr" --authority data/authority.pub.pem --out cp.note | grep -q "signature verified" && pass || fail "check at line $LINENO"

# The Go reference verifier (golang.org/x/mod/sumdb/note) accepts the server's checkpoint.
if [[ -n "$goverify" ]]; then
  vkey=$(sed -n 's/.*checkpoint verifier key: //p' init.txt)
  "$goverify" checkpoint "$vkey" cp.note >/dev/null && pass || fail "check at line $LINENO"
fi

# Graceful stop, audit, restart with the same head.
root_before=$("$veta" checkpoint --server "$addr" --json | sed -n 's/.*"rootHash":"\([^"]*\)".*/\1/p')
kill -TERM "$pid"; wait "$pid"; pid=
grep -q "stopped cleanly" server.log && pass || fail "check at line $LINENO"
"$audit" data | grep -q "^clean: veta.test/e2e, 6 entries" && pass || fail "check at line $LINENO"
start
root_after=$("$veta" checkpoint --server "$addr" --json | sed -n 's/.*"rootHash":"\([^"]*\)".*/\1/p')
[[ "$root_before" == "$root_after" ]] && pass || fail "root changed across restart"
kill -TERM "$pid"; wait "$pid"; pid=

# TLS: the server presents a certificate; a caller is known by its client certificate's key.
"$veta" keygen --out server >/dev/null
"$veta" certgen --key server.pem --out server.crt --alt-name 127.0.0.1 --alt-name localhost >/dev/null && pass
"$veta" keygen --out sunat >/dev/null
sed 's/"holder":"sunat"/"holder":"regulator:SUNAT"/' sunat.registration.json >sunat.reg.json
"$veta" sign --type key-registration --key data/authority-key.pem sunat.reg.json >sunat.env.json
"$veta" certgen --key sunat.pem --out sunat.crt >/dev/null
# A registrar, who may submit over TLS (the tools' test below).
"$veta" keygen --out dgfm >/dev/null
echo "{\"registrar\":{\"registrarId\":\"DGFM\",\"name\":\"DGFM\",\"status\":\"VIGENTE\",\"keys\":[$(cat dgfm.pubkey.json)]}}" >registrar.json
"$veta" sign --type registry --key data/authority-key.pem registrar.json >registrar.env.json
"$veta" certgen --key dgfm.pem --out dgfm.crt >/dev/null
rm -f port
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --tls-cert server.crt --tls-key server.pem 2>>server.log &
pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
tls="--server localhost:$(cat port)"
expect_fail "UNAUTHENTICATED\|client certificate" env VETA_TLS_CA=server.crt "$veta" submit $tls sunat.env.json
kill -TERM "$pid"; wait "$pid"; pid=
start  # plain loopback: the local operator registers the regulator's key
"$veta" submit --server "$addr" sunat.env.json >/dev/null && pass || fail "register the regulator"
"$veta" submit --server "$addr" registrar.env.json >/dev/null && pass || fail "register the registrar"
kill -TERM "$pid"; wait "$pid"; pid=
rm -f port
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --tls-cert server.crt --tls-key server.pem 2>>server.log &
pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
tls="--server localhost:$(cat port)"
VETA_TLS_CA=server.crt "$veta" checkpoint $tls --authority data/authority.pub.pem | grep -q "signature verified" &&
  pass || fail "public checkpoint over TLS"
expect_fail "ListEntries needs a client certificate" env VETA_TLS_CA=server.crt "$veta" list $tls
VETA_TLS_CA=server.crt VETA_TLS_CERT=sunat.crt VETA_TLS_KEY=sunat.pem "$veta" list $tls --limit 2 |
  grep -q '"sequence":1' && pass || fail "the regulator lists entries over TLS"
# The same connection flags as the CLI's: --tls-ca, --tls-cert, --tls-key.
"$veta" list $tls --tls-ca server.crt --tls-cert sunat.crt --tls-key sunat.pem --limit 2 |
  grep -q '"sequence":1' && pass || fail "the regulator lists entries over TLS, by flags"
expect_fail "go together" "$veta" list $tls --tls-ca server.crt --tls-cert sunat.crt
# The tools connect as the CLI does: veta-load over mutual TLS as the registrar (who may
# submit: its key registrations and memos are recorded), refused without a client certificate.
# With --server-pid: the server's CPU per entry, also in verifications, for each run.
"$load" $tls --tls-ca server.crt --tls-cert dgfm.crt --tls-key dgfm.pem --server-pid "$pid" \
  --authority-key data/authority-key.pem --entries 20 --keys 2 --clients 1 --mode both >load.txt 2>&1 &&
  grep -q "^stream *20 committed" load.txt && grep -q "^unary *20 committed" load.txt &&
  pass || { cat load.txt; fail "veta-load over mutual TLS"; }
for run in stream unary; do
  awk -v run="$run" '$1 == run && $2 == "server" && $3 == "CPU" && $4 > 0 && $9 > 0 && $10 == "verifications" {ok = 1}
    END {exit !ok}' load.txt && pass || { cat load.txt; fail "veta-load: the server's CPU per entry ($run)"; }
done
expect_fail "Submit needs a client certificate" "$load" $tls --tls-ca server.crt \
  --authority-key data/authority-key.pem --entries 2 --keys 1 --clients 1
expect_fail "a client certificate needs TLS" "$load" $tls --tls-cert dgfm.crt --tls-key dgfm.pem \
  --authority-key data/authority-key.pem
expect_fail "refusing to listen on 0.0.0.0" "$server" --data-dir data --listen 0.0.0.0:0
kill -TERM "$pid"; wait "$pid"; pid=

echo "cli e2e: $checks checks passed"
