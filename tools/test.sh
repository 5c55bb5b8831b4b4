#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test (ctest).
# Usage: tools/test.sh [--sanitize | --thread-safety]
#   --sanitize       build and test under ASan + UBSan
#   --thread-safety  build the libraries and programs with clang's thread-safety analysis
#                    (VETA_THREAD_SAFETY: a guarded member used without its lock does not
#                    compile) in build-tsa; no tests are built or run
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--thread-safety" ]]; then
  bash tools/install-deps.sh --clang
  # The analysis is in the front end: no optimisation, no debug info, to keep the build cheap.
  CC=clang CXX=clang++ cmake -S . -B build-tsa -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DVETA_THREAD_SAFETY=ON -DVETA_WERROR=ON -DVETA_BUILD_TESTS=OFF \
    -DVETA_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build build-tsa -j "$(nproc)"
  exit 0
fi

bash tools/install-deps.sh --tests
dir=build-test
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g")
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DVETA_SANITIZE=ON -DVETA_BUILD_BENCHMARKS=OFF)
  export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
# VETA_WERROR=ON (set by .ci/run): warnings are errors in our own targets.
flags+=("-DVETA_WERROR=${VETA_WERROR:-OFF}")
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
# The web app, for its tests (tests/web); without node the C++ suite still runs and the web
# tests say why they are skipped.
if command -v node >/dev/null && command -v npm >/dev/null; then
  VETA=$(pwd)/$dir/client/veta bash tools/build-web.sh
else
  echo "test.sh: node/npm not found: the web app is not built, its tests are skipped" >&2
fi
cd "$dir"
ctest --output-on-failure -j "$(nproc)" --timeout 600
