#!/bin/bash
# A/B of the GGUF export (q8e unless RECIPE=q8), HF cache, cold: main's Release
# binary vs this branch's, interleaved, GNU time; then whole-file sha256 of
# each binary's output (openssl, SHA extensions).
cd /work/wt/io3
SNAP=/work/scratch/io3/bench-out/hf-cache-20b/models--synthetic--gpt-oss-20b/snapshots/0000000000000000000000000000000000000000
O=/work/scratch/io3/ab; mkdir -p $O
A=${A:-/work/main/build-bench/bin}; B=${B:-build-bench/bin}
case ${RECIPE:-q8e} in q8e) Q="--quant q8 --experts mxfp4" ;; *) Q="--quant ${RECIPE}" ;; esac
EXT=${EXT:-gguf}
echo "start $(date -u +%T) $(uptime)"; vmstat 1 3 | tail -2
for r in $(seq ${RUNS:-2}); do
  for side in A B; do
    bin=${!side}; out=$O/$side.$EXT; rm -f $out
    sync; echo 3 > /proc/sys/vm/drop_caches
    /usr/bin/time -f "$side round $r: %e s wall %U user %S sys %M KiB (load $(cut -d' ' -f1 /proc/loadavg))" \
      $bin/gptoss-convert convert $SNAP -o $out $Q > /dev/null
    if [ "$r" = "${RUNS:-2}" ] && [ -n "$SHA" ]; then echo "$side sha256 $(openssl dgst -sha256 -r $out | cut -c1-64) $(stat -c %s $out)"; fi
    rm -f $out
  done
done
echo "end $(date -u +%T) $(uptime)"
