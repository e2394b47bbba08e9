#!/usr/bin/env bash
# vk5 run 1: decode weight-kernel variants on the H200, chosen by measurement.
# 1. the conformance groups linear + moe with every variant (GQ_VK_MV,
#    GQ_VK_MV_HEAD, GQ_VK_MOE_GU, GQ_VK_MOE_DN), at scale 1, while the 20b
#    fixture is made (vk4's steps: gptoss-fixture 20b, convert q8 + mxfp4);
# 2. a warm-up bench, then 7 configurations x 2 rounds of GQ_VK_PROFILE=1
#    `bench -p 1 -n 64`: each sets one variant per kernel class (layer products,
#    head, gate_up, down; within a configuration the classes' kernels have
#    different names, so the profile times each class apart);
# 3. per class the variant with the least GPU time (mean of the 2 rounds),
#    then tg128 (-p 512 -n 128 -r 3) default vs that choice, alternating twice,
#    a profile of the choice, tiny ppl CPU vs Vulkan with the choice.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk5; W=/tmp/gq-gpu; mkdir -p $W $W/bin $OUT/prof; X=$OUT/extra.txt
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
[ -d $W/models ] || tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run; C=$W/bin/test_backend_conformance
MV=(r1 r2 r4 r8 r16 w64r2 w64r8 w256r8); GU=(u6 u8 w64p2u6 u3 u2); DN=(r1 w64 w64r1 w256r4 k1 k2)
# the 8 variant sets in parallel (correctness only: their timing does not matter)
cpids=()
for i in 0 1 2 3 4 5 6 7; do
  (
    e="GQ_VK_MV=${MV[$i]} GQ_VK_MV_HEAD=${MV[$i]} GQ_VK_MOE_GU=${GU[$((i % 5))]} GQ_VK_MOE_DN=${DN[$((i % 6))]}"
    for g in linear moe; do
      env $e GQ_CONFORMANCE_ONLY=$g GQ_CONFORMANCE_SCALE=1 timeout 150 $C vulkan > $OUT/conf-$i-$g.txt 2>&1
      echo "conformance $g [$e]: rc $? $(grep -E "cases|FAIL" $OUT/conf-$i-$g.txt | tr '\n' ' ')" > $OUT/conf-$i-$g.sum
    done
  ) &
  cpids+=($!)
done
M=$W/g-20b.gptoss
t0=$(date +%s)
[ -f $W/fixture-20b/config.json ] || $W/bin/gptoss-fixture 20b -o $W/fixture-20b --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
[ -f $M ] || $W/bin/gptoss-convert convert $W/fixture-20b -o $M --quant q8 --experts mxfp4 --force -q >> $X 2>&1
if [ ! -f $W/tiny.gptoss ]; then
  $W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
  $W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
fi
echo "fixtures $(( $(date +%s) - t0 )) s" >> $X
wait "${cpids[@]}"; cat $OUT/conf-*.sum >> $X; rm -f $OUT/conf-*.sum; echo "conformance done $(( $(date +%s) - t0 )) s" >> $X
prof() { # prof FILE env...: a decode profile, 64 tokens
  local f=$1; shift
  env "$@" GQ_VK_PROFILE=1 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $f 2>&1
}
prof $OUT/prof/warm.txt GQ_X=0
# configurations: MV HEAD GU DN (- = the default kernel)
CF=("r2 r8 - -" "r1 r2 u6 r1" "r4 r16 u8 w64" "w64r2 r4 w64p2u6 w64r1" "r8 w256r8 u3 w256r4" "w256r8 w64r8 u2 k1" "r16 - - k2")
for round in 1 2; do
  for c in 0 1 2 3 4 5 6; do
    set -- ${CF[$c]}
    e=(GQ_X=0); [ $1 != - ] && e+=(GQ_VK_MV=$1); [ $2 != - ] && e+=(GQ_VK_MV_HEAD=$2)
    [ $3 != - ] && e+=(GQ_VK_MOE_GU=$3); [ $4 != - ] && e+=(GQ_VK_MOE_DN=$4)
    prof $OUT/prof/c$c-r$round.txt "${e[@]}"
  done
done
echo "profiles done $(( $(date +%s) - t0 )) s" >> $X
# per class: tag -> mean GPU ms over the rounds; the least wins
pick() { # pick CLASS FIELD KERNEL-PATTERN(%s = tag) DEFAULT-KERNEL
  local cls=$1 fld=$2 pat=$3 def=$4
  for c in 0 1 2 3 4 5 6; do
    set -- ${CF[$c]}; tag=${!fld}
    if [ "$tag" = - ]; then k=$def; else k=$(printf "$pat" "$tag"); fi
    for round in 1 2; do
      awk -v k="$k" -v t="$tag" '$1 == "vulkan" && $2 == "profile:" && $3 == k { print t, $5, $7 }' $OUT/prof/c$c-r$round.txt
    done
  done | awk -v cls=$cls '{ s[$1] += $2; u[$1] += $3; n[$1]++ }
    END { best = ""; for (t in s) { m = s[t] / n[t]; printf "%s %s: %.3f ms / 65 passes, %.2f us each (%d runs)\n", cls, t, m, u[t] / n[t], n[t] > "/dev/stderr";
            if (best == "" || m < bm) { best = t; bm = m } } print (best == "" ? "-" : best) }'
}
bmv=$(pick mv 1 "matvec_%s_q8_32" matvec_q8_32 2>> $X)
bhd=$(pick head 2 "matvec_%s_q8_32" matvec_q8_32 2>> $X)
bgu=$(pick gu 3 "moe_gate_up_tk_%s_mxfp4" moe_gate_up_tk_mxfp4 2>> $X)
bdn=$(pick dn 4 "moe_down_%s_mxfp4" moe_down_mxfp4 2>> $X)
echo "chosen: mv $bmv head $bhd gu $bgu dn $bdn" >> $X
best=(GQ_X=0); [ "$bmv" != - ] && best+=(GQ_VK_MV=$bmv); [ "$bhd" != - ] && best+=(GQ_VK_MV_HEAD=$bhd)
[ "$bgu" != - ] && best+=(GQ_VK_MOE_GU=$bgu); [ "$bdn" != - ] && best+=(GQ_VK_MOE_DN=$bdn)
for i in 1 2; do
  echo "default tg128: $($B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "chosen [${best[*]}] tg128: $(env "${best[@]}" $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
done
prof $OUT/prof/chosen.txt "${best[@]}" GQ_VK_STATS=1
head -c 20000 docs/PERFORMANCE.md > $W/t.txt
echo "tiny ppl cpu: $($B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend cpu 2>&1)" >> $X
echo "tiny ppl vulkan chosen: $(env "${best[@]}" $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
echo "all $(( $(date +%s) - t0 )) s" >> $X
uptime >> $X
