#!/usr/bin/env bash
# End to end: the real veta-server binary with --http-listen and --web-dir, called with curl as
# a browser would: the Connect JSON API (a unary method, a streaming one refused, a wrong
# content type, an unknown method), sign-in's challenge, and the web app's files (index.html
# for client-side routes, content types, no file outside the folder even with an encoded or
# raw "..").
# Usage: http_api_test.sh VETA VETA_SERVER
set -euo pipefail
veta=$1 server=$2
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; tail -n 20 server.log >&2 2>/dev/null || true; exit 1; }
post() {  # post METHOD_PATH BODY [content type]: prints "STATUS BODY"
  curl -s -o body.txt -w '%{http_code}' -X POST -H "Content-Type: ${3:-application/json}" \
    --data-binary "$2" "http://$http/$1" >status.txt || fail "curl $1"
  echo "$(cat status.txt) $(cat body.txt)"
}
get() {  # get PATH: prints "STATUS CONTENT_TYPE", the body in body.txt
  curl -s --path-as-is -o body.txt -w '%{http_code} %{content_type}' "http://$http$1" ||
    fail "curl $1"
}

"$veta" init --data-dir data --origin veta.test/http >/dev/null
mkdir -p web/assets
echo '<!doctype html><title>Veta</title>' >web/index.html
echo 'console.log(1)' >web/assets/app-1234.js
echo 'not for the web' >secret.txt
"$server" --data-dir data --listen 127.0.0.1:0 --port-file port --http-listen 127.0.0.1:0 \
  --http-port-file http-port --web-dir web 2>>server.log &
pid=$!
for _ in $(seq 200); do [[ -s http-port ]] && break; sleep 0.05; done
[[ -s http-port ]] || fail "server did not start"
http=127.0.0.1:$(cat http-port)

out=$(post veta.v1.Ledger/GetCheckpoint '{}')
[[ $out == 200\ *'"treeSize":"1"'* ]] || fail "GetCheckpoint: $out"
out=$(post veta.v1.Ledger/GetRecord '{"kind":"party","id":"20100000001"}')
[[ $out == 4* && $out == *'"code":'* ]] || fail "GetRecord of nobody: $out"
out=$(post veta.v1.Ledger/Watch '{}')
[[ $out == 501\ *'"code":"unimplemented"'*gRPC* ]] || fail "Watch: $out"
out=$(post veta.v1.Ledger/GetCheckpoint '{}' text/plain)
[[ $out == 415\ * ]] || fail "text/plain: $out"
out=$(post veta.v1.Ledger/Nothing '{}')
[[ $out == 404\ * ]] || fail "unknown method: $out"
out=$(post veta.v1.Ledger/GetCheckpoint '{"nope":')
[[ $out == 400\ *'"code":"invalid_argument"'* ]] || fail "bad JSON: $out"
out=$(post veta.v1.Session/Challenge '{}')
[[ $out == 200\ *'"payloadType":"application/vnd.veta.session-challenge"'* ]] ||
  fail "Challenge: $out"

[[ $(get /) == "200 text/html; charset=utf-8" ]] || fail "/: $(get /)"
[[ $(get '/verificar?lote=L1&nota=00') == "200 text/html; charset=utf-8" ]] || fail "route"
grep -q '<title>Veta</title>' body.txt || fail "a client-side route is not index.html"
[[ $(get /assets/app-1234.js) == "200 text/javascript; charset=utf-8" ]] || fail "js"
[[ $(get /missing.css) == 404* ]] || fail "missing file"
for path in /../secret.txt /%2e%2e/secret.txt /assets/..%2f..%2fsecret.txt; do
  status=$(get "$path")
  [[ $status != 200* ]] && ! grep -q 'not for the web' body.txt || fail "$path: $status"
done
kill -TERM "$pid"; wait "$pid" || fail "server exit status $?"; pid=
echo "http_api_test: OK"
