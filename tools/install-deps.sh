#!/usr/bin/env bash
# Installs the Debian 12 packages Veta builds with, only those missing.
# Usage: tools/install-deps.sh [--tests] [--clang]
#   --tests  adds what the test suite needs
#   --clang  adds clang (clang, clang++), for the thread-safety build (tools/test.sh --thread-safety)
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config protobuf-compiler protobuf-compiler-grpc
  libprotobuf-dev libgrpc++-dev librocksdb-dev libssl-dev libsodium-dev libabsl-dev
  libcpp-httplib-dev prometheus-cpp-dev
  graphviz  # graphviz: `veta lineage --format svg`
  libqrencode-dev)  # `veta certificate --qr`
for arg in "$@"; do
  case "$arg" in
    --tests)
      # python3-jsonschema and python3-rfc3987 (its "uri" format check) validate EPCIS documents.
      packages+=(libgtest-dev libgmock-dev libbenchmark-dev golang-go golang-golang-x-mod-dev
        nginx-light curl
        python3-jsonschema python3-rfc3987
        zbar-tools)  # zbarimg decodes `veta certificate --qr`'s QR codes
      packages+=(chromium) ;;  # the web app's browser tests (tests/web), driven headless
    --clang) packages+=(clang) ;;
    *) echo "install-deps.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

# The web app (tools/build-web.sh): Debian's Node.js and npm, only when no node/npm is on PATH
# (a newer Node installed otherwise is kept).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "veta: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "veta: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
