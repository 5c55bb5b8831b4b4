#!/usr/bin/env bash
# End to end: registries and origin rules through the veta CLI on the real server: a registrar
# registered by the authority, REINFO/REPCO CSV imports (a bad file imports nothing; a second
# run changes nothing), zones from the real indigenous territories, an extraction accepted and
# one refused with its code, the pre-purchase check, a sale, queries "as of", the attempts log.
# Usage: registry_test.sh VETA VETA_SERVER VETA_AUDIT GEODATA_DIR
set -euo pipefail
export VETA_LANG=en  # the CLI's English output is checked below (Spanish: a C locale's default)
veta=$1 server=$2 audit=$3 geodata=$4
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
checks=0
pass() { checks=$((checks + 1)); }
# On failure, also say whether the server was still running and what it logged: a call that
# "cannot reach" a live server is the client's doing (see server_state).
server_state() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    echo "server (pid $pid) still running; its log:" >&2
  else
    echo "server not running; its log:" >&2
  fi
  tail -n 20 server.log >&2 2>/dev/null || true
}
fail() { echo "FAIL: $*" >&2; [[ -f out.txt ]] && cat out.txt err.txt >&2; server_state; exit 1; }
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

for k in dgfm miner plant exporter; do "$veta" keygen --out $k >$k.txt; done
spki() { sed -n 's/.*base64 SPKI: //p' $1.txt; }
echo "{\"registrar\":{\"registrarId\":\"DGFM\",\"name\":\"Direccion General de Formalizacion Minera\",\"status\":\"VIGENTE\",\"keys\":[$(cat dgfm.pubkey.json)]}}" >registrar.json
"$veta" sign --type registry --key data/authority-key.pem registrar.json >registrar.env.json
ok "recorded as entry 1" "$veta" submit $s registrar.env.json
# A registrar cannot register a registrar: only the authority can.
sed 's/"DGFM"/"ROGUE"/' registrar.json >rogue.json
"$veta" sign --type registry --key dgfm.pem rogue.json >rogue.env.json
refused "NOT_A_REGISTRAR" "$veta" submit $s rogue.env.json
# The authority's registration signed again by the registrar is the same statement: a replay.
"$veta" sign --type registry --key dgfm.pem registrar.json >again.env.json
refused "ENVELOPE_REPLAYED" "$veta" submit $s again.env.json

miner_ruc=$(ruc 1045678901) plant_ruc=$(ruc 2061234567) exporter_ruc=$(ruc 2061234568)
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
  echo "$exporter_ruc,Exportadora Huaypetue SAC,EXPORTER,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,$(spki exporter),"
} >repco.csv
ok "2 registered" "$veta" import repco $s --key dgfm.pem repco.csv
ok "21 registered" "$veta" import zones $s --key dgfm.pem --id-property id --name-property name_field \
  --id-prefix IT- --legal-reference "Ley 28736" "$geodata/peru_indigenous_territories_mining.geojson"
# Peru's districts as shipped (8 of 1,834 have no geometry: skipped), for rules v3's ubigeo check.
ok "1826 records: 1826 registered" "$veta" import zones $s --key dgfm.pem \
  --kind ADMINISTRATIVE_DISTRICT --id-property IDDIST --name-property NOMBDIST \
  "$geodata/peru_districts.geojson"
