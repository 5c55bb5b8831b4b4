#!/usr/bin/env bash
# The browser's certificate verifier (web/src/verify, run under node) and the C++ one
# (`veta verify-certificate`) agree: on a real certificate of the demo's exported gold, and on
# tampered variants of it (a byte of the note or of the checkpoint, a proof hash, an entry's
# bytes, an entry left out, and shares, fine mg, departments and holder changed and re-signed
# with the authority's key, which only the replay of the lots' arithmetic can refuse), both
# give the same verdict, the expected one, for the same reason (the same English message).
# A wrong authority key is refused by both. The CLI's QR URL names the web app's note digest.
# Usage: cross_check_test.sh VETA VETA_SERVER VETA_DEMO DATA_DIR WEB_DIR
set -euo pipefail
veta=$1 server=$2 demo=$3 geodata=$4 web_dir=$5
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
need_node
start_server_with_demo
stop_server

pub=$work/data/authority.pub.pem
node "$web_dir/tests/tamper.mjs" "$work/certificate.json" "$work/data/authority-key.pem" "$work/v"
# verdict FILE KEY -> "ok" or "refused: <English reason>", for each verifier.
cpp() {
  if "$veta" verify-certificate --authority "$2" "$1" >"$work/out" 2>&1; then echo ok; return; fi
  echo "refused: $(sed -n 's/^.*NOT VERIFIED: //p' "$work/out" | head -1)"
}
ts() {
  local rc=0
  node "$web_dir/dist-node/verify.mjs" --authority "$2" "$1" >"$work/out" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] && { echo ok; return; }
  [[ $rc -eq 1 ]] || { cat "$work/out"; fail "verify.mjs failed to run on $1"; }
  echo "refused: $(sed -n 's/^  (\(.*\))$/\1/p' "$work/out" | head -1)"
}
n=0
while read -r name want; do
  a=$(cpp "$work/v/$name.json" "$pub")
  b=$(ts "$work/v/$name.json" "$pub")
  [[ "$a" == "$b" ]] || fail "$name: veta verify-certificate says '$a', the browser's verifier '$b'"
  [[ "${a%%:*}" == "$want" ]] || fail "$name: both say '$a', expected $want"
  echo "$name: $a"
  n=$((n + 1))
done <"$work/v/expected.txt"
[[ $n -ge 12 ]] || fail "only $n variants were checked"

# Another authority's key opens nothing.
openssl genpkey -algorithm ed25519 -out "$work/other.pem" 2>/dev/null
openssl pkey -in "$work/other.pem" -pubout -out "$work/other.pub.pem"
a=$(cpp "$work/v/genuine.json" "$work/other.pub.pem")
b=$(ts "$work/v/genuine.json" "$work/other.pub.pem")
[[ "$a" == refused:* && "$a" == "$b" ]] || fail "another key: '$a' / '$b'"
echo "another authority's key: $a"

# The QR code's URL that `veta certificate --web-url` prints names the note digest the web app
# computes (and looks certificates up by).
url=$(grep -o 'http://web.test/#/verificar?[^ ]*' "$work/certificate.txt" || true)
if [[ -n "$url" ]]; then
  node "$web_dir/dist-node/verify.mjs" --authority "$pub" "$work/v/genuine.json" >"$work/out"
  digest=$(sed -n 's/^  nota sha256 //p' "$work/out")
  [[ "$url" == *"&nota=$digest" ]] || fail "the CLI's QR URL $url does not name the web app's digest $digest"
  echo "QR URL: $url"
fi
echo "PASS: $n variants and a wrong key, same verdicts and reasons"
