#!/usr/bin/env bash
# End to end: registries and origin rules through the veta CLI on the real server: a registrar
# registered by the authority, REINFO/REPCO CSV imports (a bad file imports nothing; a second
# run changes nothing), zones from the real indigenous territories, an extraction accepted and
# one refused with its code, the pre-purchase check, a sale, queries "as of", the attempts log.
# Usage: registry_test.sh VETA VETA_SERVER VETA_AUDIT GEODATA_DIR
set -euo pipefail
veta=$1 server=$2 audit=$3 geodata=$4
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; [[ -f out.txt ]] && cat out.txt err.txt >&2; exit 1; }
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
ruc() {  # ruc FIRST10: appends SUNAT's check digit
  local d=$1 w=(5 4 3 2 7 6 5 4 3 2) s=0 i
  for i in $(seq 0 9); do s=$((s + ${d:i:1} * ${w[i]})); done
  local c=$((11 - s % 11)); ((c == 10)) && c=0; ((c == 11)) && c=1
  echo "$d$c"
}

"$veta" init --data-dir data --origin veta.test/registry >/dev/null
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --checkpoint-interval-ms 20 2>server.log &
pid=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
[[ -s port ]] || fail "server did not start"
s="--server 127.0.0.1:$(cat port)"

for k in dgfm miner plant; do "$veta" keygen --out $k >$k.txt; done
spki() { sed -n 's/.*base64 SPKI: //p' $1.txt; }
echo "{\"registrar\":{\"registrarId\":\"DGFM\",\"name\":\"Direccion General de Formalizacion Minera\",\"status\":\"VIGENTE\",\"keys\":[$(cat dgfm.pubkey.json)]}}" >registrar.json
"$veta" sign --type registry --key data/authority-key.pem registrar.json >registrar.env.json
ok "recorded as entry 1" "$veta" submit $s registrar.env.json
# A registrar cannot register a registrar: only the authority can.
"$veta" sign --type registry --key dgfm.pem registrar.json >rogue.env.json
refused "NOT_A_REGISTRAR" "$veta" submit $s rogue.env.json

miner_ruc=$(ruc 1045678901) plant_ruc=$(ruc 2061234567)
square='"{""type"":""Polygon"",""coordinates"":[[[-70.60,-13.05],[-70.58,-13.05],[-70.58,-13.03],[-70.60,-13.03],[-70.60,-13.05]]]}"'
header="ruc,name,size_class,category,status,status_since,status_reason,valid_from,valid_until,public_key,concession_code,unit_name,ubigeo,geometry,activity,capacity_tpd"
{
  echo "$header"
  echo "$miner_ruc,Juana Mamani,ARTISANAL,II,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,$(spki miner),CM-0042,Concesion Huaypetue,170301,$square,EXTRACTION,20"
  echo "${miner_ruc:0:10}0,Otro,ARTISANAL,II,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,$(spki miner),CM-0043,X,170301,$square,EXTRACTION,20"
} >reinfo_bad.csv
[[ "${miner_ruc:10:1}" == 0 ]] && sed -i "3s/^${miner_ruc:0:10}0/${miner_ruc:0:10}1/" reinfo_bad.csv
refused "reinfo_bad.csv:3:" "$veta" import reinfo $s --key dgfm.pem reinfo_bad.csv
grep -q "nothing was imported" err.txt || fail "bad file message"
refused "is not registered" "$veta" record $s miner "$miner_ruc"
head -2 reinfo_bad.csv >reinfo.csv
ok "2 records: 2 registered" "$veta" import reinfo $s --key dgfm.pem reinfo.csv
ok "0 registered, 2 already registered unchanged" "$veta" import reinfo $s --key dgfm.pem reinfo.csv
{
  echo "ruc,name,kind,status,status_since,status_reason,valid_from,valid_until,public_key,processing_capacity_tpd"
  echo "$plant_ruc,Planta de Beneficio Huaypetue SAC,PLANT,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,$(spki plant),120"
} >repco.csv
ok "1 registered" "$veta" import repco $s --key dgfm.pem repco.csv
ok "21 registered" "$veta" import zones $s --key dgfm.pem --id-property id --name-property name_field \
  --id-prefix IT- --legal-reference "Ley 28736" "$geodata/peru_indigenous_territories_mining.geojson"
after_import=$("$veta" checkpoint $s --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p')

# Extraction: inside the unit, accepted; outside it, refused with its code, logged.
extraction() {
  echo "{\"lotId\":\"$1\",\"extractorId\":\"$miner_ruc\",\"unitCode\":\"CM-0042\",\"point\":{\"longitude\":$2,\"latitude\":$3},\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"oreKg\":$4,\"gradeGPerT\":8.5,\"nonce\":\"$RANDOM\"}"
}
extraction LOT-1 -70.59 -13.04 1500 >x1.json
"$veta" sign --type extraction --key miner.pem x1.json >x1.env.json
ok "recorded as entry" "$veta" submit $s x1.env.json
extraction LOT-2 -70.50 -13.04 100 >x2.json
"$veta" sign --type extraction --key miner.pem x2.json >x2.env.json
refused "\[POINT_OUTSIDE_UNIT\]" "$veta" submit $s x2.env.json
extraction LOT-3 -70.59 -13.04 30000 >x3.json
"$veta" sign --type extraction --key miner.pem x3.json >x3.env.json
refused "UNIT_CAPACITY_EXCEEDED" "$veta" submit $s x3.env.json

# The plant checks before paying (its signature alone), then both sign the sale.
echo "{\"lotId\":\"LOT-1\",\"sellerId\":\"$miner_ruc\",\"buyerRuc\":\"$plant_ruc\",\"buyerLotId\":\"P-1\",\"quantityKg\":1000,\"pricePen\":21000,\"payment\":\"BANK_TRANSFER\",\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" >sale.json
"$veta" sign --type sale --key plant.pem sale.json >sale.plant.json
ok "would be accepted now" "$veta" check $s sale.plant.json
sed 's/"quantityKg":1000/"quantityKg":1600/' sale.json >sale_big.json
"$veta" sign --type sale --key plant.pem sale_big.json >sale_big.plant.json
refused "QUANTITY_EXCEEDS_LOT" "$veta" check $s sale_big.plant.json
refused "SIGNER_NOT_PARTY" "$veta" submit $s sale.plant.json
"$veta" sign --add-to sale.plant.json --key miner.pem >sale.both.json
ok "recorded as entry" "$veta" submit $s sale.both.json
ok '"remainingKg":500' "$veta" lot $s LOT-1
ok '"holderId":"'"$plant_ruc"'"' "$veta" lot $s P-1

# Queries: records now and as of before the import; listings; the attempts log by code.
ok '"ruc":"'"$miner_ruc"'"' "$veta" record $s miner "$miner_ruc"
refused "is not registered as of entry 1" "$veta" record $s miner "$miner_ruc" --as-of 1
ok '"concessionCode":"CM-0042"' "$veta" records $s unit --department 17
ok '"kind":"PLANT"' "$veta" records $s party --party-kind PLANT
ok "POINT_OUTSIDE_UNIT" "$veta" attempts $s --refusal POINT_OUTSIDE_UNIT

[[ $("$veta" attempts $s --party "$miner_ruc" | grep -c '^#') == 3 ]] && pass || fail "attempts by party"
refused "one at most" "$veta" attempts $s --party "$miner_ruc" --unit CM-0042

kill -TERM "$pid"; wait "$pid"; pid=
ok "^clean:" "$audit" data
echo "registry e2e: $checks checks passed"
