#!/usr/bin/env bash
# vk5 run 3 (warm machine after run 2): conformance linear at scale 1 with the
# default kernels (is run 2's q4_32 n=130 failure the variants'?), then the full
# 20b (24 layers): tg128 default vs chosen, alternating twice.
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
W=/tmp/gq-gpu; B=$W/bin/gptoss-run; C=$W/bin/test_backend_conformance; X=$OUT/extra3.txt
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
best=(GQ_VK_MV=r2 GQ_VK_MV_HEAD=r4 GQ_VK_MOE_GU=u2 GQ_VK_MOE_DN=w64r1)
GQ_CONFORMANCE_ONLY=linear GQ_CONFORMANCE_SCALE=1 timeout 40 $C vulkan > $OUT/conf-linear-default.txt 2>&1
echo "conformance linear default: rc $? $(grep -E "cases|FAIL" $OUT/conf-linear-default.txt | tr '\n' ' ') ($(el) s)" >> $X
rm -f $W/g-20b-l8.gptoss
$W/bin/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
M=$W/g-20b.gptoss
$W/bin/gptoss-convert convert $W/fixture-20b -o $M --quant q8 --experts mxfp4 --force -q >> $X 2>&1
echo "fixture 20b $(el) s" >> $X
for i in 1 2; do
  echo "default tg128: $(timeout 40 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "chosen [${best[*]}] tg128: $(env "${best[@]}" timeout 40 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "round $i $(el) s" >> $X
done
