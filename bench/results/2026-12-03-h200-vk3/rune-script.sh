#!/usr/bin/env bash
# vk run (e): the tensor-core prefill kernels (cm_*, GL_NV_cooperative_matrix)
# on the H200: conformance (cm kernels on), tiny ppl Vulkan (cm on / off) vs
# CPU, 20b ppl on a short text (on / off), bench pp512 / pp2048 (on / off),
# timestamp profile of pp512 (on).
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq-gpu; mkdir -p $W $W/bin; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run
( GQ_VK_STATS=1 GQ_CONFORMANCE_SCALE=1 timeout 200 $W/bin/test_backend_conformance vulkan > $OUT/conf.txt 2>&1; echo "conformance rc $?" >> $OUT/conf.txt ) &
cpid=$!
t0=$(date +%s)
$W/bin/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models >> $X 2>&1 || { echo fixture failed; exit 1; }
$W/bin/gptoss-convert convert $W/fixture-20b -o $W/g-20b.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1 || { echo convert failed; exit 1; }
echo "fixture+convert $(( $(date +%s) - t0 )) s" >> $X
wait $cpid; grep -E "FAIL|cases|rc |tensor|cm_" $OUT/conf.txt >> $X
M=$W/g-20b.gptoss
$W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
$W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
echo "tiny ppl cpu: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend cpu 2>&1)" >> $X
echo "tiny ppl vulkan cm: $(GQ_VK_STATS=1 $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
echo "tiny ppl vulkan fp32: $(GQ_VK_COOPMAT=0 $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
$B bench $M --backend vulkan -p 64 -n 8 -r 1 > /dev/null 2>&1 # warm: pipeline cache, clocks
for cm in 1 0; do
  echo "20b ppl cm=$cm: $(GQ_VK_COOPMAT=$cm $B ppl $M --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
  echo "20b bench cm=$cm: $(GQ_VK_COOPMAT=$cm $B bench $M --backend vulkan -p 512 -n 0 -r 3 --json 2>&1)" >> $X
  echo "20b bench2048 cm=$cm: $(GQ_VK_COOPMAT=$cm $B bench $M --backend vulkan -p 2048 -n 0 -r 2 --json 2>&1)" >> $X
done
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 2048 -n 0 -r 1 > $OUT/prof-pp2048.txt 2>&1
uptime >> $X
