#!/bin/bash
# q8 from the HF cache: the VBMI path before (v1, per-block scalar step) and after (v2) its rewrite, interleaved, cold
FX=/work/scratch/io2/bench-out/hf-cache-20b/models--synthetic--gpt-oss-20b/snapshots/0000000000000000000000000000000000000000
o=/work/scratch/io2/out.gptoss
echo "start $(date -u +%T) $(uptime)"
for r in 1 2; do for b in /work/wt/io2/build-bench/bin /work/scratch/io2/v2/bin /work/scratch/io2/base-build/bin; do
  rm -f $o; sync; echo 3 > /proc/sys/vm/drop_caches
  l0=$(cut -d' ' -f1 /proc/loadavg)
  t=$(/usr/bin/time -f 'wall %e user %U sys %S rss_kb %M' $b/gptoss-convert convert $FX -o $o --quant q8 2>&1 >/dev/null | tail -1)
  echo "q8 $b load $l0 -> $(cut -d' ' -f1 /proc/loadavg) $t"
done; done
rm -f $o; echo "end $(date -u +%T) $(uptime)"
