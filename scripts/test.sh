#!/usr/bin/env bash
# test.sh - build gptoss-convert and run every test (ctest).
#   scripts/test.sh             warnings as errors, build/ 
#   scripts/test.sh --sanitize  the same tests under AddressSanitizer + UBSan, build-asan/
# Installs missing dependencies first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# macOS: Homebrew's OpenSSL is keg-only (the system has no headers for its own)
if [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null; then
  OPENSSL_ROOT_DIR=${OPENSSL_ROOT_DIR:-$(brew --prefix openssl@3)}
  export OPENSSL_ROOT_DIR
fi
dir=build
flags=(-DGPTOSS_WERROR=ON)
if [ "${1:-}" = --sanitize ]; then
  dir=build-asan
  flags+=(-DGPTOSS_SANITIZE=ON)
  leaks=1
  [ "$(uname -s)" = Darwin ] && leaks=0 # no LeakSanitizer on macOS: ASan stops on detect_leaks=1 there
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
log="$dir/ctest.log"
ctest --test-dir "$dir" --output-on-failure -j"$jobs" 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
# In CI every peer (node, npm packages, python3) is installed by setup.sh, so a
# test that skipped itself (exit 77) hides a broken set-up: fail instead.
# Tests that may legitimately skip there (GPU tests on a machine without one)
# match GQ_ALLOW_SKIP, an extended regex on the test name.
if [ -n "${CI:-}" ] && grep -q "The following tests did not run" "$log"; then
  skipped=$(sed -n '/The following tests did not run/,/^$/p' "$log" | sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\).*/\1/p')
  bad=$(printf '%s\n' $skipped | grep -Ev "${GQ_ALLOW_SKIP:-^$}" || true)
  if [ -n "$bad" ]; then
    echo "test.sh: in CI these tests skipped themselves, so the set-up is broken:" $bad >&2
    exit 1
  fi
fi
