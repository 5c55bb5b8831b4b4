#!/usr/bin/env bash
# The README's run command: installs what is missing, builds (Release), creates a ledger on
# first run, starts veta-server on 127.0.0.1 and walks through a first signed submission.
# Usage: tools/run.sh [--detach]   (--detach: leave the server running in the background)
# Environment: VETA_DATA_DIR (default ~/.local/share/veta), VETA_LISTEN (default: the address
# the server and the clients default to, client/address.h).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash tools/install-deps.sh
# The web app's npm packages install while the C++ builds (mostly network; a failure here is
# retried, and reported, by the web app's build below).
packages=
if command -v node >/dev/null && command -v npm >/dev/null; then
  bash tools/build-web.sh --packages-only >/dev/null 2>&1 &
  packages=$!
fi
# A unity build (16 files compiled as one): the gRPC and protobuf headers, most of what each
# file costs, are read once per batch, not once per file: half the time of a first build.
# The tests' builds (tools/test.sh) compile file by file.
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVETA_BUILD_TESTS=OFF \
  -DVETA_BUILD_BENCHMARKS=OFF -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
cmake --build build-release -j "$(nproc)" --target veta veta-server veta-audit veta-load veta-demo
[[ -z "$packages" ]] || wait "$packages" || true
# The web app (web/dist), when node and npm are here; the server runs without it.
web_built=0
if command -v node >/dev/null && command -v npm >/dev/null &&
  VETA=$root/build-release/client/veta bash tools/build-web.sh >/dev/null; then
  web_built=1
else
  echo "run.sh: the web app was not built (needs node, npm and protoc); the server runs without it"
fi

bin=$root/build-release
veta=$bin/client/veta
data=${VETA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/veta}
listen=${VETA_LISTEN:-$("$veta" --help | sed -n 's/.*The server defaults to \([^ ]*\)\.$/\1/p')}
[[ -n "$listen" ]] || { echo "run.sh: no default address in veta --help; set VETA_LISTEN"; exit 1; }

"$veta" init --if-missing --data-dir "$data" --origin veta.example/ledger
# The web app offers this ledger's authority key to Verificar oro (showing its fingerprint).
if [[ $web_built -eq 1 ]]; then cp "$data/authority.pub.pem" "$root/web/dist/authority.pub.pem"; fi
log=$data/server.log
# The HTTP listener: the JSON API for browsers (docs/HTTP_API.md), the tiles, and the web app
# when it is built (tools/build-web.sh writes web/dist). VETA_HTTP_LISTEN= (empty): no HTTP.
http_listen=${VETA_HTTP_LISTEN-127.0.0.1:7488}
http_args=()
if [[ -n "$http_listen" ]]; then
  http_args=(--http-listen "$http_listen")
  [[ -f "$root/web/dist/index.html" ]] && http_args+=(--web-dir "$root/web/dist")
fi
"$bin/server/veta-server" --data-dir "$data" --listen "$listen" "${http_args[@]}" 2>>"$log" &
server=$!
stop() { kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; }
trap stop INT TERM
for _ in $(seq 50); do
  "$veta" checkpoint --server "$listen" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "veta-server did not start:"; tail -5 "$log"; exit 1; }
  sleep 0.1
done

geodata=${VETA_GEODATA:-$root/data}
tour=$(mktemp -d)
# Bold commands on a terminal only, and never with NO_COLOR (no escape codes in logs).
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
else
  say() { printf '\n$ %s\n' "$*"; "$@"; }
fi
# The story in Spanish unless English is asked for (VETA_LANG=en, or an English locale), as
# veta-demo and the CLI decide; `t "español" "English"` prints one.
lang=es
case "${VETA_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}" in en*) lang=en ;; esac
t() { if [[ $lang == es ]]; then echo "$1"; else echo "$2"; fi; }
echo
t "Veta está en marcha: un registro firmado, solo de agregado, en $listen (datos en $data)." \
  "Veta is running: a signed, append-only ledger on $listen (data in $data)."
