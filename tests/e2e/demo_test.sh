#!/usr/bin/env bash
# End to end: the demo of the README's first command, against a real veta-server on a
# loopback port, with the repository's geodata. The story must play as the README says (rules
# version 3: a twin unit and cash above Ley 28194's threshold refused, cash split under it
# flagged, the flagged sale's washing by its parties refused, no certificate for its gold),
# play again without harm, and leave a ledger the audit finds clean.
# Usage: demo_test.sh VETA VETA_SERVER VETA_AUDIT VETA_DEMO DATA_DIR
set -euo pipefail
veta=$1 server=$2 audit=$3 demo=$4 geodata=$5
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; tail -n 20 server.log >&2 2>/dev/null || true; exit 1; }
"$veta" init --data-dir data --origin veta.test/demo >/dev/null
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 20 \
  2>>server.log &
pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
[[ -s port ]] || fail "server did not start"
addr=127.0.0.1:$(cat port)

play() {
  "$demo" --server "$addr" --authority-key data/authority-key.pem --geodata "$geodata" \
    --miners 12 --lots-file lots >"$1" 2>&1 || { cat "$1"; fail "the demo failed"; }
}
expect() {  # expect FILE "words"
  grep -qF -- "$2" "$1" || { cat "$1"; fail "'$2' not in the demo's output"; }
}
play first.txt
expect first.txt "parameters: rules version 3"
expect first.txt "REFUSED: [POINT_IN_PROHIBITED_ZONE]"
expect first.txt "REFUSED: [UNIT_CAPACITY_EXCEEDED]"
expect first.txt "REFUSED: [UNIT_OVERLAPS]"
expect first.txt "REFUSED: [EXTRACTOR_NOT_ACTIVE]"
expect first.txt "REFUSED: [CASH_ABOVE_BANKING_LIMIT]"
expect first.txt "RED FLAG CASH_STRUCTURING"
expect first.txt "REFUSED: [CORRECTION_NEEDS_REGISTRAR]"
expect first.txt "REFUSED: [MASS_BALANCE_EXCEEDED]"
expect first.txt "REFUSED: [LOT_EXPORTED]"
if grep -q "PRICE_OUT_OF_BAND\|! refused" first.txt; then
  cat first.txt
  fail "the demo's own prices or records were flagged or refused"
fi
exported=$(sed -n 1p lots) tainted=$(sed -n 2p lots)
"$veta" certificate --server "$addr" --out c.json "$exported" >/dev/null ||
  fail "no certificate for the exported gold $exported"
if "$veta" certificate --server "$addr" --out t.json "$tainted" >t.txt 2>&1; then
  fail "a certificate for the gold of the flagged sale $tainted"
fi
grep -q "CASH_STRUCTURING" t.txt || { cat t.txt; fail "the refusal does not name the flag"; }
# Safe to run again: the registry is unchanged, the story plays with new lots.
play second.txt
expect second.txt "RED FLAG CASH_STRUCTURING"
expect second.txt "REFUSED: [CORRECTION_NEEDS_REGISTRAR]"
kill -TERM "$pid"
wait "$pid" || true
pid=
"$audit" data >audit.txt 2>&1 || { cat audit.txt; fail "the audit of the demo's ledger failed"; }
[[ -n "${VETA_DEMO_SHOW:-}" ]] && cat first.txt
echo "demo end to end: ok"
