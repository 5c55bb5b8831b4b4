# Shared by the web app's tests: skip (exit 77, ctest's SKIP_RETURN_CODE) with a clear message
# when a tool is missing, and a real veta-server on loopback ports with the demo's story in it.
# Sourced with: veta server demo geodata web_dir (the paths the test was given).

skip() { echo "SKIPPED: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; tail -n 20 "$work/server.log" >&2 2>/dev/null || true; exit 1; }

need_node() {
  command -v node >/dev/null || skip "node is not installed (tools/install-deps.sh --tests installs it)"
  [[ -f "$web_dir/dist-node/verify.mjs" && -f "$web_dir/dist/index.html" ]] ||
    fail "the web app is not built: run tools/build-web.sh (ctest's web.build does)"
}

# Starts veta-server (gRPC and HTTP on free loopback ports) on a new ledger in $work/data, plays
# the demo and saves the certificate of its exported gold in $work/certificate.json.
start_server_with_demo() {
  "$veta" init --data-dir "$work/data" --origin veta.test/web >/dev/null
  local extra=()
  if "$server" --help 2>&1 | grep -q -- --web-dir; then extra=(--web-dir "$web_dir/dist"); fi
  "$server" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
    --http-listen 127.0.0.1:0 --http-port-file "$work/http-port" --checkpoint-interval-ms 20 \
    "${extra[@]}" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do [[ -s "$work/port" && -s "$work/http-port" ]] && break; sleep 0.05; done
  [[ -s "$work/port" ]] || fail "veta-server did not start"
  addr=127.0.0.1:$(cat "$work/port")
  http_port=$(cat "$work/http-port")
  web_dir_served=${#extra[@]}
  "$demo" --server "$addr" --authority-key "$work/data/authority-key.pem" --geodata "$geodata" \
    --miners 12 --lots-file "$work/lots" --out-dir "$work/demo" >"$work/demo.txt" 2>&1 ||
    { cat "$work/demo.txt"; fail "the demo failed"; }
  exported=$(sed -n 1p "$work/lots")
  # With its QR code's URL (`veta certificate --web-url`), when the CLI has it.
  local qr=()
  if "$veta" certificate --help 2>&1 | grep -q -- --web-url; then
    qr=(--qr-svg "$work/qr.svg" --web-url http://web.test)
  fi
  "$veta" certificate --server "$addr" --out "$work/certificate.json" "${qr[@]}" "$exported" \
    >"$work/certificate.txt" 2>&1 || fail "no certificate for the demo's exported gold $exported"
}

stop_server() {
  if [[ -n "${server_pid:-}" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