if [[ -n "$http_listen" && -f "$root/web/dist/index.html" ]]; then
  web_url="http://$http_listen"
  t "La aplicación web: $web_url/ (API JSON: $web_url/veta.v1.Ledger/<Método>)" \
    "The web app: $web_url/ (JSON API: $web_url/veta.v1.Ledger/<Method>)"
elif [[ -n "$http_listen" ]]; then
  t "API JSON para navegadores: http://$http_listen/veta.v1.Ledger/<Método> (docs/HTTP_API.md)" \
    "JSON API for browsers: http://$http_listen/veta.v1.Ledger/<Method> (docs/HTTP_API.md)"
fi
if [[ -d "$geodata" ]]; then
  t "La demo arma un registro con los datos geográficos públicos del Perú y cuenta una historia:" \
    "The demo builds a registry from Peru's public geodata and plays a story:"
  "$bin/tools/veta-demo" --server "$listen" --authority-key "$data/authority-key.pem" \
    --geodata "$geodata" --lots-file "$tour/lots" --lang "$lang" --veta "$veta" \
    --out-dir "$data/demo" --web-url "${web_url:-}"
  exported=$(sed -n 1p "$tour/lots") tainted=$(sed -n 2p "$tour/lots")
  echo
  t "Un regulador sigue el oro exportado hasta las unidades mineras, entrada por entrada" \
    "A regulator follows the exported gold back to the mining units, entry by entry"
  t "(--format svg lo dibuja):" "(--format svg draws it):"
  say "$veta" lineage --server "$listen" "$exported" || true
  echo
  t "Su certificado de «oro formal», verificado sin conexión con solo la llave pública de la" \
    "Its \"Oro formal\" certificate, checked offline with only the authority's public key;"
  t "autoridad; el oro de la venta en efectivo marcada no recibe ninguno:" \
    "the gold of the flagged cash sale gets none:"
  say "$veta" certificate --server "$listen" --out "$tour/certificate.json" "$exported" || true
  say "$veta" verify-certificate --authority "$data/authority.pub.pem" "$tour/certificate.json" || true
  say "$veta" certificate --server "$listen" --out "$tour/refused.json" "$tainted" || true
  say "$veta" report indicators --server "$listen" || true
else
  t "(no hay datos geográficos en $geodata: apunte VETA_GEODATA a una carpeta con los GeoJSON de data/ para ver la demo)" \
    "(no geodata at $geodata: set VETA_GEODATA to a folder of the GeoJSON files of data/ to see the demo)"
fi

cd "$tour"
echo
t "Cualquiera puede comprobar un registro sin confiar en el operador: una prueba de inclusión" \
  "Anyone can check a record without trusting the operator: an inclusion proof against the"
t "contra el checkpoint firmado, verificada sin conexión con solo la llave pública de la autoridad:" \
  "signed checkpoint, checked offline with only the authority's public key:"
size=$("$veta" checkpoint --server "$listen" --json | sed -n 's/.*"treeSize":"\([0-9]*\)".*/\1/p')
say "$veta" prove --server "$listen" --authority "$data/authority.pub.pem" --out proof.json \
  $((size - 1))
say "$veta" verify --authority "$data/authority.pub.pem" proof.json
echo
t "Siga: \`$veta --help\` (records, attempts, flags, check, import, sign, submit...);" \
  "Next: \`$veta --help\` (records, attempts, flags, check, import, sign, submit...);"
t "\`$veta explain CÓDIGO\` dice qué significa un código de rechazo o una alerta (--lang es|en);" \
  "\`$veta explain CODE\` says what a refusal code or red flag means (--lang es|en);"
t "todo comando acepta --server $listen; la API: proto/veta/v1/service.proto." \
  "every command takes --server $listen; the API: proto/veta/v1/service.proto."
t "Registro del servidor: $log." "Server log: $log."
cd "$root"
if [[ "${1:-}" == "--detach" ]]; then
  t "veta-server sigue en marcha (pid $server); para detenerlo: kill $server" \
    "veta-server keeps running (pid $server); stop it with: kill $server"
  trap - INT TERM
  exit 0
fi
t "veta-server está en marcha (pid $server). Ctrl-C lo detiene." \
  "veta-server is running (pid $server). Press Ctrl-C to stop it."
wait "$server"
