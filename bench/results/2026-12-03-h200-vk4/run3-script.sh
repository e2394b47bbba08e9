#!/usr/bin/env bash
# vk4 run 3 (final): conformance on the H200 (scale 1); tiny ppl Vulkan vs CPU;
# bench-gpu R=3 (bench/gpu_bench.sh of branch vk4: ours and llama.cpp CUDA on the
# same 20b weights, llama-perplexity's t/s from its log's timestamps); then, same
# session: tg128 with main's op sequence (GQ_VK_FUSED=0 GQ_GPU_ROUTE=0), with the
# fused ops, and with GQ_VK_SPIN=1 (alternating, twice); a warm decode and a
# pp2048 timestamp profile.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk4; W=/tmp/gq-gpu; mkdir -p $W $W/bin $OUT/bench; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
[ -d $W/models ] || tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run
( GQ_VK_STATS=1 GQ_CONFORMANCE_SCALE=1 timeout 200 $W/bin/test_backend_conformance vulkan > $OUT/conf.txt 2>&1; echo "conformance rc $?" >> $OUT/conf.txt ) &
cpid=$!
if [ ! -f $W/tiny.gptoss ]; then
  $W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
  $W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
fi
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
wait $cpid; grep -E "FAIL|cases|rc " $OUT/conf.txt >> $X
for be in cpu vulkan; do echo "tiny ppl $be: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend $be 2>&1)" >> $X; done
t0=$(date +%s)
BIN=$W/bin OUT=$OUT/bench R=3 PEER=.gpu/llama-cuda-sm90.tar.xz TOKDIR=$W/models WORK=$W timeout 400 bash $V/bench/gpu_bench.sh 2>> $X
echo "bench-gpu $(( $(date +%s) - t0 )) s rc $?" >> $X
cat $OUT/bench/gpu-nvidia-smi.txt >> $X; rm -f $OUT/bench/gpu-fixture.log $OUT/bench/gpu-nvidia-smi.txt
M=$W/g-20b.gptoss
for i in 1 2; do
  echo "unfused tg128: $(GQ_VK_FUSED=0 GQ_GPU_ROUTE=0 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "fused tg128: $($B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "fused spin tg128: $(GQ_VK_SPIN=1 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
done
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/prof-tg.txt 2>&1
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 2048 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
uptime >> $X
