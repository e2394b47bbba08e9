#!/usr/bin/env bash
# vk5 run 2 (budget-trimmed run 1): decode weight-kernel variants on the H200.
# The 20b shapes with 8 of 24 layers (per-kernel times per layer are the same;
# the fixture is made in a third of the time). Steps in order of value, each
# guarded by the time used: profiles (7 configurations, 2 rounds), the pick,
# conformance of the chosen set, tg128 default vs chosen, tiny ppl cpu vs vulkan.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
V=.gpu/vk5; W=/tmp/gq-gpu; mkdir -p $W $W/bin $OUT/prof; X=$OUT/extra.txt
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv; nproc; uptime; } > $X 2>&1
tar -xJf .gpu/tok.tar.xz -C $W
cp $V/gptoss-fixture $V/gptoss-convert $V/gptoss-run $V/test_backend_conformance $W/bin/
B=$W/bin/gptoss-run; C=$W/bin/test_backend_conformance; M=$W/g-20b-l8.gptoss
$W/bin/gptoss-fixture 20b --layers 8 -o $W/fixture-20b --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
$W/bin/gptoss-convert convert $W/fixture-20b -o $M --quant q8 --experts mxfp4 --force -q >> $X 2>&1
rm -rf $W/fixture-20b
echo "fixture+convert $(el) s; $(ls -la $M)" >> $X
prof() { local f=$1; shift; env "$@" GQ_VK_PROFILE=1 timeout 40 $B bench $M --backend vulkan -p 1 -n 64 -r 1 > $f 2>&1; }
prof $OUT/prof/warm.txt GQ_X=0
echo "warm $(el) s" >> $X
CF=("r2 r8 - -" "r1 r2 u6 r1" "r4 r16 u8 w64" "w64r2 r4 w64p2u6 w64r1" "r8 w256r8 u3 w256r4" "w256r8 w64r8 u2 k1" "r16 - - k2")
for round in 1 2; do
  [ $(el) -gt 200 ] && break
  for c in 0 1 2 3 4 5 6; do
    set -- ${CF[$c]}
    e=(GQ_X=0); [ $1 != - ] && e+=(GQ_VK_MV=$1); [ $2 != - ] && e+=(GQ_VK_MV_HEAD=$2)
    [ $3 != - ] && e+=(GQ_VK_MOE_GU=$3); [ $4 != - ] && e+=(GQ_VK_MOE_DN=$4)
    prof $OUT/prof/c$c-r$round.txt "${e[@]}"
  done
  echo "round $round done $(el) s" >> $X
done
pick() { local cls=$1 fld=$2 pat=$3 def=$4
  for c in 0 1 2 3 4 5 6; do
    set -- ${CF[$c]}; tag=${!fld}
    if [ "$tag" = - ]; then k=$def; else k=$(printf "$pat" "$tag"); fi
    for f in $OUT/prof/c$c-r*.txt; do
      awk -v k="$k" -v t="$tag" '$1 == "vulkan" && $2 == "profile:" && $3 == k { print t, $5, $7 }' $f
    done
  done | awk -v cls=$cls '{ s[$1] += $2; u[$1] += $3; n[$1]++ }
    END { best = ""; for (t in s) { m = s[t] / n[t]; printf "%s %s: %.3f ms / 65 passes, %.2f us each (%d runs)\n", cls, t, m, u[t] / n[t], n[t] > "/dev/stderr";
            if (best == "" || m < bm) { best = t; bm = m } } print (best == "" ? "-" : best) }'
}
bmv=$(pick mv 1 "matvec_%s_q8_32" matvec_q8_32 2>> $X)
bhd=$(pick head 2 "matvec_%s_q8_32" matvec_q8_32 2>> $X)
bgu=$(pick gu 3 "moe_gate_up_tk_%s_mxfp4" moe_gate_up_tk_mxfp4 2>> $X)
bdn=$(pick dn 4 "moe_down_%s_mxfp4" moe_down_mxfp4 2>> $X)
echo "chosen: mv $bmv head $bhd gu $bgu dn $bdn ($(el) s)" >> $X
best=(GQ_X=0); [ "$bmv" != - ] && best+=(GQ_VK_MV=$bmv); [ "$bhd" != - ] && best+=(GQ_VK_MV_HEAD=$bhd)
[ "$bgu" != - ] && best+=(GQ_VK_MOE_GU=$bgu); [ "$bdn" != - ] && best+=(GQ_VK_MOE_DN=$bdn)
for g in linear moe; do
  env "${best[@]}" GQ_CONFORMANCE_ONLY=$g GQ_CONFORMANCE_SCALE=1 timeout 60 $C vulkan > $OUT/conf-$g.txt 2>&1
  echo "conformance $g [${best[*]}]: rc $? $(grep -E "cases|FAIL" $OUT/conf-$g.txt | tr '\n' ' ') ($(el) s)" >> $X
done
for i in 1 2; do
  [ $(el) -gt 330 ] && break
  echo "default tg128: $(timeout 30 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
  echo "chosen [${best[*]}] tg128: $(env "${best[@]}" timeout 30 $B bench $M --backend vulkan -p 512 -n 128 -r 3 --json 2>&1)" >> $X
done
echo "tg done $(el) s" >> $X
[ $(el) -lt 360 ] && prof $OUT/prof/chosen.txt "${best[@]}" GQ_VK_STATS=1
if [ $(el) -lt 370 ]; then
  $W/bin/gptoss-fixture tiny -o $W/tiny --no-sync --tokenizer-dir $W/models > /dev/null 2>&1
  $W/bin/gptoss-convert convert $W/tiny -o $W/tiny.gptoss --quant q8 --experts mxfp4 --force -q >> $X 2>&1
  head -c 20000 docs/PERFORMANCE.md > $W/t.txt
  echo "tiny ppl cpu: $(timeout 20 $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend cpu 2>&1)" >> $X
  echo "tiny ppl vulkan chosen: $(env "${best[@]}" timeout 20 $B ppl $W/tiny.gptoss --file $W/t.txt --ctx 512 --json --backend vulkan 2>&1)" >> $X
fi
echo "all $(el) s" >> $X; uptime >> $X
