#!/usr/bin/env bash
# vk run (a): timestamp profile of the old kernels (main + profiler) and the
# new decode kernels on the 20b fixture, prefill 512 and decode 64; then a
# bench of the new binary. Outputs under $OUT.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv; nproc; uptime; } > $OUT/setup.log 2>&1
if [ ! -f $W/g-20b.gptoss ]; then
  tar -xJf .gpu/tok.tar.xz -C $W
  t0=$(date +%s)
  .gpu/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models >> $OUT/setup.log 2>&1 || { echo fixture failed; exit 1; }
  .gpu/gptoss-convert convert $W/fixture-20b -o $W/g-20b.gptoss --quant q8 --experts mxfp4 --force -q >> $OUT/setup.log 2>&1 || { echo convert failed; exit 1; }
  echo "fixture+convert $(( $(date +%s) - t0 )) s" >> $OUT/setup.log
fi
M=$W/g-20b.gptoss
for b in old new; do
  t0=$(date +%s)
  GQ_VK_PROFILE=1 GQ_VK_STATS=1 $V/gptoss-run-$b bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/$b-tg.txt 2>&1
  GQ_VK_PROFILE=1 GQ_VK_STATS=1 $V/gptoss-run-$b bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/$b-pp.txt 2>&1
  echo "$b profiles $(( $(date +%s) - t0 )) s" >> $OUT/setup.log
done
$V/gptoss-run-new bench $M --backend vulkan -p 512 -n 128 -r 3 --membw --json > $OUT/new-bench.json 2>> $OUT/setup.log
uptime >> $OUT/setup.log
