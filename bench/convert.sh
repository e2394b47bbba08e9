#!/usr/bin/env bash
# bench/convert.sh - `make -f Makefile.bench bench-convert`: convert the 20b
# synthetic checkpoint with each recipe, from both source layouts, against the
# I/O floor measured in the same run (bench/io_floor.sh: the faster of buffered
# and O_DIRECT I/O; floor = min(read all input + write the output size, both
# at once)).
#
# Interleaved rounds, so that the machine's load (it is shared) hits every
# side alike: each round measures the read floor, then per recipe the
# conversion from each layout (and from BASE_BIN when given), then the write
# and copy floors for that output size. Medians over RUNS rounds; every
# conversion runs under GNU time (wall, user, sys, peak RSS) and the 1-minute
# load average is logged before and after each.
#
# Env: BIN (built programs), OUT (bench-out), RUNS (3), RECIPES ("mxfp4 q8 q4"),
#      LAYOUTS ("cache dir": an HF cache snapshot of the fixture, as after
#      `gptoss-convert fetch`, where the shards' sha256 are the blob names; the
#      plain folder, where the converter sha256s the 13.8 GB itself; also
#      "local": the plain folder as `hf download --local-dir` leaves it, with
#      huggingface_hub's records in .cache/huggingface/download, whose etags
#      give the shards' sha256),
#      PRESET (20b), FIXTURE (the checkpoint folder; default $OUT/fixture-$PRESET,
#      generated once), COLD (1: cold page cache before every measurement),
#      BASE_BIN (optional: another build's bin/, e.g. of the code before a
#      change, converted in the same rounds; BASE_RECIPES limits it),
#      THREADS (-j for the converter; default: all cores),
#      FORMATS ("gptoss"; "gguf gptoss" is bench-gguf: the GGUF export against
#      the .gptoss conversion of the same recipe, same rounds), BENCH_NAME
#      (convert: the figures go to $OUT/$BENCH_NAME.json).
set -euo pipefail
BIN=${BIN:-build-bench/bin}
OUT=${OUT:-bench-out}
RUNS=${RUNS:-3}
RECIPES=${RECIPES:-"mxfp4 q8 q4"}
LAYOUTS=${LAYOUTS:-"cache dir"}
PRESET=${PRESET:-20b}
COLD=${COLD:-1}
BASE_BIN=${BASE_BIN:-}
BASE_RECIPES=${BASE_RECIPES:-$RECIPES}
FORMATS=${FORMATS:-gptoss}
BENCH_NAME=${BENCH_NAME:-convert}
src=${FIXTURE:-$OUT/fixture-$PRESET}
dst=$OUT/$BENCH_NAME-bench
json=$OUT/$BENCH_NAME.json
tsv=$OUT/$BENCH_NAME.tsv
mkdir -p "$OUT"
export FLOOR_LOG=$OUT/$BENCH_NAME-floor.log
: > "$FLOOR_LOG"

if [ ! -f "$src/config.json" ]; then
  echo "generating the $PRESET synthetic checkpoint in $src (once)..."
  "$BIN/gptoss-fixture" "$PRESET" -o "$src" --no-sync
