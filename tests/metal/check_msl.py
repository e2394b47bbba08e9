#!/usr/bin/env python3
"""check_msl.py - the Metal kernels are the Vulkan kernels: check that they
still are, on a machine with no Metal compiler.

kernels/metal/msl/<kernel>.metal is generated from the SPIR-V that the build
compiles from kernels/shaders/<kernel>.comp (the SPIR-V that the Vulkan tests
ran), by SPIRV-Cross with the flags pinned below, and committed so that a Mac
build needs no SPIRV-Cross. This script:
  1. regenerates every kernel's MSL from the build's SPIR-V and fails if a
     committed file is stale, missing, or has no kernel any more
     (--update rewrites them instead);
  2. checks the binding map the hosts rely on (docs/METAL.md): the push
     constants at [[buffer(0)]], every storage buffer at [[buffer(N)]] with
     N its GLSL binding, and binding 0 left free for the push constants;
  3. parses each file as C++ with clang++ against a stand-in metal_stdlib
     (tests/metal/stand-in): it catches typos and plain C++ errors, not
     Metal errors (nothing here compiles real Metal).
Exit 0 all good, 1 a check failed, 77 a tool is missing outside CI.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# MSL 2.4: SPIRV-Cross refuses subgroup arithmetic below Metal 2.1; 2.4 is
# macOS 12 / Apple GPUs of 2020 on. --msl-decoration-binding: [[buffer(n)]] =
# the GLSL binding n (without it, n follows SPIR-V id order and drifts when a
# shader changes); the push-constant block then takes buffer 0, so shaders
# start their storage buffers at binding 1.
SPIRV_CROSS_FLAGS = ["--msl", "--msl-version", "20400", "--msl-decoration-binding"]


def die_missing(tool):
    msg = f"check_msl: {tool} not found"
    if os.environ.get("CI"):
        print(msg + " (CI must have it: scripts/setup.sh installs it)", file=sys.stderr)
        sys.exit(1)
    print(msg + "; skipping", file=sys.stderr)
    sys.exit(77)


def generate(spv, name):
    out = subprocess.run(["spirv-cross", spv, *SPIRV_CROSS_FLAGS, "--rename-entry-point", "main", name, "comp"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"spirv-cross failed on {spv}: {out.stderr.strip()}")
    header = (f"// {name}.metal - GENERATED from kernels/shaders/{name}.comp (its SPIR-V) by\n"
              f"// spirv-cross {' '.join(SPIRV_CROSS_FLAGS)}; do not edit: rerun\n"
              f"// `cmake --build build --target metal-msl` (tests/metal/check_msl.py --update).\n")
    return header + out.stdout


def glsl_bindings(comp_text):
    """{block type name: binding} of the storage buffers, and whether a push-constant block exists."""
    binds = {}
    for m in re.finditer(r"layout\s*\(([^)]*)\)\s*(?:readonly\s+|writeonly\s+|restrict\s+|coherent\s+)*buffer\s+(\w+)",
                         comp_text):
        b = re.search(r"binding\s*=\s*(\d+)", m.group(1))
        if b:
            binds[m.group(2)] = int(b.group(1))
    push = re.search(r"layout\s*\(\s*push_constant", comp_text) is not None
    return binds, push


def check_bindings(name, msl, comp_text):
    errs = []
    sig = re.search(r"kernel void \w+\((.*?)\)\s*\n", msl, re.S)
    if not sig:
        return [f"{name}: no kernel signature in the generated MSL"]
    binds, push = glsl_bindings(comp_text)
    seen = set()
    for m in re.finditer(r"(?:const\s+)?(device|constant)\s+(\w+)&\s*\w+\s*\[\[buffer\((\d+)\)\]\]", sig.group(1)):
        space, typ, idx = m.group(1), m.group(2), int(m.group(3))
        if idx in seen:
            errs.append(f"{name}: two arguments at [[buffer({idx})]]")
        seen.add(idx)
        if space == "constant":
            if idx != 0:
                errs.append(f"{name}: push constants at [[buffer({idx})]], the hosts bind them at 0")
            continue
        if typ not in binds:
            errs.append(f"{name}: MSL buffer type {typ} has no GLSL binding in {name}.comp")
        elif binds[typ] != idx:
            errs.append(f"{name}: {typ} is GLSL binding {binds[typ]} but [[buffer({idx})]] in MSL")
    if push and 0 in binds.values():
        errs.append(f"{name}: a storage buffer at binding 0 collides with the push constants in MSL")
    if push and 0 not in seen:
        errs.append(f"{name}: has push constants but nothing at [[buffer(0)]]")
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spv-dir", required=True, help="the build's SPIR-V (<kernel>.spv)")
    ap.add_argument("--shader-dir", required=True, help="kernels/shaders")
    ap.add_argument("--msl-dir", required=True, help="kernels/metal/msl (committed)")
    ap.add_argument("--stand-in", required=True, help="tests/metal/stand-in")
    ap.add_argument("--update", action="store_true", help="rewrite the committed MSL")
    a = ap.parse_args()
    if not shutil.which("spirv-cross"):
        die_missing("spirv-cross")
    spvs = sorted(f[:-4] for f in os.listdir(a.spv_dir) if f.endswith(".spv"))
    if not spvs:
        print(f"check_msl: no SPIR-V in {a.spv_dir}", file=sys.stderr)
        return 1
    errs = []
    os.makedirs(a.msl_dir, exist_ok=True)
    for name in spvs:
        msl = generate(os.path.join(a.spv_dir, name + ".spv"), name)
        path = os.path.join(a.msl_dir, name + ".metal")
        if a.update:
            with open(path, "w") as f:
                f.write(msl)
        else:
            try:
                with open(path) as f:
                    old = f.read()
            except FileNotFoundError:
                old = None
            if old is None:
                errs.append(f"{name}: {path} is missing (run with --update and commit it)")
            elif old != msl:
                errs.append(f"{name}: {path} is stale: the SPIR-V changed (run with --update and commit it)")
        comp = os.path.join(a.shader_dir, name + ".comp")
        with open(comp) as f:
            errs += check_bindings(name, msl, f.read())
    for f in sorted(os.listdir(a.msl_dir)):
        if f.endswith(".metal") and f[:-6] not in spvs:
            if a.update:
                os.remove(os.path.join(a.msl_dir, f))
            else:
                errs.append(f"{f}: no kernel {f[:-6]} is built any more (run with --update)")
    # 3. parse as C++ against the stand-in
    cxx = shutil.which("clang++")
    if not cxx:
        die_missing("clang++")
    with tempfile.TemporaryDirectory() as tmp:
        for name in spvs:
            src = os.path.join(tmp, name + ".cpp")
            with open(src, "w") as f:
                f.write(generate(os.path.join(a.spv_dir, name + ".spv"), name))
            r = subprocess.run([cxx, "-std=c++17", "-fsyntax-only", "-Wno-unknown-attributes", "-I", a.stand_in,
                                src], capture_output=True, text=True)
            if r.returncode != 0:
                errs.append(f"{name}: does not parse against the stand-in metal_stdlib:\n{r.stderr.strip()}")
    for e in errs:
        print("check_msl: " + e, file=sys.stderr)
    print(f"check_msl: {len(spvs)} kernels, {len(errs)} problems" + (" (updated)" if a.update else ""))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
