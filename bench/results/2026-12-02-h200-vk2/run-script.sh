#!/usr/bin/env bash
# vk run (d), the final one: conformance on the H200; decode kernel variants
# timed by timestamp profiles (the default, matvec 8 / 2 rows a workgroup,
# MoE gate_up with 8 parts in flight / a workgroup walk, MoE down 4 rows a
# workgroup), the fastest of each kept (env) for everything after; profiles
# (decode 64, prefill 512); tiny ppl vulkan vs cpu; then `bench-gpu`
# (bench/gpu_bench.sh: ours and llama.cpp CUDA on the same weights, R=3).
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
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $W/bin/
B=$W/bin/gptoss-run
$B bench $M --backend vulkan -p 1 -n 8 -r 1 > /dev/null 2>&1 # warm: pipeline cache, clocks
prof() { local n=$1; shift; env "$@" GQ_VK_PROFILE=1 $B bench $M --backend vulkan -p 1 -n 32 -r 1 > $W/prof-$n.txt 2>&1
  echo "== variant $n ($*): $(grep 'decode' $W/prof-$n.txt)" >> $X; grep -E 'profile: (matvec|moe_)' $W/prof-$n.txt >> $X; }
us() { awk -v k="$2" '$2 == "profile:" && $3 == k {print $NF; exit}' "$1"; }
prof def; prof mv8 GQ_VK_MV=xr8; prof mv2 GQ_VK_MV=xr2; prof gu8 GQ_VK_GU=xu8; prof guw GQ_VK_GU=xwg; prof dn4 GQ_VK_DN=xr4
best() { # pairs: env-value file kernel ... -> the env value with the least us each ("" = default)
  local bv="" bu=1e30 v f k u
  while [ $# -ge 3 ]; do v=$1; f=$2; k=$3; shift 3; u=$(us $f $k); [ -n "$u" ] || continue
    if awk -v a="$u" -v b="$bu" 'BEGIN {exit !(a + 0 < b + 0)}'; then bu=$u; bv=$v; fi; done
  echo "$bv"; }
MV=$(best "" $W/prof-def.txt matvec_q8_32 xr8 $W/prof-mv8.txt matvec_xr8_q8_32 xr2 $W/prof-mv2.txt matvec_xr2_q8_32)
GU=$(best "" $W/prof-def.txt moe_gate_up_mxfp4 xu8 $W/prof-gu8.txt moe_gate_up_xu8_mxfp4 xwg $W/prof-guw.txt moe_gate_up_xwg_mxfp4)
DN=$(best "" $W/prof-def.txt moe_down_mxfp4 xr4 $W/prof-dn4.txt moe_down_xr4_mxfp4)
echo "picked: GQ_VK_MV='$MV' GQ_VK_GU='$GU' GQ_VK_DN='$DN'" >> $X
export GQ_VK_MV=$MV GQ_VK_GU=$GU GQ_VK_DN=$DN
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
