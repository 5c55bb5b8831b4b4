#!/usr/bin/env bash
# End to end: the real veta-server publishing its log as C2SP tlog-tiles (--tiles-dir, the
# default DATA_DIR/tiles) and serving it on its HTTP listener (--http-listen), read by the Go
# reader tests/go/tilesread (golang.org/x/mod/sumdb only): the checkpoint verifies with the
# ledger's key, every entry of every bundle is proved in the signed tree, the grown tree extends
# the old one. The checkpoint signed at shutdown is published at the next start, with any lost
# tile rebuilt; --tiles-dir none writes nothing.
# Usage: tiles_test.sh VETA VETA_SERVER VETA_LOAD TILESREAD
set -euo pipefail
veta=$1 server=$2 load=$3 tilesread=$4
work=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; tail -n 20 server.log >&2 2>/dev/null || true; exit 1; }
start() {
  rm -f port hport
  "$server" --data-dir data --listen 127.0.0.1:0 --port-file port --http-listen 127.0.0.1:0 \
    --http-port-file hport --checkpoint-interval-ms 20 "$@" 2>>server.log &
  pid=$!
  for _ in $(seq 200); do [[ -s port && -s hport ]] && break; sleep 0.05; done
  [[ -s port && -s hport ]] || fail "server did not start"
  addr=127.0.0.1:$(cat port)
  http=http://127.0.0.1:$(cat hport)
}
stop() { kill -TERM "$pid"; wait "$pid" || fail "server did not stop cleanly"; pid=; }
# The published checkpoint's tree size (0 before there is one).
published() { sed -n 2p data/tiles/checkpoint 2>/dev/null || echo 0; }
wait_published() {  # until the tiles' checkpoint covers $1 entries (bounded)
  for _ in $(seq 400); do (($(published) >= $1)) && return 0; sleep 0.05; done
  fail "tiles stuck at $(published) entries, expected $1"
}
status() { curl -s -o /dev/null -w "%{http_code}" "$http$1"; }

"$veta" init --data-dir data --origin veta.test/tiles >/dev/null
# The checkpoint verifier key (c2sp.org/signed-note): name+hex(key hash)+base64(0x01||key).
origin=veta.test/tiles
openssl pkey -pubin -in data/authority.pub.pem -outform DER | tail -c 32 >pub.bin
{ printf '\x01'; cat pub.bin; } >keydata.bin
keyhash=$({ printf '%s\n' "$origin"; cat keydata.bin; } | openssl dgst -sha256 -binary | head -c 4 | od -An -tx1 | tr -d ' \n')
vkey="$origin+$keyhash+$(base64 -w0 keydata.bin)"

start
"$load" --server "$addr" --authority-key data/authority-key.pem --workload memo --mode stream \
  --entries 600 --keys 2 --clients 1 >load.txt 2>&1 || { cat load.txt; fail "veta-load"; }
size=603  # genesis, 2 key registrations, 600 memos
wait_published $size
[[ -f data/tiles/tile/0/001 && -f data/tiles/tile/0/002.p/$((size - 512)) ]] || fail "no tiles"
[[ ! -e data/tiles/tile/entries ]] || fail "entry bundles in the public folder"
[[ -f data/tile-bundles/tile/entries/001 ]] || fail "no entry bundles"
"$tilesread" -url "$http" -key "$vkey" -bundles "$http" -save old.note >read1.txt 2>&1 ||
  { cat read1.txt; fail "tilesread (1)"; }
grep -q "size $size; 0 leaves and $size bundle entries proved" read1.txt || { cat read1.txt; fail "read (1)"; }
[[ $(curl -s -o /dev/null -w "%{content_type}" "$http/checkpoint") == "text/plain; charset=utf-8" ]] ||
  fail "checkpoint content type"
[[ $(status /tile/0/000) == 200 && $(status /tile/0/999) == 404 && $(status /tile/x/000) == 404 ]] ||
  fail "tile statuses"

"$load" --server "$addr" --authority-key data/authority-key.pem --workload memo --mode stream \
  --entries 300 --keys 1 --clients 1 >load.txt 2>&1 || { cat load.txt; fail "veta-load (2)"; }
stop  # the checkpoint signed at shutdown is published at the next start
rm data/tiles/tile/0/001  # lost: rebuilt at start
start
wait_published 904
cmp -s data/tiles/checkpoint data/latest-checkpoint || fail "published checkpoint is not the latest"
[[ -f data/tiles/tile/0/001 ]] || fail "tile 0/001 not rebuilt"
"$tilesread" -url "$http" -key "$vkey" -bundles "$http" -old old.note >read2.txt 2>&1 ||
  { cat read2.txt; fail "tilesread (2)"; }
grep -q "size 904; 0 leaves and 904 bundle entries proved; consistency with old: true" read2.txt ||
  { cat read2.txt; fail "read (2)"; }
stop

rm -rf data/tiles data/tile-bundles
start --tiles-dir none
[[ $(status /checkpoint) == 404 ]] || fail "tiles served with --tiles-dir none"
stop
[[ ! -e data/tiles && ! -e data/tile-bundles ]] || fail "--tiles-dir none wrote tiles"
echo "tiles e2e: ok"