grep -q "district with no geometry: skipped" out.txt || fail "skipped districts not reported"
after_import=$("$veta" checkpoint $s --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p')

# Extraction: inside the unit, accepted; outside it, refused with its code, logged.
extraction() {
  echo "{\"lotId\":\"$1\",\"extractorId\":\"$miner_ruc\",\"unitCode\":\"CM-0042\",\"point\":{\"longitude\":$2,\"latitude\":$3},\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"oreKg\":$4,\"gradeGPerT\":8.5,\"nonce\":\"$RANDOM\"}"
}
extraction LOT-1 -70.59 -13.04 1500 >x1.json
"$veta" sign --type extraction --key miner.pem x1.json >x1.env.json
ok "recorded as entry" "$veta" submit $s x1.env.json
# Quantities typed in kg are read exactly, to the gram: a fourth decimal is refused, not rounded.
extraction LOT-9 -70.59 -13.04 1.0005 >x9.json
refused "oreKg: '1.0005' has 4 decimals; at most 3 are counted" "$veta" sign --type extraction --key miner.pem x9.json
extraction LOT-9 -70.59 -13.04 1e3 >x9.json
refused "oreKg: '1e3' is not a decimal number" "$veta" sign --type extraction --key miner.pem x9.json
extraction LOT-2 -70.50 -13.04 100 >x2.json
"$veta" sign --type extraction --key miner.pem x2.json >x2.env.json
refused "\[POINT_OUTSIDE_UNIT\]" "$veta" submit $s x2.env.json
extraction LOT-3 -70.59 -13.04 30000 >x3.json
"$veta" sign --type extraction --key miner.pem x3.json >x3.env.json
refused "UNIT_CAPACITY_EXCEEDED" "$veta" submit $s x3.env.json
# After the code, its plain explanation (core/read/explain), in the language asked for.
grep -qE "^  (Supera la capacidad de la unidad|Unit capacity exceeded)\. " out.txt && pass ||
  fail "veta submit does not explain its refusal"
refused "^  Punto fuera de la unidad\. " "$veta" check $s --lang es x2.env.json
refused "^  Point outside the unit\. " "$veta" check $s --lang en x2.env.json
refused "unknown language 'xx'" "$veta" check $s --lang xx x2.env.json

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
# People type kg and g/t; the ledger holds grams (int64, a string in JSON).
ok '"remainingOreG":"500000"' "$veta" lot $s LOT-1
ok '"gradePpb":"8500"' "$veta" lot $s LOT-1
ok '"holderId":"'"$plant_ruc"'"' "$veta" lot $s P-1

# Queries: records now and as of before the import; listings; the attempts log by code.
ok '"ruc":"'"$miner_ruc"'"' "$veta" record $s miner "$miner_ruc"
refused "is not registered as of entry 1" "$veta" record $s miner "$miner_ruc" --as-of 1
ok '"concessionCode":"CM-0042"' "$veta" records $s unit --department 17
ok '"kind":"PLANT"' "$veta" records $s party --party-kind PLANT
ok "POINT_OUTSIDE_UNIT" "$veta" attempts $s --refusal POINT_OUTSIDE_UNIT

[[ $("$veta" attempts $s --party "$miner_ruc" | grep -c '^#') == 3 ]] && pass || fail "attempts by party"
refused "one at most" "$veta" attempts $s --party "$miner_ruc" --unit CM-0042

# Custody: the plant processes the ore into dore (mass balance checked), sells the gold to the
# exporter by the gram, who exports it; lineage, certificate, EPCIS and indicators.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "{\"plantRuc\":\"$plant_ruc\",\"inputs\":[{\"lotId\":\"P-1\",\"oreKg\":1000}],\"outputs\":[{\"lotId\":\"AU-1\",\"goldG\":9.5,\"fineness\":900}],\"time\":\"$now\"}" >proc_big.json
"$veta" sign --type processing --key plant.pem proc_big.json >proc_big.env.json
refused "MASS_BALANCE_EXCEEDED" "$veta" submit $s proc_big.env.json
sed 's/"goldG":9.5/"goldG":8/' proc_big.json >proc.json
"$veta" sign --type processing --key plant.pem proc.json >proc.env.json
ok "recorded as entry" "$veta" submit $s proc.env.json
# The integer fields may be given as they are, too: 8,000 mg, S/ 2,000.00.
echo "{\"lotId\":\"AU-1\",\"sellerId\":\"$plant_ruc\",\"buyerRuc\":\"$exporter_ruc\",\"buyerLotId\":\"X-1\",\"quantityMg\":\"8000\",\"priceCents\":200000,\"payment\":\"BANK_TRANSFER\",\"time\":\"$now\"}" >gold.json
"$veta" sign --type sale --key plant.pem gold.json >gold.1.json
"$veta" sign --add-to gold.1.json --key exporter.pem >gold.env.json
ok "recorded as entry" "$veta" submit $s gold.env.json
echo "{\"lotId\":\"X-1\",\"exporterRuc\":\"$exporter_ruc\",\"destinationCountry\":\"CH\",\"customsDeclaration\":\"DAM-118-2026-40-000123\",\"time\":\"$now\"}" >export.json
"$veta" sign --type export --key exporter.pem export.json >export.env.json
ok "recorded as entry" "$veta" submit $s export.env.json
ok "extraction at unit CM-0042 dept 17" "$veta" lineage $s X-1
grep -q "EXPORTED to CH" out.txt || fail "lineage shows the export"
grep -q "unit CM-0042.*100.0000%  7.200 g" out.txt || fail "lineage shows the unit's share"
ok "X-1" "$veta" lineage $s --unit CM-0042
ok "digraph lineage" "$veta" lineage $s X-1 --format dot
if command -v dot >/dev/null; then
  ok "written" sh -c "\"$veta\" lineage $s X-1 --format svg --out tree.svg && grep -q '<svg' tree.svg && echo written"
fi
refused "give one root" "$veta" lineage $s X-1 --unit CM-0042
ok "saved to cert.json" "$veta" certificate $s --out cert.json X-1
ok "verified: Oro formal certificate of lot X-1" "$veta" verify-certificate --authority data/authority.pub.pem cert.json
grep -q "100.0000% (7.200 g) from unit CM-0042 (department 17)" out.txt || fail "certificate origin"
sed 's/X-1/X-2/' cert.json >forged.json
refused "NOT VERIFIED" "$veta" verify-certificate --authority data/authority.pub.pem forged.json
refused "CERTIFICATE_REFUSED" "$veta" certificate $s --out ore.json LOT-1
[[ ! -e ore.json ]] || fail "a refused certificate wrote a file"
# A correction through the CLI: the miner alone may not void the sale both parties signed.
echo "{\"lotId\":\"LOT-1\",\"sellerId\":\"$miner_ruc\",\"buyerRuc\":\"$plant_ruc\",\"buyerLotId\":\"P-2\",\"quantityKg\":100,\"pricePen\":2100,\"payment\":\"BANK_TRANSFER\",\"time\":\"$now\"}" >sale2.json
"$veta" sign --type sale --key plant.pem sale2.json >sale2.1.json
"$veta" sign --add-to sale2.1.json --key miner.pem >sale2.env.json
ok "recorded as entry" "$veta" submit $s sale2.env.json
sale2=$(sed -n 's/.*recorded as entry \([0-9]*\).*/\1/p' out.txt)
refused "CORRECTION_NOT_AUTHORIZED" "$veta" correct $s "$sale2" --reason "wrong buyer" --key miner.pem
ok "entry $sale2 voided by correction entry" "$veta" correct $s "$sale2" --reason "wrong buyer" --key dgfm.pem
ok '"remainingOreG":"500000"' "$veta" lot $s LOT-1
# A red flag is cleared by a registrar, with a reason (veta clear-flag), under any rules version.
ok "each flag of an entry is cleared by its own clearance" "$veta" clear-flag --help
echo "{\"lotId\":\"LOT-1\",\"sellerId\":\"$miner_ruc\",\"buyerRuc\":\"$plant_ruc\",\"buyerLotId\":\"P-3\",\"quantityKg\":100,\"pricePen\":31000,\"payment\":\"CASH\",\"time\":\"$now\"}" >cash.json
"$veta" sign --type sale --key plant.pem cash.json >cash.1.json
"$veta" sign --add-to cash.1.json --key miner.pem >cash.env.json
ok "recorded as entry" "$veta" submit $s cash.env.json
cash=$(sed -n 's/.*recorded as entry \([0-9]*\).*/\1/p' out.txt)
ok '"CASH_ABOVE_THRESHOLD"' "$veta" flags $s --start "$cash"
clear=(clear-flag $s "$cash" --flag CASH_ABOVE_THRESHOLD --reason "SUNAT checked the deposit")
echo "{\"parameters\":{\"gradePpbDefault\":{\"min\":500,\"max\":60000},\"recoveryPpm\":{\"min\":300000,\"max\":950000},\"selectorDailyLimitG\":200000,\"cashFlagThresholdPen\":30000,\"volumeJumpPercent\":500,\"rulesVersion\":3,\"referencePriceCentsPerFineG\":40000,\"referencePriceDate\":\"$now\",\"referencePriceSource\":\"BCRP\"}}" >v3.json
"$veta" sign --type registry --key dgfm.pem v3.json >v3.env.json
ok "recorded as entry" "$veta" submit $s v3.env.json
refused "NOT_A_REGISTRAR" "$veta" "${clear[@]}" --key miner.pem
refused "names a red flag's code" "$veta" clear-flag $s "$cash" --flag CASH --reason x --key dgfm.pem
ok "red flag CASH_ABOVE_THRESHOLD of entry $cash cleared by entry" "$veta" "${clear[@]}" --key dgfm.pem
ok '"clearedBy"' "$veta" flags $s --start "$cash"
refused "was already cleared" "$veta" "${clear[@]}" --key dgfm.pem
ok '"EPCISDocument"' "$veta" export epcis $s
ok "TransformationEvent" "$veta" export epcis $s --lot AU-1
ok "traced in full to registered units: 7.200 g = 100.0000%" "$veta" report indicators $s
# The same, in Spanish (the default in a C locale): lineage, certificate and indicators.
ok "EXPORTADO a CH" env -u VETA_LANG -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 "$veta" lineage $s X-1
grep -q "unidad CM-0042.*100.0000%  7.200 g" out.txt || fail "the lineage's origin, in Spanish"
ok "verificado: certificado de «oro formal» del lote X-1" "$veta" verify-certificate --lang es \
  --authority data/authority.pub.pem cert.json
grep -q "100.0000% (7.200 g) de la unidad CM-0042 (departamento 17)" out.txt || fail "certificate origin, in Spanish"
ok "trazado por completo hasta unidades registradas: 7.200 g = 100.0000%" "$veta" report indicators $s --lang es
ok "MASS_BALANCE_EXCEEDED" "$veta" report indicators $s

kill -TERM "$pid"; wait "$pid"; pid=
ok "^clean:" "$audit" data
echo "registry e2e: $checks checks passed"
