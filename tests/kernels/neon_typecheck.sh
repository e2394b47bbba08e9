#!/bin/sh
# neon_typecheck.sh CLANG SRC_DIR WORK_DIR: type-check the aarch64 paths of
# kernels/cpu (NEON dots, the fast numerics' sdot loops, their run-time
# dispatch, the i8mm prefill tile) with clang --target=aarch64 on a machine that has no ARM CPU and
# no aarch64 sysroot. This machine's glibc headers stand in for aarch64's:
# with __x86_64__ undefined they pick the 32-bit word size and include
# gnu/stubs-32.h, which a 64-bit-only install lacks, so an empty one is made.
# It proves the intrinsics' types and names, not the results (tests/kernels
# compare NEON with scalar when run on aarch64). Exit 77 (skip) where clang
# cannot target aarch64.
set -u
CLANG=$1 SRC=$2 WORK=$3
mkdir -p "$WORK/gnu" || exit 1
: > "$WORK/gnu/stubs-32.h"
MULTI=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
FLAGS="--target=aarch64-linux-gnu -march=armv8.2-a+dotprod+i8mm -std=c11 -fsyntax-only -Wall -Wextra -Werror
 -I$SRC/kernels/cpu -I$SRC/kernels -I$SRC/quant -I$SRC -isystem $WORK -isystem /usr/include/$MULTI"
# the probe includes what the kernels include: header trouble is a skip, not a failure
if ! printf '#include <arm_neon.h>\n#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n#include <math.h>\nint main(void) { return vaddvq_s32(vdupq_n_s32(0)); }\n' |
    $CLANG $FLAGS -x c - 2>/dev/null; then
    echo "neon_typecheck: $CLANG cannot type-check for aarch64 here: skipped"
    exit 77
fi
rc=0
# every kernels/cpu source with aarch64 code (the headers come in through them)
for f in $(grep -l '__aarch64__\|arm_neon' "$SRC"/kernels/cpu/*.c); do
    if $CLANG $FLAGS "$f"; then echo "ok   $f"; else echo "FAIL $f"; rc=1; fi
done
exit $rc
