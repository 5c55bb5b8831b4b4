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

play() {  # play FILE [demo flags...]: the story, with no terminal (stdout is a file), in the
  local out=$1  # environment of a fresh Debian (no VETA_LANG, a C locale)
  shift
  env -u VETA_LANG -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 "$demo" --server "$addr" --authority-key data/authority-key.pem --geodata "$geodata" \
    --miners 12 --lots-file lots --out-dir story "$@" >"$out" 2>&1 || { cat "$out"; fail "the demo failed"; }
}
expect() {  # expect FILE "words"
  grep -qF -- "$2" "$1" || { cat "$1"; fail "'$2' not in the demo's output"; }
}
# Spanish by default.
play first.txt
expect first.txt "parámetros: reglas versión 3"
# Parties by name and role, not bare RUCs; what each entry is, and how much.
expect first.txt "Comercializadora Tambopata SAC, comercializador, RUC"
expect first.txt "Planta de Beneficio Inambari SAC, planta de beneficio, RUC"
expect first.txt "REGISTRADO, entrada"
expect first.txt ": extracción de 1,200 kg de mineral a 9.5 g/t (oro contenido en el mineral: 11.4 g)"
expect first.txt ": venta de 1,000 kg de mineral del lote"
expect first.txt "S/ 3,933.00 por transferencia bancaria"
expect first.txt "16 g de doré de ley 900 (14.4 g de oro fino)"
# Departments by name, not code.
grep -qE "distrito de [A-Za-z].* \((.*), (Amazonas|Áncash|Apurímac|Arequipa|Ayacucho|Cajamarca|Cusco|Huancavelica|Huánuco|Junín|La Libertad|Madre de Dios|Puno|Piura|Ucayali|Loreto|San Martín|Pasco|Lima|Ica|Moquegua|Tacna|Tumbes|Lambayeque|Callao)\)" first.txt ||
  { cat first.txt; fail "no district and department by name"; }
# Each refusal: its code, the server's message, and the plain explanation in Spanish.
for code_title in "POINT_IN_PROHIBITED_ZONE:Extracción en zona prohibida" \
  "UNIT_CAPACITY_EXCEEDED:Supera la capacidad de la unidad" "UNIT_OVERLAPS:Unidad superpuesta a otra" \
  "EXTRACTOR_NOT_ACTIVE:Minero suspendido o excluido" \
  "CASH_ABOVE_BANKING_LIMIT:Pago en efectivo sobre el límite" \
  "CORRECTION_NEEDS_REGISTRAR:Solo un registrador puede anularla" \
  "BUYER_MAY_NOT_BUY_ORE:Ese comprador no puede comprar mineral" \
  "MASS_BALANCE_EXCEEDED:Sale más oro del que entró" "LOT_EXPORTED:Lote ya exportado"; do
  code=${code_title%%:*} title=${code_title#*:}
  grep -A1 -F -- "RECHAZADO:" first.txt | grep -qF -- "    [$code]" || { cat first.txt; fail "no refusal $code"; }
  expect first.txt "    $title. "
  # The attempts list names every refusal of the run (not the last four).
  grep -qE "^  #[0-9]+ \[$code\] $title\$" first.txt || { cat first.txt; fail "$code not in the attempts list"; }
done
expect first.txt "9 rechazos en este recorrido"
expect first.txt "ALERTA CASH_STRUCTURING"
expect first.txt "    Efectivo fraccionado. "
expect first.txt "SIN CERTIFICADO para el lote"
# No terminal: no escape codes in the output.
if grep -q $'\033' first.txt; then fail "escape codes written to a file"; fi
# Hints that work as printed: the CLI's path and --server after the command.
expect first.txt "$veta records unit --department "
expect first.txt " --server $addr"
if grep -q "grpcurl" first.txt; then fail "the demo names grpcurl"; fi
if grep -q "PRICE_OUT_OF_BAND\|! refused" first.txt; then
  cat first.txt
  fail "the demo's own prices or records were flagged or refused"
fi
# The story left for the web app: the certificate (protobuf JSON), its verification URL, demo.json.
[[ -s story/certificado.json && -s story/demo.json ]] || fail "no story left in --out-dir"
exported=$(sed -n 1p lots) tainted=$(sed -n 2p lots)
"$veta" verify-certificate --authority data/authority.pub.pem story/certificado.json >/dev/null ||
  fail "the demo's certificate does not verify"
note_hash=$(python3 -c 'import json,sys,hashlib; print(hashlib.sha256(json.load(open(sys.argv[1]))["note"].encode()).hexdigest())' story/certificado.json)
expect first.txt "#/verificar?lote=$exported&nota=$note_hash"
grep -qF "\"exported\": \"$exported\"" story/demo.json || { cat story/demo.json; fail "demo.json"; }
grep -qF '"code": "POINT_IN_PROHIBITED_ZONE"' story/demo.json || { cat story/demo.json; fail "demo.json refusals"; }
"$veta" certificate --server "$addr" --out c.json "$exported" >/dev/null ||
  fail "no certificate for the exported gold $exported"
if "$veta" certificate --server "$addr" --out t.json "$tainted" >t.txt 2>&1; then
  fail "a certificate for the gold of the flagged sale $tainted"
fi
grep -q "CASH_STRUCTURING" t.txt || { cat t.txt; fail "the refusal does not name the flag"; }
# The CLI explains in the same words: veta explain, and after a code in veta attempts.
"$veta" explain SELF_SALE --lang es | grep -qF "Venta a sí mismo." || fail "veta explain es"
"$veta" explain SELF_SALE --lang en | grep -qF "Sale to oneself." || fail "veta explain en"
"$veta" explain --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["refusals"]) > 60 and d["departments"]["17"] == "Madre de Dios"' ||
  fail "veta explain --json"
if "$veta" explain NO_SUCH_CODE >/dev/null 2>&1; then fail "veta explain of an unknown code"; fi
VETA_LANG=en "$veta" attempts --server "$addr" --refusal LOT_EXPORTED | grep -qF "  Lot already exported. " ||
  fail "veta attempts does not explain its refusals"
# Safe to run again: the registry is unchanged, the story plays with new lots; in English.
play second.txt --lang en
expect second.txt "RED FLAG CASH_STRUCTURING"
expect second.txt ": extraction of 1,200 kg of ore at 9.5 g/t (gold contained in the ore: 11.4 g)"
expect second.txt "REFUSED: correction voiding entry"
expect second.txt "    [CORRECTION_NEEDS_REGISTRAR]"
expect second.txt "    Only a registrar may void it. "
expect second.txt "9 refusals in this run"
expect second.txt "districts, 0 new"
expect second.txt "zones, 0 new"
kill -TERM "$pid"
wait "$pid" || true
pid=
"$audit" data >audit.txt 2>&1 || { cat audit.txt; fail "the audit of the demo's ledger failed"; }
[[ -n "${VETA_DEMO_SHOW:-}" ]] && cat first.txt
echo "demo end to end: ok"
