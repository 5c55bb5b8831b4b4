#!/usr/bin/env bash
# End to end, as a newcomer: the README's "From an empty ledger" tour run line for line (the
# block between its tour markers), then the onboarding verbs (rotate-key, suspend, reinstate,
# registrar), the settings' precedence (flag > environment > config file > default) and what
# `veta sign --help` and `veta import --help` promise.
# Usage: onboarding_test.sh VETA VETA_SERVER README.md [VETA_LOAD]
set -euo pipefail
export VETA_LANG=en  # the CLI's English output is checked below (Spanish: a C locale's default)
v=$1 s=$2 readme=$3 load=${4:-}
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
unset VETA_SERVER VETA_KEY VETA_TLS_CA VETA_TLS_CERT VETA_TLS_KEY VETA_WEB_URL
export VETA_CONFIG=$work/no-such-config  # no user's config file leaks in
checks=0
pass() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; [[ -f out.txt ]] && cat out.txt err.txt >&2; tail -n 20 server.log >&2 || true; exit 1; }
ok() {  # ok "words in output" cmd...
  local words=$1; shift
  "$@" >out.txt 2>err.txt || fail "exit $? from: $*"
  grep -q -- "$words" out.txt err.txt || fail "'$words' not in output of: $*"
  pass
}
refused() {  # refused "words in output" cmd...
  local words=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "should have failed: $*"; fi
  grep -q -- "$words" out.txt err.txt || fail "'$words' not in output of: $*"
  pass
}
size() { "$v" checkpoint --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p'; }

# The README's tour, exactly: the lines between its markers, in this shell (its server is the
# last background job).
sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$readme" | sed '1,2d;$d' | sed '$d' >tour.sh
grep -q 'registrar add DGFM' tour.sh || fail "no tour in $readme"
source tour.sh >tour.out 2>&1 || { cat tour.out; fail "the README tour failed"; }
pid=$!
disown "$pid"  # no "Killed" notice at exit
grep -q "registrar DGFM registered (entry 1)" tour.out && pass || fail "registrar add in the tour"
grep -q "extraction.env.json: recorded as entry" tour.out && pass || fail "extraction in the tour"
grep -q "sale.env.json: recorded as entry" tour.out && pass || fail "sale in the tour"
grep -q '"remainingOreG":"500000"' tour.out && pass || { cat tour.out; fail "lot after the tour"; }
miner=10456789019 plant=20612345679

# The plant turns the ore it bought into gold; its certificate's QR code holds the URL of the
# web app's "Verificar oro" page: the lot and the SHA-256 of the certificate's note.
echo "{\"plantRuc\":\"$plant\",\"inputs\":[{\"lotId\":\"P-1\",\"oreKg\":1000}],\"outputs\":[{\"lotId\":\"AU:1/2026#3\",\"goldG\":8,\"fineness\":900}],\"time\":\"$(date -u +%FT%TZ)\"}" >proc.json
"$v" sign --type processing --key planta.pem proc.json >proc.env.json
ok "recorded as entry" "$v" submit proc.env.json
ok "saved to cert.json" "$v" certificate "AU:1/2026#3" --out cert.json --qr --qr-svg qr.svg --web-url http://oro.example/app/
grep '^http' out.txt >url.txt
python3 - cert.json url.txt <<'PY' || fail "the QR's URL"
import hashlib, json, sys, urllib.parse
cert = json.load(open(sys.argv[1]))
url = open(sys.argv[2]).read().strip()
base, _, fragment = url.partition('#')
assert base == 'http://oro.example/app/', url
path, _, query = fragment.partition('?')
assert path == '/verificar', url
q = urllib.parse.parse_qs(query)
assert q['lote'] == ['AU:1/2026#3'], q
assert 'lote=AU%3A1%2F2026%233&' in query, query  # percent-encoded
assert q['nota'] == [hashlib.sha256(cert['note'].encode('utf-8')).hexdigest()], q
PY
pass
grep -q '<svg' qr.svg && grep -q 'h1v1h-1z' qr.svg && pass || fail "qr.svg"
# The drawings decode to the URL (zbarimg, when installed: tools/install-deps.sh --tests).
qr2pbm=$(dirname "$readme")/tests/e2e/qr2pbm.py
python3 "$qr2pbm" terminal out.txt term.pbm && python3 "$qr2pbm" svg qr.svg svg.pbm && pass ||
  fail "the QR drawings are not square grids of modules"
if command -v zbarimg >/dev/null; then
  for img in term.pbm svg.pbm; do
    [[ "$(zbarimg -q --raw "$img" 2>/dev/null)" == "$(cat url.txt)" ]] && pass || fail "$img does not decode to the URL"
  done
fi
# The base URL from the settings when --web-url is not given.
VETA_WEB_URL=https://oro.example.pe ok "^https://oro.example.pe/#/verificar?lote=AU%3A1%2F2026%233&nota=" \
  "$v" certificate "AU:1/2026#3" --out cert2.json --qr
refused "need --out FILE" "$v" certificate "AU:1/2026#3" --out - --qr

# Rotate a miner's key (signed by the registrar, VETA_KEY from the tour): the old key signs
# nothing from then on, the new one does.
"$v" keygen --out juana2 >/dev/null
ok "miner $miner now has key" "$v" rotate-key miner $miner --new-key juana2.pub.pem
extraction() {
  echo "{\"lotId\":\"$1\",\"extractorId\":\"$miner\",\"unitCode\":\"CM-0042\",\"point\":{\"longitude\":-70.59,\"latitude\":-13.04},\"time\":\"$(date -u +%FT%TZ)\",\"oreKg\":10,\"gradeGPerT\":8.5}" >"$1.json"
  "$v" sign --type extraction --key "$2" "$1.json" >"$1.env.json"
}
extraction LOT-OLD juana.pem
refused "KEY_NOT_IN_FORCE" "$v" submit LOT-OLD.env.json
extraction LOT-NEW juana2.pem
ok "recorded as entry" "$v" submit LOT-NEW.env.json
"$v" keygen --out juana3 >/dev/null
"$v" record miner $miner | grep -q "$(sed -n 's/.*"keyid": *"\([0-9a-f]*\)".*/\1/p' juana2.pubkey.json)" &&
  pass || fail "the record lists the new key"
ok "\"code\":0" "$v" rotate-key miner $miner --new-key juana3.pub.pem --keep-old --json
refused "already lists key" "$v" rotate-key miner $miner --new-key juana3.pub.pem

# Suspend and reinstate a party: suspended, the plant cannot buy (the pre-purchase check says
# so); reinstated, it can. A sale is judged as of its time: each is dated after the change it
# tests (a second later: times are whole seconds).
sale() {  # sale FILE: a purchase by the plant, dated now, signed by it
  sleep 1.1
  echo "{\"lotId\":\"LOT-NEW\",\"sellerId\":\"$miner\",\"buyerRuc\":\"$plant\",\"buyerLotId\":\"P-2\",\"quantityKg\":5,\"pricePen\":100,\"payment\":\"BANK_TRANSFER\",\"time\":\"$(date -u +%FT%TZ)\"}" >"$1.json"
  "$v" sign --type sale --key planta.pem "$1.json" >"$1.env.json"
}
sale before
ok "would be accepted now" "$v" check before.env.json
refused "--reason is required" "$v" suspend party $plant
ok "party $plant is SUSPENDIDO" "$v" suspend party $plant --reason "RUC no habido"
"$v" record party $plant | grep -q '"status":"SUSPENDIDO"' && pass || fail "record shows SUSPENDIDO"
sale during
refused "would be REFUSED" "$v" check during.env.json
ok "party $plant is VIGENTE again" "$v" reinstate party $plant
sale after
ok "would be accepted now" "$v" check after.env.json

# The authority's verbs on a registrar; a registrar's key signs no registrar, and a suspended
# registrar signs no records. Refusals change nothing.
last=$("$v" record party $plant | tr -d ' \n' | sed -n 's/.*"sequence":"\([0-9]*\)".*/\1/p')
"$v" prove --authority ledger/authority.pub.pem "$last" >/dev/null || fail "prove $last"
before=$(size)  # a checkpoint covering every entry so far (prove waits for one)
refused "NOT_A_REGISTRAR" "$v" registrar add ROGUE --name Rogue --public-key juana3.pub.pem
refused "is not registered" "$v" rotate-key party 20000000000 --new-key juana3.pub.pem
refused "records list no keys" "$v" rotate-key unit CM-0042 --new-key juana3.pub.pem
refused "--name and --public-key are required" "$v" registrar add X --key ledger/authority-key.pem
"$v" prove --authority ledger/authority.pub.pem "$last" >/dev/null || fail "prove $last"
[[ "$(size)" == "$before" ]] && pass || fail "refusals moved the tree from $before to $(size)"
ok "registrar DGFM is already registered as it is" "$v" registrar add DGFM \
  --name "Direccion General de Formalizacion Minera" --public-key dgfm.pub.pem --key ledger/authority-key.pem
ok "registrar DGFM is SUSPENDIDO" "$v" registrar suspend DGFM --key ledger/authority-key.pem
refused "REFUSED" "$v" suspend miner $miner --reason "test"
ok "registrar DGFM is VIGENTE again" "$v" registrar reinstate DGFM --key ledger/authority-key.pem
"$v" keygen --out dgfm2 >/dev/null
ok "registrar DGFM now has key" "$v" registrar rotate-key DGFM --new-key dgfm2.pub.pem --key ledger/authority-key.pem
refused "REFUSED" "$v" suspend miner $miner --reason "old key"
ok "miner $miner is SUSPENDIDO" "$v" suspend miner $miner --reason "IGAFOM vencido" --key dgfm2.pem
ok "Usage: veta registrar add|rotate-key|suspend|reinstate" "$v" registrar --help

# A regulator's key (a key registration, no record): the authority registers a new one and
# revokes the old; the old one signs nothing from then on.
"$v" keygen --out sunat >/dev/null
"$v" keygen --out sunat2 >/dev/null
sed 's/"holder": *"[^"]*"/"holder":"SUNAT analista"/' sunat.registration.json >sunat.reg.json
"$v" sign --type key-registration --key ledger/authority-key.pem sunat.reg.json >sunat.env.json
ok "recorded as entry" "$v" submit sunat.env.json
ok "revoked (entry" "$v" rotate-key holder "SUNAT analista" --new-key sunat2.pub.pem \
  --drop-key sunat.pub.pem --key ledger/authority-key.pem
grep -q "registered (entry" out.txt && pass || fail "the new key is registered first"
echo '{"text":"revisado","nonce":"1"}' >memo.json
"$v" sign --key sunat.pem memo.json >memo.old.json
refused "KEY_NOT_IN_FORCE" "$v" submit memo.old.json
"$v" sign --key sunat2.pem memo.json >memo.new.json
ok "recorded as entry" "$v" submit memo.new.json
"$v" keygen --out sunat3 >/dev/null
refused "must be signed by an authority key" "$v" rotate-key holder "SUNAT analista" --new-key sunat3.pub.pem --key dgfm2.pem

# Settings: flag > environment > config file > default, and `veta config` says which.
addr=$VETA_SERVER
unset VETA_SERVER VETA_KEY
mkdir conf
printf '# settings\nserver = 127.0.0.1:1\nkey = ../dgfm2.pem\nweb_url = "https://oro.example.pe"\n' >conf/config
config() { "$v" config --json "$@" >cfg.json; }
py() { python3 -c "import json,sys; c=json.load(open('cfg.json')); $1" || { cat cfg.json; fail "$1"; }; pass; }
VETA_CONFIG=conf/config config
py "assert c['server'] == {'value': '127.0.0.1:1', 'source': 'config conf/config:2'}, c"
py "assert c['key']['value'] == 'conf/../dgfm2.pem', c"  # relative to the config file's folder
py "assert c['web_url']['value'] == 'https://oro.example.pe', c"
VETA_CONFIG=conf/config VETA_SERVER=127.0.0.1:2 config
py "assert c['server'] == {'value': '127.0.0.1:2', 'source': 'environment VETA_SERVER'}, c"
VETA_CONFIG=conf/config VETA_SERVER=127.0.0.1:2 config --server 127.0.0.1:3
py "assert c['server'] == {'value': '127.0.0.1:3', 'source': 'flag --server'}, c"
config
py "assert c['server'] == {'value': '127.0.0.1:7480', 'source': 'default'}, c"
py "assert c['web_url'] == {'value': 'http://127.0.0.1:7488', 'source': 'default'}, c"
VETA_CONFIG=conf/config VETA_TLS_CA=ca.pem config
py "assert c['tls_ca'] == {'value': 'ca.pem', 'source': 'environment VETA_TLS_CA'}, c"
# Commands really use it: the server and the signing key from the file alone.
printf 'server = %s\nkey = ../dgfm2.pem\n' "$addr" >conf/config
VETA_CONFIG=conf/config ok "miner $miner is VIGENTE again" "$v" reinstate miner $miner
VETA_CONFIG=conf/config ok "treeSize" "$v" checkpoint --json
# The tools take the same settings (one AddConnectionFlags for all).
if [[ -n "$load" ]]; then
  VETA_CONFIG=conf/config ok "(default: $addr)" "$load" --help
fi
printf 'server = %s\nsrever = x\n' "$addr" >conf/bad
if VETA_CONFIG=conf/bad "$v" checkpoint >out.txt 2>err.txt; then fail "a bad config file was taken"; fi
grep -q "conf/bad:2: unknown key 'srever'" err.txt && pass || fail "bad config message"
printf 'server = a\nserver = b\n' >conf/bad
VETA_CONFIG=conf/bad refused "conf/bad:2: 'server' is already set on line 1" "$v" config
printf 'server\n' >conf/bad
VETA_CONFIG=conf/bad refused "conf/bad:1: expected \`key = value\`" "$v" submit x.json
export VETA_SERVER=$addr

# `veta sign --help` lists every payload type, and each one listed signs.
"$v" sign --help | sed -n '/^Payload types/,/^$/p' | sed '1d;/^$/d' | awk '{print $1}' >types.txt
[[ $(wc -l <types.txt) -ge 10 ]] && pass || { cat types.txt; fail "sign --help lists too few types"; }
echo '{}' >empty.json
while read -r t; do
  "$v" sign --type "$t" --key juana2.pem empty.json >/dev/null 2>err.txt || { cat err.txt; fail "sign --type $t"; }
  pass
done <types.txt
refused "use one of registry, extraction" "$v" sign --type bogus --key juana2.pem empty.json

# `veta import --help` documents the columns, Veta's and the published lists'.
ok "concession_code: " "$v" import --help
grep -q "codigo_unico" out.txt && grep -q "processing_capacity_tpd" out.txt && pass || fail "import --help columns"

echo "onboarding: $checks checks passed"
