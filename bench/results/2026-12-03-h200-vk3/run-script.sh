#!/usr/bin/env bash
# vk run (h), the final one: conformance on the H200 (cm kernels on); tiny ppl
# Vulkan vs CPU; `bench-gpu` (bench/gpu_bench.sh: ours and llama.cpp CUDA on
# the same weights, R=3); then in the same session, for before/after: pp512 /
# pp2048 with the fp32 tiles (GQ_VK_COOPMAT=0) and pp2048 with the old batch
# of 512 (GQ_MAX_BATCH=512); a pp512 timestamp profile.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq-gpu; mkdir -p $W $W/bin $OUT/bench; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run
( GQ_VK_STATS=1 GQ_CONFORMANCE_SCALE=1 timeout 200 $W/bin/test_backend_conformance vulkan > $OUT/conf.txt 2>&1; echo "conformance rc $?" >> $OUT/conf.txt ) &
cpid=$!
$W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
$W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
wait $cpid; grep -E "FAIL|cases|rc " $OUT/conf.txt >> $X
for be in cpu vulkan; do echo "tiny ppl $be: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend $be 2>&1)" >> $X; done
t0=$(date +%s)
BIN=$W/bin OUT=$OUT/bench R=3 PEER=.gpu/llama-cuda-sm90.tar.xz TOKDIR=$W/models WORK=$W timeout 420 bash bench/gpu_bench.sh 2>> $X
echo "bench-gpu $(( $(date +%s) - t0 )) s rc $?" >> $X
rm -f $OUT/bench/gpu-fixture.log
M=$W/g-20b.gptoss
echo "fp32 tiles pp512: $(GQ_VK_COOPMAT=0 $B bench $M --backend vulkan -p 512 -n 0 -r 3 --json 2>&1)" >> $X
echo "fp32 tiles pp2048: $(GQ_VK_COOPMAT=0 $B bench $M --backend vulkan -p 2048 -n 0 -r 3 --json 2>&1)" >> $X
echo "cm, batch 512 pp2048: $(GQ_MAX_BATCH=512 $B bench $M --backend vulkan -p 2048 -n 0 -r 3 --json 2>&1)" >> $X
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
uptime >> $X
