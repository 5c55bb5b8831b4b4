#!/usr/bin/env bash
# "Verificar oro" in a real browser: Debian's chromium, headless, driven by playwright-core
# (web/tests/browser/verificar.mjs) against a real veta-server on loopback ports with the
# demo's story in it, and the certificate of its exported gold: it verifies, its QR link
# verifies again, tampered ones are refused with their step and reason, the map draws the
# 25 departments and one mark per unit; "Firmar" (firmar.mjs: sign-in, Check, Submit),
# "Mesa del comprador" (mesa.mjs), "Consola del regulador" (regulador.mjs), and the role
# matrix over TLS (roles.mjs: the public refused, the signed-in regulator reads), and the
# parties' desks over TLS with the demo's keys (partes.mjs: the trader's lots and attempts and
# its refusals, the plant's processing with its mass balance, the exporter's certificate), and a
# purchase signed by both parties in the browser and recorded (compra.mjs). The app is
# served by veta-server --web-dir when the server has it (the pages after Verificar oro need
# its Connect API), else by the test itself on a loopback port.
# VETA_SCREENSHOTS=DIR keeps the pages' screenshots there (docs/screenshots/ holds them).
# Usage: browser_test.sh VETA VETA_SERVER VETA_DEMO DATA_DIR WEB_DIR
set -euo pipefail
veta=$1 server=$2 demo=$3 geodata=$4 web_dir=$5
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
need_node
chromium=${VETA_CHROMIUM:-/usr/bin/chromium}
[[ -x "$chromium" ]] || skip "no chromium at $chromium (tools/install-deps.sh --tests installs Debian's)"
start_server_with_demo
node "$web_dir/tests/tamper.mjs" "$work/certificate.json" "$work/data/authority-key.pem" "$work/v"
where=(--dist "$web_dir/dist")
[[ "$web_dir_served" -gt 0 ]] && where=(--url "http://127.0.0.1:$http_port/")
shots=()
[[ -n "${VETA_SCREENSHOTS:-}" ]] && shots=(--screenshots "$VETA_SCREENSHOTS")
VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/verificar.mjs" "${where[@]}" \
  --cert "$work/certificate.json" --key "$work/data/authority.pub.pem" --tampered "$work/v" \
  --keyid "$(openssl pkey -pubin -in "$work/data/authority.pub.pem" -outform DER | sha256sum | cut -c1-64)" \
  "${shots[@]}"

# "Firmar": the authority's key imported in the page; its memo equals veta sign's and the
# server accepts it.
echo "{\"subject\":\"web\",\"text\":\"firmado en chromium\",\"nonce\":\"$RANDOM$RANDOM\"}" >"$work/memo.json"
"$veta" sign --key "$work/data/authority-key.pem" "$work/memo.json" >"$work/memo.cpp.json"
VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/firmar.mjs" "${where[@]}" \
  --key "$work/data/authority-key.pem" --memo "$work/memo.json" --expected "$work/memo.cpp.json" \
  --out "$work/memo.web.json" "${shots[@]}" \
  $([[ -f "$web_dir/dist/explain.json" ]] && echo --explained 1)
if [[ "$web_dir_served" -gt 0 ]]; then
  # The page submitted it: the same envelope again is a replay.
  if "$veta" submit --server "$addr" "$work/memo.web.json" >"$work/submit.txt" 2>&1; then
    fail "the memo submitted from the page was not recorded (accepted again)"
  fi
  echo "the page's memo is in the ledger: $(cat "$work/submit.txt")"
else
  "$veta" submit --server "$addr" "$work/memo.web.json" >"$work/submit.txt" 2>&1 ||
    { cat "$work/submit.txt"; fail "the server refused the envelope signed in chromium"; }
  echo "signed in chromium: $(cat "$work/submit.txt")"
fi

# "Mesa del comprador" (needs the Connect API: veta-server --web-dir): the certificate's holder
# looked up by RUC, and a purchase drafted for signing.
if [[ "$web_dir_served" -gt 0 ]]; then
  holder=$(sed -n 's/.*\\nholder \([0-9]*\)\\n.*/\1/p' "$work/certificate.json" | head -1)
  [[ -n "$holder" ]] || fail "no holder in the certificate"
  miner=$("$veta" records unit --server "$addr" --limit 1 | sed -n 's/.*"holderRuc":"\([0-9]*\)".*/\1/p')
  [[ -n "$miner" ]] || fail "no unit's holder in the registry"
  VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/mesa.mjs" --url "http://127.0.0.1:$http_port/" \
    --ruc "$holder" --miner "$miner" "${shots[@]}"
fi

