#!/usr/bin/env bash
# vk run (c), the final one: conformance on the H200; the decode kernels of
# run (b) against the workgroup walk (decode t/s, same fixture, same run):
# the faster one runs everything after; timestamp profiles (decode 64,
# prefill 512); tiny ppl vulkan vs cpu; then `bench-gpu` (bench/gpu_bench.sh:
# ours and llama.cpp CUDA on the same weights, R=3).
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk; W=/tmp/gq-gpu; mkdir -p $W $W/bin $OUT/bench; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
( GQ_CONFORMANCE_SCALE=1 timeout 150 $V/test_backend_conformance vulkan > $W/conf.txt 2>&1; echo "conformance rc $?" >> $W/conf.txt ) &
cpid=$!
t0=$(date +%s)
$V/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models >> $X 2>&1 || { echo fixture failed; exit 1; }
$V/gptoss-convert convert $W/fixture-20b -o $W/g-20b.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1 || { echo convert failed; exit 1; }
echo "fixture+convert $(( $(date +%s) - t0 )) s" >> $X
wait $cpid; grep -E "FAIL|cases|rc " $W/conf.txt >> $X
M=$W/g-20b.gptoss
tok() { sed -n 's/.*"decode_tok_s":\([0-9.]*\).*/\1/p' "$1"; }
for b in b new; do
  bin=$V/gptoss-run; [ $b = b ] && bin=$V/gptoss-run-b
  $bin bench $M --backend vulkan -p 512 -n 128 -r 1 --json > $W/pick-$b.json 2>> $X
  echo "pick $b: $(cat $W/pick-$b.json)" >> $X
done
pick=$(awk -v a="$(tok $W/pick-b.json)" -v b="$(tok $W/pick-new.json)" 'BEGIN {print (a + 0 > b + 0) ? "b" : "new"}')
echo "picked: $pick" >> $X
cp $V/gptoss-fixture $V/gptoss-convert $W/bin/
if [ $pick = b ]; then cp $V/gptoss-run-b $W/bin/gptoss-run; else cp $V/gptoss-run $W/bin/gptoss-run; fi
B=$W/bin/gptoss-run
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $OUT/prof-tg.txt 2>&1
GQ_VK_PROFILE=1 GQ_VK_STATS=1 $B bench $M --backend vulkan -p 512 -n 0 -r 1 > $OUT/prof-pp.txt 2>&1
$V/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
$V/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
for be in cpu vulkan; do echo "tiny ppl $be: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend $be 2>&1)" >> $X; done
t0=$(date +%s)
BIN=$W/bin OUT=$OUT/bench R=3 PEER=.gpu/llama-cuda-sm90.tar.xz TOKDIR=$W/models WORK=$W timeout 400 bash bench/gpu_bench.sh 2>> $X
echo "bench-gpu $(( $(date +%s) - t0 )) s rc $?" >> $X
rm -f $OUT/bench/gpu-fixture.log
uptime >> $X
