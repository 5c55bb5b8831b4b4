#!/usr/bin/env bash
# End to end: the trader's desk (issue 12). After the demo's story on a real veta-server,
# `veta capacity` answers what a miner may still extract today, in Spanish by default and in
# English, as JSON whose `left` is capacity less what the rules counted, and the same answer
# over the HTTP JSON API (Connect) with curl.
# Usage: capacity_test.sh VETA VETA_SERVER VETA_DEMO DATA_DIR
set -euo pipefail
veta=$1 server=$2 demo=$3 geodata=$4
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; tail -n 20 server.log >&2 2>/dev/null || true; exit 1; }
"$veta" init --data-dir data --origin veta.test/capacity >/dev/null
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --http-listen 127.0.0.1:0 \
  --http-port-file http-port --checkpoint-interval-ms 20 2>>server.log &
pid=$!
for _ in $(seq 200); do [[ -s port && -s http-port ]] && break; sleep 0.05; done
[[ -s port && -s http-port ]] || fail "server did not start"
addr=127.0.0.1:$(cat port) http=127.0.0.1:$(cat http-port)
"$demo" --server "$addr" --authority-key data/authority-key.pem --geodata "$geodata" \
  --miners 12 --lots-file lots --out-dir story >demo.txt 2>&1 || { cat demo.txt; fail "demo"; }

# The demo's first miner, who extracted 1,200 kg today at its 25 t/day unit.
ruc=10400000005
env -u VETA_LANG -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 "$veta" capacity --server "$addr" "$ruc" \
  >es.txt || { cat es.txt; fail "veta capacity"; }
grep -q "minero" es.txt && grep -q "QUEDA 23800.000 kg" es.txt || { cat es.txt; fail "Spanish answer"; }
"$veta" capacity --server "$addr" --lang en "$ruc" >en.txt
grep -q "LEFT 23800.000 kg" en.txt && grep -q "accepts extractions" en.txt ||
  { cat en.txt; fail "English answer"; }
"$veta" capacity --server "$addr" --json "$ruc" >answer.json
python3 - answer.json <<'PY' || fail "JSON answer"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["kind"] == "miner" and a["active"], a
u = a["units"][0]["use"]
used = max(int(u["usedDeclaredOreG"]), int(u["usedSubmittedOreG"]))
assert a["unitsTruncated"] is False and "processing" not in a, a
assert int(u["leftOreG"]) == int(u["capacityOreG"]) - used > 0, u
PY
if "$veta" capacity --server "$addr" 20999999999 >out.txt 2>err.txt; then fail "an unknown RUC"; fi
grep -q "is no registered miner, party, selector or unit" err.txt || { cat err.txt; fail "unknown"; }
if "$veta" capacity --server "$addr" --day 2026-01-01 "$ruc" 2>err.txt; then fail "a bad day"; fi
grep -q "YYYYMMDD" err.txt || { cat err.txt; fail "bad day"; }

# The same over HTTP (the local operator: no TLS on loopback).
curl -s -o body.json -w '%{http_code}' -X POST -H "Content-Type: application/json" \
  --data-binary "{\"id\":\"$ruc\"}" "http://$http/veta.v1.Ledger/GetDailyCapacity" >status.txt
[[ $(cat status.txt) == 200 ]] || { cat body.json; fail "HTTP GetDailyCapacity"; }
python3 - body.json answer.json <<'PY' || fail "HTTP answer differs from gRPC's"
import json, sys
h, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# Both print every field, zeros included.
assert h["units"] == g["units"] and h["units"][0]["shared"] == [], (h, g)
PY
echo "capacity e2e: ok"
