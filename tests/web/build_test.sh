#!/usr/bin/env bash
# ctest's fixture for the web tests: builds the web app (tools/build-web.sh) so that they test
# the sources as they are; then the TypeScript type check (the build itself only strips types)
# and its unit tests (web/tests/unit: every locked package accepts Node 18). Skipped (77) without node or npm.
# Usage: build_test.sh REPO_DIR VETA
set -euo pipefail
repo=$1
export VETA=$2
for tool in node npm; do
  command -v "$tool" >/dev/null ||
    { echo "SKIPPED: $tool is not installed (tools/install-deps.sh installs it)" >&2; exit 77; }
done
bash "$repo/tools/build-web.sh"
cd "$repo/web"
npm run --silent typecheck
node --test tests/unit/engines.test.mjs
