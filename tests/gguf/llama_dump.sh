#!/usr/bin/env bash
# llama_dump.sh MODEL.gguf ROW ID [ID...] - build tests/gguf/llama_dump.c
# against node-llama-cpp's prebuilt libllama (headers from the same release's
# source bundle) and run it. A debugging aid, not a test: see docs/GGUF.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${GQ_TOOLS_DIR:-$here/../../tools}
libs=$tools/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
bundle=$tools/node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -d "$libs" ] && [ -f "$bundle" ] || { echo "node-llama-cpp is not installed (scripts/setup.sh)" >&2; exit 77; }
work=${TMPDIR:-/tmp}/gq-llama-dump
bin=$work/llama_dump
if [ ! -x "$bin" ] || [ "$here/llama_dump.c" -nt "$bin" ]; then
  rm -rf "$work" && mkdir -p "$work/src"
  git clone -q --bare "$bundle" "$work/llama.git"
  git --git-dir="$work/llama.git" archive HEAD include ggml/include | tar -x -C "$work/src"
  cc -O1 -o "$bin" "$here/llama_dump.c" -I"$work/src/include" -I"$work/src/ggml/include" \
    -L"$libs" -l:"$(cd "$libs" && ls libllama.v*.so | head -1)" -l:"$(cd "$libs" && ls libggml.v*.so | head -1)" \
    -l:libggml-base.so -lm -Wl,-rpath,"$libs"
fi
model=$1 row=$2
shift 2
exec "$bin" "$model" "$libs" "$row" "$@" 2>/dev/null
