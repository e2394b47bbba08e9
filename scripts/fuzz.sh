#!/usr/bin/env bash
# fuzz.sh [SECONDS] - coverage-guided fuzzing of every parser of untrusted
# bytes with clang's libFuzzer (+ASan+UBSan), SECONDS each (default 60),
# starting from the seed corpora in tests/fuzz/corpus/. Fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang not found (scripts/setup.sh installs it)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DGPTOSS_FUZZ=ON -DGPTOSS_WERROR=ON >/dev/null
targets=$(cmake --build build-fuzz --target help | sed -n 's/^\.\.\. \(.*-libfuzzer\)$/\1/p')
[ -n "$targets" ] || { echo "fuzz: no fuzz targets"; exit 0; }
cmake --build build-fuzz -j"$(getconf _NPROCESSORS_ONLN)" --target $targets
for t in $targets; do
  name=${t%-libfuzzer}
  work=build-fuzz/corpus-$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  build-fuzz/bin/"$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 "$work" 2>build-fuzz/"$name".log \
    || { tail -40 build-fuzz/"$name".log; echo "fuzz: $name FAILED (reproducer in build-fuzz/)"; exit 1; }
  grep -E 'stat::number_of_executed_units' build-fuzz/"$name".log || true
done
echo "fuzz: all targets ran ${secs}s each without a finding"
