#!/usr/bin/env bash
# test.sh - build gptoss-convert and run every test (ctest).
#   scripts/test.sh             warnings as errors, build/ 
#   scripts/test.sh --sanitize  the same tests under AddressSanitizer + UBSan, build-asan/
# Installs missing dependencies first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dir=build
flags=(-DGPTOSS_WERROR=ON)
if [ "${1:-}" = --sanitize ]; then
  dir=build-asan
  flags+=(-DGPTOSS_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
ctest --test-dir "$dir" --output-on-failure -j"$jobs"
