#!/usr/bin/env bash
# bench/gguf_bench.sh - `make -f Makefile.bench bench-gguf`: GGUF export of the
# 20b synthetic checkpoint against the same I/O floor as the .gptoss
# conversion (bench/convert.sh: read every input byte once + write the output
# size once, fsynced; page cache dropped first when allowed), and against
# the .gptoss conversion of the same recipe measured in the same run (same
# pipeline, other layout). Medians of RUNS.
#
# Env: BIN, OUT (bench-out), RUNS (3), RECIPES ("q8e q8 q4"; q8e = experts
#      MXFP4 + rest Q8_0, llama.cpp's recipe for gpt-oss), PRESET (20b), COLD (1).
set -euo pipefail
BIN=${BIN:-build-bench/bin}
OUT=${OUT:-bench-out}
RUNS=${RUNS:-3}
RECIPES=${RECIPES:-"q8e q8 q4"}
PRESET=${PRESET:-20b}
COLD=${COLD:-1}
src=$OUT/fixture-$PRESET        # shared with bench-convert
gg=$OUT/gguf-bench.gguf
go=$OUT/gguf-bench.gptoss
json=$OUT/gguf.json
mkdir -p "$OUT"
if [ ! -f "$src/config.json" ]; then
  echo "generating the $PRESET synthetic checkpoint in $src (once)..."
  "$BIN/gptoss-fixture" "$PRESET" -o "$src" --no-sync
fi

. "$(dirname "$0")/io_floor.sh"   # the same floor as bench-convert
in_bytes=$(stat -c %s "$src"/*.safetensors | awk '{s += $1} END {printf "%.0f\n", s}')
convert() { # out args... ; prints seconds, leaves the run's JSON in $OUT/gguf-run.json
  local out=$1 t0; shift
  rm -f "$out"
  drop
  t0=$(now)
  "$BIN/gptoss-convert" convert "$src" -o "$out" "$@" --json > "$OUT/gguf-run.json"
  echo "$(now) - $t0" | bc -l
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %8s %8s %8s %9s %7s %9s %7s %8s\n' recipe gguf_GB floor_s gguf_s gptoss_s ratio vs_gptoss rss_MiB MB/s
echo "[" > "$json.tmp"
first=1
drop   # in this shell, so that $cache reports what the measurements (in subshells) got
for r in $RECIPES; do
  case $r in
    q8e) args=(--quant q8 --experts mxfp4) ;;
    q8) args=(--quant q8) ;;
    q4) args=(--quant q4) ;;
    mxfp4) args=(--quant mxfp4) ;;
    *) echo "unknown recipe $r" >&2; exit 2 ;;
  esac
  ggs=() gos=() floors=() rss=()
  for i in $(seq "$RUNS"); do
    ggs+=("$(convert "$gg" "${args[@]}")")
    rss+=("$(grep -o '"peak_rss_kb":[0-9.]*' "$OUT/gguf-run.json" | cut -d: -f2)")
    out_bytes=$(stat -c %s "$gg")
    rm -f "$gg"
    gos+=("$(convert "$go" "${args[@]}")")
    rm -f "$go"
    fr=$(read_floor "$src"); fw=$(write_floor "$out_bytes" "$gg.floor")
    floors+=("$(echo "$fr + $fw" | bc -l)")
  done
  c=$(printf '%s\n' "${ggs[@]}" | median)
  p=$(printf '%s\n' "${gos[@]}" | median)
  f=$(printf '%s\n' "${floors[@]}" | median)
  m=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
  printf '%-5s %8.2f %8.1f %8.1f %9.1f %7.2f %9.2f %7.0f %8.0f\n' "$r" "$(echo "$out_bytes/1000000000" | bc -l)" "$f" "$c" "$p" \
    "$(echo "$c / $f" | bc -l)" "$(echo "$c / $p" | bc -l)" "$(echo "$m/1024" | bc -l)" \
    "$(echo "($in_bytes + $out_bytes) / $c / 1000000" | bc -l)"
  [ $first = 1 ] || echo "," >> "$json.tmp"
  first=0
  printf '{"recipe":"%s","runs":%d,"cache":"%s","in_bytes":%s,"gguf_bytes":%s,"median_gguf_s":%s,"median_gptoss_s":%s,"median_floor_s":%s,"gguf_over_floor":%s,"gguf_over_gptoss":%s,"peak_rss_kb":%s,"gguf_s":[%s],"gptoss_s":[%s],"floor_s":[%s]}\n' \
    "$r" "$RUNS" "$cache" "$in_bytes" "$out_bytes" "$c" "$p" "$f" "$(printf '%.4f' "$(echo "$c / $f" | bc -l)")" \
    "$(printf '%.4f' "$(echo "$c / $p" | bc -l)")" "$m" \
    "$(IFS=,; echo "${ggs[*]}")" "$(IFS=,; echo "${gos[*]}")" "$(IFS=,; echo "${floors[*]}")" >> "$json.tmp"
done
echo "]" >> "$json.tmp"
mv "$json.tmp" "$json"
echo "page cache: $cache before every measurement; figures in $json"
echo "(ratio = median GGUF conversion / median floor; vs_gptoss = median GGUF / median .gptoss conversion, same run)"
io_floor_cleanup
