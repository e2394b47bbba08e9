#!/usr/bin/env bash
# fixtures.sh - see bench/fixtures.mk. Needs BIN and OUT (Makefile.bench
# exports them), GNU time and dd. Writes $OUT/fixtures.json.
set -euo pipefail
BIN=${BIN:-build-bench/bin} OUT=${OUT:-bench-out} RUNS=${FIX_RUNS:-3}
mkdir -p "$OUT"
dir="$OUT/fixture-20b" floor="$OUT/fixture-floor.bin"
trap 'rm -rf "$dir" "$floor"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
bytes=$("$BIN/gptoss-fixture" 20b -o "$dir" --dry-run --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["safetensors_bytes"])')
: > "$OUT/fixture-times" ; : > "$OUT/fixture-rss" ; : > "$OUT/floor-times" ; : > "$OUT/fixture-cpu"
for r in $(seq "$RUNS"); do
  rm -rf "$dir" "$floor"
  # floor: the same bytes, one sequential O_DIRECT writer, synced
  /usr/bin/time -f "%e" -o "$OUT/t" dd if=/dev/zero of="$floor" bs=4M count=$(( (bytes + 4194303) / 4194304 )) \
    oflag=direct conv=fsync status=none
  cat "$OUT/t" >> "$OUT/floor-times"; rm -f "$floor"
  /usr/bin/time -f "%e %M %U %S" -o "$OUT/t" "$BIN/gptoss-fixture" 20b -o "$dir" --json > "$OUT/fixture-run.json"
  read -r secs rss usr sys < "$OUT/t"
  echo "$secs" >> "$OUT/fixture-times"; echo "$rss" >> "$OUT/fixture-rss"
  echo "$usr $sys" | awk '{print $1 + $2}' >> "$OUT/fixture-cpu"
  echo "run $r: gptoss-fixture 20b $secs s (CPU ${usr} s user + ${sys} s sys, RSS $((rss / 1024)) MiB)," \
       "floor $(tail -1 "$OUT/floor-times") s, load average $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')"
done
fx=$(median < "$OUT/fixture-times") fl=$(median < "$OUT/floor-times") rss=$(sort -g "$OUT/fixture-rss" | tail -1)
cpu=$(median < "$OUT/fixture-cpu")
threads=$(python3 -c 'import json; print(json.load(open("'"$OUT/fixture-run.json"'"))["threads"])')
python3 - "$OUT/fixtures.json" "$bytes" "$fx" "$fl" "$rss" "$RUNS" "$threads" "$cpu" <<'PY'
import json, sys, platform, os
out, b, fx, fl, rss, runs, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
cpu = float(sys.argv[8])
r = {"bench": "fixtures-20b", "bytes": b, "runs": runs, "threads": threads,
     "median_s": fx, "gb_per_s": b / fx / 1e9, "floor_median_s": fl, "floor_gb_per_s": b / fl / 1e9,
     "ratio_to_floor": fx / fl, "peak_rss_mib": rss / 1024, "median_cpu_s": cpu, "cpus": os.cpu_count(), "machine": platform.machine()}
json.dump(r, open(out, "w"), indent=2)
print("gptoss-fixture 20b: median %.1f s (%.2f GB/s), floor (dd O_DIRECT+fsync) %.1f s (%.2f GB/s), "
      "ratio %.2fx, CPU %.1f s, peak RSS %.0f MiB, %d threads" % (fx, b / fx / 1e9, fl, b / fl / 1e9, fx / fl, cpu, rss / 1024, threads))
PY
rm -f "$OUT/t" "$OUT/fixture-times" "$OUT/fixture-rss" "$OUT/floor-times" "$OUT/fixture-cpu" "$OUT/fixture-run.json"
