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

cache=warm
drop() {
  sync
  if [ "$COLD" = 1 ] && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cache=cold; else cache=warm; fi
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
in_bytes=$(stat -c %s "$src"/*.safetensors | awk '{s += $1} END {printf "%.0f\n", s}')
read_floor() {
  drop
  local t0; t0=$(now)
  cat "$src"/*.safetensors "$src"/*.json "$src"/tokenizer* > /dev/null
  echo "$(now) - $t0" | bc -l
}
write_floor() { # bytes
  local n=$1 t0 t
  drop
  t0=$(now)
  head -c "$n" /dev/zero | dd of="$gg.floor" bs=64M iflag=fullblock conv=fsync status=none
  t=$(echo "$(now) - $t0" | bc -l)
  rm -f "$gg.floor"
  echo "$t"
}
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
    fr=$(read_floor); fw=$(write_floor "$out_bytes")
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