fi
# hard links: the HF cache layout costs no space; built once (hashing the shards once)
repo=$OUT/hf-cache-$PRESET/models--synthetic--gpt-oss-$PRESET
snap=$repo/snapshots/0000000000000000000000000000000000000000
if [[ " $LAYOUTS " == *" cache "* ]] && [ ! -f "$snap/config.json" ]; then
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
# the local-dir layout: hard links again, plus the records (commit, etag =
# the LFS file's sha256, time) that huggingface_hub writes after a download
ldir=$OUT/local-dir-$PRESET
if [[ " $LAYOUTS " == *" local "* ]] && [ ! -f "$ldir/config.json" ]; then
  echo "laying $src out as an hf download --local-dir folder in $ldir (once)..."
  mkdir -p "$ldir/.cache/huggingface/download"
  for f in "$src"/*; do
    b=$(basename "$f")
    ln -f "$f" "$ldir/$b"
    if [ -L "$snap/$b" ]; then h=$(basename "$(readlink "$snap/$b")") # the cache's blob name: the same hash
    else case $b in *.safetensors) h=$(sha256sum "$f" | cut -c1-64) ;; *) h=$(sha1sum "$f" | cut -c1-40) ;; esac; fi
    printf '%s\n%s\n%s\n' 0000000000000000000000000000000000000000 "$h" "$(date +%s.%N)" \
      > "$ldir/.cache/huggingface/download/$b.metadata"
  done
fi

. "$(dirname "$0")/io_floor.sh"
shards=("$src"/*.safetensors)
in_bytes=$(stat -c %s "${shards[@]}" | awk '{s += $1} END {printf "%.0f", s}')
recipe_args() {
  case $1 in
    mxfp4) echo "--quant mxfp4" ;;
    q8) echo "--quant q8" ;;
    q4) echo "--quant q4" ;;
    q8e) echo "--quant q8 --experts mxfp4" ;;
    *) echo "unknown recipe $1" >&2; exit 2 ;;
  esac
}
layout_src() { case $1 in cache) echo "$snap" ;; local) echo "$ldir" ;; *) echo "$src" ;; esac; }

# one conversion: appends "kind recipe layout round wall user sys rss load0 load1 bytes values" to the TSV
convert_one() { # kind bin recipe layout round format
  local kind=$1 bin=$2 r=$3 lay=$4 round=$5 out=$dst.$6 l0 l1 t
  rm -f "$out"
  drop
  l0=$(load)
  # shellcheck disable=SC2046
  timed "$OUT/time.txt" "$bin/gptoss-convert" convert "$(layout_src "$lay")" -o "$out" $(recipe_args "$r") \
    ${THREADS:+-j "$THREADS"} --json > "$OUT/convert-run.json"
  l1=$(load)
  read -r w u s m < "$OUT/time.txt"
  t=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["file_bytes"], sum(c["values"] for c in j["classes"].values()))' "$OUT/convert-run.json")
  echo "$kind $r $lay $round $w $u $s $m $l0 $l1 $t" >> "$tsv"
  echo "  $kind $r from $lay: ${w} s wall, ${u} s user, ${s} s sys, $((m / 1024)) MiB, load $l0 -> $l1"
  out_bytes=${t%% *}
  rm -f "$out"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$tsv"
for round in $(seq "$RUNS"); do
  echo "round $round of $RUNS ($(date -u +%H:%M:%S) UTC)"
  rf=$(read_floor "${shards[@]}")
  for r in $RECIPES; do
    out_bytes=0
    floor_bytes=0
    for lay in $LAYOUTS; do
      for fmt in $FORMATS; do
        convert_one "$fmt" "$BIN" "$r" "$lay" "$round" "$fmt"
        [ "$floor_bytes" != 0 ] || floor_bytes=$out_bytes # the first format's size sets the floor
        if [ -n "$BASE_BIN" ] && [[ " $BASE_RECIPES " == *" $r "* ]]; then
          convert_one "base-$fmt" "$BASE_BIN" "$r" "$lay" "$round" "$fmt"
        fi
      done
    done
    out_bytes=$floor_bytes
    wf=$(write_floor "$out_bytes" "$dst.floor")
    cf=$(copy_floor "$out_bytes" "$dst.floor" "${shards[@]}")
    f=$(floor_of "$rf" "$wf" "$cf")
    echo "floor $r - $round $f $rf $wf $cf $(load) $(load) $out_bytes 0" >> "$tsv"
    echo "  floor for $r: $f s (read $rf + write $wf = $(echo "$rf + $wf" | bc -l | cut -c1-6), both at once $cf)"
  done
done
rm -f "$dst".* "$dst.floor"

python3 - "$tsv" "$json" "$in_bytes" "$cache" "$(nproc)" "$BENCH_NAME" <<'PY'
import json, statistics as st, sys
tsv, out, in_bytes, cache, ncpu, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
rows = [l.split() for l in open(tsv) if l.strip()]
floors, runs = {}, {}
for k, r, lay, rnd, w, u, s, m, l0, l1, b, v in rows:
    if k == "floor":
        floors.setdefault(r, []).append(dict(floor=float(w), read=float(u), write=float(s), copy=float(m)))
    else:
        runs.setdefault((k, r, lay), []).append(dict(wall=float(w), user=float(u), sys=float(s), rss=int(m),
                                                   load0=float(l0), load1=float(l1), bytes=int(b), values=int(v)))
res = []
print("%-12s %-6s %-5s %8s %8s %8s %7s %7s %7s %8s %11s %s" % ("kind", "recipe", "src", "out_GB", "floor_s", "conv_s",
      "ratio", "user_s", "sys_s", "rss_MiB", "load", "Mvalues/s/CPU-s"))
for (k, r, lay), xs in runs.items():
    fl = floors[r]
    f = st.median(x["floor"] for x in fl)
    w = st.median(x["wall"] for x in xs)
    u = st.median(x["user"] for x in xs)
    s_ = st.median(x["sys"] for x in xs)
    vals = xs[0]["values"]
    loads = [x["load0"] for x in xs] + [x["load1"] for x in xs]
    d = dict(kind=k, recipe=r, layout=lay, runs=len(xs), cache=cache, in_bytes=in_bytes, out_bytes=xs[0]["bytes"],
             median_wall_s=w, median_floor_s=f, ratio=w / f, median_user_s=u, median_sys_s=s_,
             peak_rss_kb=max(x["rss"] for x in xs), load_min=min(loads), load_max=max(loads), values=vals,
             values_per_cpu_s=vals / (u + s_), values_per_user_s=vals / u, wall_s=[x["wall"] for x in xs],
             floor_s=[x["floor"] for x in fl], read_floor_s=[x["read"] for x in fl],
             write_floor_s=[x["write"] for x in fl], copy_floor_s=[x["copy"] for x in fl])
    res.append(d)
    print("%-12s %-6s %-5s %8.2f %8.1f %8.1f %7.2f %7.1f %7.1f %8.0f %5.1f-%-5.1f %.0f" % (k, r, lay, d["out_bytes"] / 1e9, f,
          w, w / f, u, s_, d["peak_rss_kb"] / 1024, d["load_min"], d["load_max"], vals / (u + s_) / 1e6))
# the GGUF export against the .gptoss conversion of the same recipe and source (same rounds)
for d in res:
    if d["kind"] == "gguf":
        g = [e for e in res if e["kind"] == "gptoss" and e["recipe"] == d["recipe"] and e["layout"] == d["layout"]]
        if g:
            d["gguf_over_gptoss"] = d["median_wall_s"] / g[0]["median_wall_s"]
            print("gguf / gptoss, %s from %s: %.3f (median wall %.1f s vs %.1f s)" % (d["recipe"], d["layout"],
                  d["gguf_over_gptoss"], d["median_wall_s"], g[0]["median_wall_s"]))
json.dump(dict(bench=name, cpus=ncpu, results=res), open(out, "w"), indent=1)
PY
echo "page cache: $cache before every measurement; figures in $json, raw rows in $tsv, floor details in $FLOOR_LOG"
echo "(ratio = median wall / median floor; floor = min(read + write, read and write at once), each the faster of buffered and O_DIRECT)"
