#!/usr/bin/env bash
# gguf_bench.sh - see bench/gguf.mk. Prints medians and writes $OUT/gguf.json.
#
# Floor: reading every source byte (cat of the shards, page cache as the
# conversion finds it: the runs alternate, so each one sees the same state)
# plus writing the output's byte count with fsync (dd conv=fsync). The
# conversion cannot beat read + write of its bytes on this disk; the ratio
# conversion / floor says how much of the time is ours.
set -euo pipefail
: "${BIN:?}" "${OUT:?}" "${FIX20B:?}" "${RUNS:=3}"
mkdir -p "$OUT"
if [ ! -f "$FIX20B/config.json" ]; then
  echo "creating the 20b synthetic checkpoint in $FIX20B (13.8 GB)"
  "$BIN/gptoss-fixture" 20b -o "$FIX20B" --no-sync
fi
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
src_bytes=$(cat "$FIX20B"/*.safetensors | wc -c)
gg="$OUT/bench-20b.gguf"; go="$OUT/bench-20b.gptoss"; fl="$OUT/bench-floor.bin"
: > "$OUT/gguf.times"
for r in $(seq 1 "$RUNS"); do
  t0=$(now); cat "$FIX20B"/*.safetensors > /dev/null; t1=$(now)
  echo "read $(echo "$t1 - $t0" | bc)" >> "$OUT/gguf.times"
  t0=$(now); "$BIN/gptoss-convert" convert "$FIX20B" -o "$gg" --quant q8 --experts mxfp4 --force -q; t1=$(now)
  echo "gguf $(echo "$t1 - $t0" | bc)" >> "$OUT/gguf.times"
  gg_bytes=$(stat -c %s "$gg" 2>/dev/null || stat -f %z "$gg")
  rm -f "$gg"
  t0=$(now); "$BIN/gptoss-convert" convert "$FIX20B" -o "$go" --quant q8 --experts mxfp4 --force -q; t1=$(now)
  echo "gptoss $(echo "$t1 - $t0" | bc)" >> "$OUT/gguf.times"
  go_bytes=$(stat -c %s "$go" 2>/dev/null || stat -f %z "$go")
  rm -f "$go"
  t0=$(now); dd if=/dev/zero of="$fl" bs=64M count=$(( (gg_bytes + 67108863) / 67108864 )) conv=fsync status=none; t1=$(now)
  echo "write $(echo "$t1 - $t0" | bc)" >> "$OUT/gguf.times"
  rm -f "$fl"
done
m() { grep "^$1 " "$OUT/gguf.times" | cut -d' ' -f2 | median; }
read_s=$(m read); write_s=$(m write); gguf_s=$(m gguf); gptoss_s=$(m gptoss)
floor_s=$(echo "$read_s + $write_s" | bc -l)
cat > "$OUT/gguf.json" <<JSON
{"bench":"gguf","runs":$RUNS,"source_bytes":$src_bytes,"gguf_bytes":$gg_bytes,"gptoss_bytes":$go_bytes,
 "median_s":{"gguf":$gguf_s,"gptoss":$gptoss_s,"floor_read":$read_s,"floor_write":$write_s,"floor":$floor_s},
 "gguf_over_floor":$(echo "$gguf_s / $floor_s" | bc -l | cut -c1-6),
 "gguf_over_gptoss":$(echo "$gguf_s / $gptoss_s" | bc -l | cut -c1-6)}
JSON
cat "$OUT/gguf.json"