# "Consola del regulador": the map of every unit, zone and scar; attempts; the exported lot's
# lineage (the local operator, on loopback without TLS, reads everything).
if [[ "$web_dir_served" -gt 0 ]]; then
  units=$("$veta" records unit --server "$addr" --limit 1000 | wc -l)
  excluded=$("$veta" records miner --server "$addr" --status EXCLUIDO --limit 1 |
    sed -n 's/.*"ruc":"\([0-9]*\)".*/\1/p')
  VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/regulador.mjs" --url "http://127.0.0.1:$http_port/" \
    --lot "$exported" --units "$units" ${excluded:+--excluded "$excluded"} "${shots[@]}"
fi

# The parties' desks (below, over TLS) need an ore lot the plant holds: the demo's trader sells
# it 250 kg of the ore it bought in cash (lot ...-C-T1), signed with the demo's keys.
if [[ "$web_dir_served" -gt 0 ]]; then
  key_of() { ls "$work/demo/llaves/$1"?.pem 2>/dev/null | head -1; }
  plant_key=$(key_of 2060000017) trader_key=$(key_of 2060000025) exporter_key=$(key_of 2060000033)
  [[ -n "$plant_key" && -n "$trader_key" && -n "$exporter_key" ]] ||
    fail "veta-demo --out-dir left no keys in $work/demo/llaves"
  plant_ruc=$(basename "$plant_key" .pem) trader_ruc=$(basename "$trader_key" .pem)
  lot_c=$(sed -n 2p "$work/lots") lot_c=${lot_c%-AU}
  cat >"$work/sale-to-plant.json" <<EOF
{"lotId": "$lot_c-T1", "sellerId": "$trader_ruc", "buyerRuc": "$plant_ruc", "buyerLotId": "$lot_c-P2",
 "quantityKg": 250, "pricePen": "1000.00", "payment": "BANK_TRANSFER", "paymentReference": "OP-WEB-$RANDOM",
 "time": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "nonce": "$RANDOM$RANDOM"}
EOF
  "$veta" sign --type sale --key "$trader_key" --key "$plant_key" "$work/sale-to-plant.json" \
    >"$work/sale-to-plant.env.json" || fail "veta sign refused the trader's sale to the plant"
  "$veta" submit --server "$addr" "$work/sale-to-plant.env.json" >"$work/sale.txt" 2>&1 ||
    { cat "$work/sale.txt"; fail "the trader's sale to the plant was refused"; }
fi

# A purchase registered from the browser, as the README's "En el navegador" tour does it: the
# plant buys 100 kg of the trader's other cash-bought lot (...-C-T2, 250 kg; S/ 393.30 is 90% of
# the demo's reference price for the 0.95 g of gold they hold), both keys imported from the
# demo's PEM files, the seller's signature added to the buyer's envelope; then a replay and a
# purchase of more than is left, refused (web/tests/browser/compra.mjs).
if [[ "$web_dir_served" -gt 0 ]]; then
  VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/compra.mjs" --url "http://127.0.0.1:$http_port/" \
    --seller "$trader_ruc" --seller-key "$trader_key" --buyer "$plant_ruc" --buyer-key "$plant_key" \
    --lot "$lot_c-T2" --new-lot "$lot_c-WEB-COMPRA" --kg 100 --price 393.30 "${shots[@]}"
fi

# The role matrix over TLS: the same ledger served again with a certificate; the public may
# not read attempts or lineage, the authority's key signed in (a regulator) may.
if [[ "$web_dir_served" -gt 0 ]]; then
  stop_server
  # ECDSA P-256: chromium does not take Ed25519 certificates.
  (cd "$work" && "$veta" keygen --out tls --algorithm ecdsa-p256 >/dev/null &&
    "$veta" certgen --key tls.pem --out tls.crt --alt-name 127.0.0.1 >/dev/null)
  rm -f "$work/port" "$work/http-port"
  "$server" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
    --http-listen 127.0.0.1:0 --http-port-file "$work/http-port" --web-dir "$web_dir/dist" \
    --tls-cert "$work/tls.crt" --tls-key "$work/tls.pem" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do [[ -s "$work/http-port" ]] && break; sleep 0.05; done
  [[ -s "$work/http-port" ]] || fail "veta-server with TLS did not start"
  VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/roles.mjs" \
    --url "https://127.0.0.1:$(cat "$work/http-port")/" --key "$work/data/authority-key.pem" \
    --lot "$exported" "${shots[@]}"
  # The trader, the plant and the exporter signed in with their keys (web/tests/browser/partes.mjs).
  VETA_CHROMIUM=$chromium node "$web_dir/tests/browser/partes.mjs" \
    --url "https://127.0.0.1:$(cat "$work/http-port")/" --trader-key "$trader_key" \
    --plant-key "$plant_key" --exporter-key "$exporter_key" --ore-lot "$lot_c-P2" \
    --out-lot "$lot_c-WEB" --flagged "$lot_c-AU" --exported "$exported" "${shots[@]}"
fi
