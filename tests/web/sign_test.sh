#!/usr/bin/env bash
# The browser's signing code (web/src/sign: PKCS#8 PEM imported into WebCrypto as a
# non-extractable key, DSSE PAE, envelope JSON), run under node's WebCrypto, against the C++:
# an Ed25519 envelope is byte for byte what `veta sign` writes (Ed25519 is deterministic) and
# a real veta-server accepts it; an ECDSA P-256 key (DER signatures converted from WebCrypto's
# r||s) registered by an authority-signed key registration, both signed in TypeScript, are
# accepted; a signature added to an envelope as `veta sign --add-to` does, byte for byte; an
# envelope with one byte of its signature changed is refused.
# Usage: sign_test.sh VETA VETA_SERVER WEB_DIR
set -euo pipefail
veta=$1 server=$2 web_dir=$3
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || skip "node is not installed (tools/install-deps.sh installs it)"
[[ -f "$web_dir/dist-node/sign.mjs" ]] || fail "the web app is not built: run tools/build-web.sh"
cd "$work"
"$veta" init --data-dir data --origin veta.test/sign >/dev/null
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port 2>>server.log &
server_pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
[[ -s port ]] || fail "veta-server did not start"
addr=127.0.0.1:$(cat port)
sign() { node "$web_dir/dist-node/sign.mjs" "$@"; }

echo '{"subject":"web","text":"firmado en el navegador","nonce":"7"}' >memo.json
sign --key data/authority-key.pem --type memo memo.json >ts.json
"$veta" sign --key data/authority-key.pem memo.json >cpp.json
cmp -s ts.json cpp.json || { cat ts.json cpp.json; fail "the Ed25519 envelope differs from veta sign's"; }
"$veta" submit --server "$addr" ts.json >out.txt 2>&1 || { cat out.txt; fail "the server refused the TS-signed memo"; }
echo "Ed25519: same bytes as veta sign, accepted: $(head -1 out.txt)"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
spki=$(openssl pkey -in ec.pem -pubout -outform DER | base64 -w0)
keyid=$(openssl pkey -in ec.pem -pubout -outform DER | sha256sum | cut -d' ' -f1)
cat >reg.json <<JSON
{"key":{"keyid":"$keyid","algorithm":"KEY_ALGORITHM_ECDSA_P256_SHA256","spkiDer":"$spki"},"holder":"web test"}
JSON
sign --key data/authority-key.pem --type key-registration reg.json >reg.env.json
"$veta" submit --server "$addr" reg.env.json >out.txt 2>&1 || { cat out.txt; fail "key registration refused"; }
echo '{"subject":"web","text":"ECDSA desde WebCrypto","nonce":"8"}' >memo2.json
sign --key ec.pem --type memo memo2.json >ec.env.json
grep -q "\"keyid\":\"$keyid\"" ec.env.json || fail "the TS key id is not SHA-256 of the SPKI"
"$veta" submit --server "$addr" ec.env.json >out.txt 2>&1 || { cat out.txt; fail "the ECDSA-signed memo was refused"; }
echo "ECDSA P-256: key id $keyid, accepted: $(head -1 out.txt)"

# A second signature added to an envelope (a sale's buyer after its seller): the same bytes as
# `veta sign --add-to`; and a key that signed already is not added twice.
"$veta" keygen --out second >/dev/null
"$veta" sign --key second.pem --add-to ts.json >two.cpp.json
sign --key second.pem --add-to ts.json >two.ts.json
cmp -s two.cpp.json two.ts.json || { cat two.cpp.json two.ts.json; fail "--add-to differs from veta sign's"; }
sign --key second.pem --add-to two.ts.json >three.ts.json
cmp -s two.ts.json three.ts.json || fail "a key that signed already was added again"
echo "a second signature added: same bytes as veta sign --add-to"

# One byte of the signature changed: refused.
echo '{"subject":"web","text":"alterado","nonce":"9"}' >memo3.json
sign --key data/authority-key.pem --type memo memo3.json >bad.json
node -e '
const fs = require("fs"); const e = JSON.parse(fs.readFileSync("bad.json"));
const s = Buffer.from(e.signatures[0].sig, "base64"); s[10] ^= 1;
e.signatures[0].sig = s.toString("base64"); fs.writeFileSync("bad.json", JSON.stringify(e));'
if "$veta" submit --server "$addr" bad.json >out.txt 2>&1; then fail "a changed signature was accepted"; fi
echo "changed signature: $(head -1 out.txt)"
echo PASS
