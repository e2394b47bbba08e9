#!/usr/bin/env bash
# vk4 run 2 (profile, top-k inside gate_up, fa merged): conformance on the H200 (scale 1);
# the top-k inside gate_up; tiny ppl Vulkan vs CPU; 20b: a warm decode timestamp profile with
# the fused ops and one without (GQ_VK_FUSED=0 GQ_GPU_ROUTE=0: the op sequence
# of main), then tg128 after pp512, R=3, both ways, alternating.
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
( log() { echo "[$(date +%T)] $*" >&2; }; BIN=$W/bin OUT=$OUT/bench TOKDIR=$W/models; . $V/bench/gpu_common.sh
  gpu_models 20b $W/fixture-20b $W/g-20b.gptoss $W/g-20b.gguf gpu ) 2>> $X
wait $cpid; grep -E "FAIL|cases|rc " $OUT/conf.txt >> $X
for be in cpu vulkan; do echo "tiny ppl $be: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend $be 2>&1)" >> $X; done
echo "tiny ppl vulkan unfused: $(GQ_VK_FUSED=0 GQ_GPU_ROUTE=0 $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
M=$W/g-20b.gptoss
$B bench $M --backend vulkan -p 512 -n 128 -r 1 > /dev/null 2>&1  # warm-up: clocks (run 1's first profile ran cold)
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/prof-tg.txt 2>&1
GQ_VK_FUSED=0 GQ_GPU_ROUTE=0 GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/prof-tg-unfused.txt 2>&1
for i in 1 2; do
  echo "fused tg128: $($B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "unfused tg128: $(GQ_VK_FUSED=0 GQ_GPU_ROUTE=0 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
done
echo "fused, moe_route tg128: $(GQ_GPU_ROUTE=0 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
uptime >> $X
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 2048 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1; rm -f $OUT/bench/gpu-fixture.log
