#!/bin/sh
# check_shaders.sh - compile every kernel of kernels/shaders with glslc the way
# the build does (a quick check while writing shaders; the CMake build embeds
# them). Usage: kernels/shaders/check_shaders.sh [out-dir]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
fail=0
for f in "$here"/*.comp; do
    n=$(basename "$f" .comp)
    glslc --target-env=vulkan1.2 -O -Werror -I "$root/quant" -I "$here" "$f" -o "$out/$n.spv" || { echo "FAIL $n"; fail=1; }
done
[ $fail = 0 ] && echo "all $(ls "$here"/*.comp | wc -l) shaders compile ($out)"
exit $fail
