#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs each for a bounded
# time over a copy of its seed corpus (tests/fuzz/corpus/<target>, left unchanged). Prints, per
# target, the CPU time fuzzed, the executions and whether it crashed; exits non-zero if any did.
# Needs no terminal (CI).
#
# Usage: tools/fuzz.sh [--seconds N] [--target NAME] [--jobs N]
#   --seconds N   fuzzing time per target (default 30)
#   --target NAME only this target (default: all)
#   --jobs N      build parallelism (default 2)
# Crash reproducers and logs: build-fuzz/fuzz-out/<target>/ (crash-*, leak-*, timeout-*, oom-*;
# log). Reproduce one with: build-fuzz/tests/fuzz/<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(fuzz_envelope fuzz_entry fuzz_proof fuzz_geojson fuzz_csv fuzz_note fuzz_rules)
seconds=30
only=""
jobs=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --target) only="${2:?--target needs a value}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds wants a positive integer" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs wants a positive integer" >&2; exit 2; }
if [[ -n "$only" ]]; then
  found=0
  for t in "${targets[@]}"; do [[ "$t" == "$only" ]] && found=1; done
  [[ $found -eq 1 ]] || { echo "fuzz.sh: no target '$only'; targets: ${targets[*]}" >&2; exit 2; }
  targets=("$only")
fi

# Dependencies: the project's (the fuzzers live in the test tree), then clang and its runtimes.
bash tools/install-deps.sh --tests
missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "fuzz.sh: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "fuzz.sh: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVETA_FUZZ=ON -DVETA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"

# Sanitizer reports with symbols; UBSan stops at the first error (a crash for libFuzzer).
for s in /usr/bin/llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer; do
  if [[ -x "$s" ]]; then export ASAN_SYMBOLIZER_PATH="$s"; break; fi
done
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# fuzz_rules keeps a ledger in $TMPDIR: memory (/dev/shm) when there is one, so that its
# synced writes do not bound the rate.
scratch_parent=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && scratch_parent=/dev/shm
scratch=$(mktemp -d "$scratch_parent/veta-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

out=build-fuzz/fuzz-out
failed=()
summary=()
for t in "${targets[@]}"; do
  dir="$out/$t"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [[ -d "tests/fuzz/corpus/$t" ]]; then cp -R "tests/fuzz/corpus/$t/." "$dir/corpus/"; fi
  echo "fuzz.sh: $t for ${seconds}s ..." >&2
  rc=0
  TIMEFORMAT='%3U %3S %3R'
  { time TMPDIR="$scratch" "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" \
      -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
      -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1; } 2>"$dir/time" || rc=$?
  read -r user sys real <"$dir/time" || true
  cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.1f", u + s }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$dir/log" | tail -1)
  if [[ -z "$execs" ]]; then  # no final stats: take the last progress line
    execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$dir/log" | tail -1)
  fi
  artifacts=$(find "$dir/artifacts" -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  result=ok
  if [[ $rc -ne 0 || -n "$artifacts" ]]; then
    result="CRASH (exit $rc)"
    failed+=("$t")
  fi
  summary+=("$(printf '%-14s %8s %10s %8s %6s  %s' "$t" "$cpu" "${execs:-?}" "${rate:-?}" \
    "${added:-?}" "$result")")
  if [[ "$result" != ok ]]; then
    echo "---- $t: $result; log: $dir/log" >&2
    grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|invariant violated|deadly signal' \
      "$dir/log" >&2 || tail -40 "$dir/log" >&2
    for a in $artifacts; do echo "reproducer: $a  (run: build-fuzz/tests/fuzz/$t $a)" >&2; done
  fi
done

echo
printf '%-14s %8s %10s %8s %6s  %s\n' target cpu_s execs exec/s new result
for line in "${summary[@]}"; do echo "$line"; done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: crashes in ${failed[*]} (reproducers under $out/<target>/artifacts)" >&2
  exit 1
fi
