#!/usr/bin/env bash
# vk run (g): cm tiles of 2 blocks a step (CM_NB 2): conformance, tiny ppl vs
# CPU, 20b ppl short text, bench pp512 / pp2048; pp2048 with prefill batches of
# 1024 and 2048 (GQ_MAX_BATCH); profile pp512.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq-gpu; mkdir -p $W $W/bin; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run
( GQ_VK_STATS=1 GQ_CONFORMANCE_SCALE=1 timeout 200 $W/bin/test_backend_conformance vulkan > $OUT/conf.txt 2>&1; echo "conformance rc $?" >> $OUT/conf.txt ) &
cpid=$!
$W/bin/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models >> $X 2>&1 || { echo fixture failed; exit 1; }
$W/bin/gptoss-convert convert $W/fixture-20b -o $W/g-20b.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1 || { echo convert failed; exit 1; }
wait $cpid; grep -E "FAIL|cases|rc " $OUT/conf.txt >> $X
M=$W/g-20b.gptoss
$W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
$W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
echo "tiny ppl cpu: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend cpu 2>&1)" >> $X
echo "tiny ppl vulkan cm: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
$B bench $M --backend vulkan -p 64 -n 8 -r 1 > /dev/null 2>&1
echo "20b ppl: $($B ppl $M --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
echo "20b bench: $($B bench $M --backend vulkan -p 512 -n 0 -r 3 --json 2>&1)" >> $X
echo "20b bench2048: $($B bench $M --backend vulkan -p 2048 -n 0 -r 2 --json 2>&1)" >> $X
for mb in 1024 2048; do
echo "20b bench2048 batch $mb: $(GQ_MAX_BATCH=$mb $B bench $M --backend vulkan -p 2048 -n 0 -r 2 --json 2>&1)" >> $X
done
GQ_VK_PROFILE=1 $B bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
GQ_MAX_BATCH=2048 GQ_VK_PROFILE=1 $B bench $M --backend vulkan -p 2048 -n 0 -r 1 > $OUT/prof-pp2048-b2048.txt 2>&1
uptime >> $X
