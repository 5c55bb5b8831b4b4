#!/usr/bin/env bash
# The README's run command: installs what is missing, builds (Release), creates a ledger on
# first run, starts veta-server on 127.0.0.1 and walks through a first signed submission.
# Usage: tools/run.sh [--detach]   (--detach: leave the server running in the background)
# Environment: VETA_DATA_DIR (default ~/.local/share/veta), VETA_LISTEN (127.0.0.1:7480).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash tools/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVETA_BUILD_TESTS=OFF \
  -DVETA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target veta veta-server veta-audit veta-load

bin=$root/build-release
veta=$bin/client/veta
data=${VETA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/veta}
listen=${VETA_LISTEN:-127.0.0.1:7480}

"$veta" init --if-missing --data-dir "$data" --origin veta.example/ledger
log=$data/server.log
"$bin/server/veta-server" --data-dir "$data" --listen "$listen" 2>>"$log" &
server=$!
stop() { kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; }
trap stop INT TERM
for _ in $(seq 50); do
  "$veta" checkpoint --server "$listen" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "veta-server did not start:"; tail -5 "$log"; exit 1; }
  sleep 0.1
done

tour=$(mktemp -d)
cd "$tour"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
echo
echo "Veta is running: a signed, append-only ledger on $listen (data in $data)."
echo "A first signed submission, step by step (files in $tour):"
say "$veta" keygen --out trader --algorithm ecdsa-p256
say "$veta" sign --type key-registration --key "$data/authority-key.pem" --out reg.json \
  trader.registration.json
say "$veta" submit --server "$listen" reg.json
printf '{"subject":"lote MDD-0001","text":"1250.5 kg de mineral, 8.4 g/t, concesion CM-0042","nonce":"%s"}\n' \
  "$(date +%s%N)" >memo.json
say "$veta" sign --key trader.pem --out memo.env.json memo.json
printf '\n\033[1m$ %s\033[0m\n' "$veta submit --server $listen memo.env.json"
out=$("$veta" submit --server "$listen" memo.env.json)
echo "$out"
seq=$(sed -n 's/.*recorded as entry \([0-9]*\).*/\1/p' <<<"$out")
say "$veta" get --server "$listen" "$seq"
say "$veta" prove --server "$listen" --authority "$data/authority.pub.pem" --out proof.json "$seq"
say "$veta" verify --authority "$data/authority.pub.pem" proof.json
say "$veta" checkpoint --server "$listen" --authority "$data/authority.pub.pem"
echo
echo "Submitting the same envelope again is refused (the ledger never records a replay):"
say "$veta" submit --server "$listen" memo.env.json || true
cat <<MSG

Next: \`$veta --help\`; grpcurl -plaintext $listen list (reflection is on);
the API is proto/veta/v1/service.proto. Server log: $log.
MSG
cd "$root"
if [[ "${1:-}" == "--detach" ]]; then
  echo "veta-server keeps running (pid $server); stop it with: kill $server"
  trap - INT TERM
  exit 0
fi
echo "veta-server is running (pid $server). Press Ctrl-C to stop it."
wait "$server"
