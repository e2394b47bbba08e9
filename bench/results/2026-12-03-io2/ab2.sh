#!/bin/bash
# CPU-seconds A/B, main (6b449cf) vs this branch, from the HF cache, cold, interleaved: q8 x2, q4 x1
FX=/work/scratch/io2/bench-out/hf-cache-20b/models--synthetic--gpt-oss-20b/snapshots/0000000000000000000000000000000000000000
o=/work/scratch/io2/out.gptoss
echo "start $(date -u +%T) $(uptime)"; vmstat 1 3 | tail -2
for q in q8 q8 q4; do for b in /work/scratch/io2/base-build/bin /work/wt/io2/build-bench/bin; do
  rm -f $o; sync; echo 3 > /proc/sys/vm/drop_caches
  l0=$(cut -d' ' -f1 /proc/loadavg)
  t=$(/usr/bin/time -f 'wall %e user %U sys %S rss_kb %M' $b/gptoss-convert convert $FX -o $o --quant $q 2>&1 >/dev/null | tail -1)
  echo "$q $b load $l0 -> $(cut -d' ' -f1 /proc/loadavg) $t"
done; done
rm -f $o
echo "end $(date -u +%T) $(uptime)"; vmstat 1 3 | tail -2
