#!/usr/bin/env bash
# vk run (b): conformance on the H200, tiny ppl vulkan vs cpu, then the 20b
# fixture: timestamp profiles (decode 64, prefill 512) and benches.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq; mkdir -p $W; L=$OUT/setup.log
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; uptime; } > $L 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
( GQ_CONFORMANCE_SCALE=1 timeout 150 $V/test_backend_conformance vulkan > $OUT/conformance.txt 2>&1; echo "conformance rc $?" >> $L ) &
cpid=$!
if [ ! -f $W/g-20b.gptoss ]; then
  t0=$(date +%s)
  .gpu/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models >> $L 2>&1 || { echo fixture failed; exit 1; }
  .gpu/gptoss-convert convert $W/fixture-20b -o $W/g-20b.gptoss --quant q8 --experts mxfp4 --force -q >> $L 2>&1 || { echo convert failed; exit 1; }
  echo "fixture+convert $(( $(date +%s) - t0 )) s" >> $L
fi
wait $cpid
# tiny: ppl vulkan == cpu on the real GPU
.gpu/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models >> $L 2>&1
.gpu/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $L 2>&1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
for be in cpu vulkan; do $V/gptoss-run ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend $be > $OUT/tiny-ppl-$be.json 2>>$L; done
M=$W/g-20b.gptoss
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $V/gptoss-run bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/prof-tg.txt 2>&1
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $V/gptoss-run bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
{ $V/gptoss-run bench $M --backend vulkan -p 512 -n 128 -r 3 --membw --json; echo; $V/gptoss-run bench $M --backend vulkan -p 2048 -n 16 -r 2 --json; } > $OUT/bench.json 2>> $L
{ for i in 1 2; do cat docs/*.md README.md; done; } > $W/ppl.txt
timeout 200 $V/gptoss-run ppl $M --backend vulkan --file $W/ppl.txt --ctx 512 --json > $OUT/ppl-20b.json 2>> $L
uptime >> $L
