#!/usr/bin/env bash
# bench/convert.sh - `make -f Makefile.bench bench-convert`: convert the 20b
# synthetic checkpoint with each recipe and compare with the I/O floor
# measured in the same run (read every input byte once + write every output
# byte once, fsynced like the converter's output).
#
# Env: BIN (built programs), OUT (bench-out), RUNS (3), RECIPES ("mxfp4 q8 q4"),
#      PRESET (20b), COLD (1: drop the page cache before every measurement
#      when /proc/sys/vm/drop_caches is writable; 0: leave it),
#      SRC_MODE (cache: convert from a Hugging Face cache snapshot of the
#      fixture, as after `gptoss-convert fetch`, where the shards' sha256 is
#      the blob name; dir: the plain directory, where the converter must
#      hash 13.8 GB before it can write the header).
set -euo pipefail
BIN=${BIN:-build-bench/bin}
OUT=${OUT:-bench-out}
RUNS=${RUNS:-3}
RECIPES=${RECIPES:-"mxfp4 q8 q4"}
PRESET=${PRESET:-20b}
COLD=${COLD:-1}
src=$OUT/fixture-$PRESET
dst=$OUT/convert-bench.gptoss
json=$OUT/convert.json
mkdir -p "$OUT"

if [ ! -f "$src/config.json" ]; then
  echo "generating the $PRESET synthetic checkpoint in $src (once)..."
  "$BIN/gptoss-fixture" "$PRESET" -o "$src" --no-sync
fi

SRC_MODE=${SRC_MODE:-cache}
conv_src=$src
if [ "$SRC_MODE" = cache ]; then
  # hard links: the cache costs no space; built once (hashing the shards once)
  repo=$OUT/hf-cache-$PRESET/models--synthetic--gpt-oss-$PRESET
  snap=$repo/snapshots/0000000000000000000000000000000000000000
  if [ ! -f "$snap/config.json" ]; then
    echo "laying $src out as an HF cache snapshot in $repo (once)..."
    mkdir -p "$repo/blobs" "$snap" "$repo/refs"
    echo 0000000000000000000000000000000000000000 > "$repo/refs/main"
    for f in "$src"/*; do
      b=$(basename "$f")
      case $b in *.safetensors) h=$(sha256sum "$f" | cut -c1-64) ;; *) h=$(sha1sum "$f" | cut -c1-40) ;; esac
      ln -f "$f" "$repo/blobs/$h"
      ln -sfn "../../blobs/$h" "$snap/$b"
    done
  fi
  conv_src=$snap
fi

. "$(dirname "$0")/io_floor.sh"
in_bytes=$(stat -c %s "$src"/*.safetensors | awk '{s += $1} END {printf "%.0f", s}')

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
printf '%-6s %9s %9s %9s %9s %8s %9s %9s\n' recipe out_GB floor_s conv_s MB/s ratio rss_MiB hash_s
echo "[" > "$json.tmp"
first=1
for r in $RECIPES; do
  case $r in
    mxfp4) args=(--quant mxfp4) ;;
    q8) args=(--quant q8) ;;
    q4) args=(--quant q4) ;;
    q8e) args=(--quant q8 --experts mxfp4) ;;
    *) echo "unknown recipe $r" >&2; exit 2 ;;
  esac
  convs=() rss=() hashes=() floors=()
  out_bytes=0
  runs_var=RUNS_$r
  runs=${!runs_var:-$RUNS}   # e.g. RUNS_q4=1 when time is short
  for i in $(seq "$runs"); do
    rm -f "$dst"
    drop
    t0=$(now)
    "$BIN/gptoss-convert" convert "$conv_src" -o "$dst" "${args[@]}" --json > "$OUT/convert-run.json"
    t=$(echo "$(now) - $t0" | bc -l)
    convs+=("$t")
    rss+=("$(grep -o '"peak_rss_kb":[0-9.]*' "$OUT/convert-run.json" | cut -d: -f2)")
    hashes+=("$(grep -o '"hash_wait_seconds":[0-9.e-]*' "$OUT/convert-run.json" | cut -d: -f2)")
    out_bytes=$(stat -c %s "$dst")
    rm -f "$dst"
    # the floor for this recipe: read all input once + write this output size once
    fr=$(read_floor "$src"); fw=$(write_floor "$out_bytes" "$dst.floor")
    floors+=("$(echo "$fr + $fw" | bc -l)")
  done
  c=$(printf '%s\n' "${convs[@]}" | median)
  f=$(printf '%s\n' "${floors[@]}" | median)
  m=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
  h=$(printf '%s\n' "${hashes[@]}" | median)
  ratio=$(echo "$c / $f" | bc -l)
  mbps=$(echo "($in_bytes + $out_bytes) / $c / 1000000" | bc -l)
  printf '%-6s %9.2f %9.1f %9.1f %9.0f %8.2f %9.0f %9.1f\n' "$r" "$(echo "$out_bytes/1000000000" | bc -l)" "$f" "$c" "$mbps" \
    "$ratio" "$(echo "$m/1024" | bc -l)" "$h"
  [ $first = 1 ] || echo "," >> "$json.tmp"
  first=0
  printf '{"recipe":"%s","runs":%d,"cache":"%s","src_mode":"'"$SRC_MODE"'","in_bytes":%s,"out_bytes":%s,"median_convert_s":%s,"median_floor_s":%s,"ratio":%s,"peak_rss_kb":%s,"median_hash_wait_s":%s,"convert_s":[%s],"floor_s":[%s]}\n' \
    "$r" "$runs" "$cache" "$in_bytes" "$out_bytes" "$c" "$f" "$ratio" "$m" "$h" \
    "$(IFS=,; echo "${convs[*]}")" "$(IFS=,; echo "${floors[*]}")" >> "$json.tmp"
  { cat "$json.tmp"; echo "]"; } > "$json"   # complete after every recipe
done
rm -f "$json.tmp"
io_floor_cleanup
echo "page cache: $cache before every measurement; source: $SRC_MODE ($conv_src); figures in $json"
echo "(ratio = median conversion wall time / median floor; floor = read every input byte once + write the output size once, fsynced)"
