#!/usr/bin/env bash
# Builds the web app (web/) into web/dist, and web/dist-node/verify.mjs (the browser's
# certificate verifier under node, for the tests). Needs node, npm and protoc
# (tools/install-deps.sh installs them); installs the locked npm packages (web/package-lock.json)
# only when web/node_modules is missing or older than the lockfile. Nothing is fetched at run
# time: the app is static files for `veta-server --web-dir web/dist` (or any web server).
# Usage: [VETA=path/to/veta] tools/build-web.sh [--packages-only]
#   --packages-only: only install the locked npm packages when needed (run.sh does it while the
#   C++ builds), then stop.
#   VETA: a built `veta`; when it has `veta explain --json` (the plain-language table of refusal
#   codes and red flags, core/read/explain), the table is shipped as web/dist/explain.json.
set -euo pipefail
cd "$(dirname "$0")/../web"
for tool in node npm protoc; do
  command -v "$tool" >/dev/null || {
    echo "build-web.sh: '$tool' is not installed (tools/install-deps.sh installs it)" >&2
    exit 1
  }
done
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
[[ "${1:-}" == "--packages-only" ]] && exit 0
node scripts/build.mjs
if [[ -n "${VETA:-}" && -x "${VETA}" ]] && "$VETA" explain --json >dist/explain.json.tmp 2>/dev/null; then
  mv dist/explain.json.tmp dist/explain.json
else
  rm -f dist/explain.json.tmp  # the app then shows codes as they are
fi
