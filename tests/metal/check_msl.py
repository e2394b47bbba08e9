#!/usr/bin/env python3
"""check_msl.py - the Metal kernels are the Vulkan kernels: check that they
still are, on a machine with no Metal compiler.

kernels/metal/msl/<kernel>.metal is generated from the SPIR-V that the build
compiles from kernels/shaders/<kernel>.comp (kernels/metal/gen_msl.py) and
committed. This script:
  1. regenerates every kernel's MSL from the build's SPIR-V into --out-dir
     and fails if a committed file differs, is missing, or has no kernel any
     more (needs the pinned spirv-cross: other releases print other text);
  2. checks the binding map the Metal host relies on (docs/METAL.md) in the
     COMMITTED files against the SPIR-V: the push constants at
     [[buffer(0)]] in the constant address space, the storage buffer of
     GLSL binding i (= argument i of the gd_dispatch) at [[buffer(i + 1)]]
     in the device address space, nothing else at a buffer index, and the
     gq-kernel line (workgroup size, buffer count) equal to the module's;
  3. parses each committed file as C++ with clang++ against a stand-in
     metal_stdlib (tests/metal/stand-in): it catches typos and plain C++
     errors, not Metal errors (nothing here compiles real Metal). Two MSL
     rules C++ lacks are bridged: unsuffixed float literals are float
     (clang's -cl-single-precision-constant), and member functions
     overloaded on the object's address space (SPIRV-Cross's spvUnsafeArray
     has device/constant/threadgroup twins of its thread-space operator[])
     keep only the thread-space ones, which C++ can tell apart.
Without --spv-dir (no Vulkan build: a Mac without glslc) only 3 and the
gq-kernel lines are checked.
Exit 0 all good, 1 a check failed, 77 nothing could be checked. In CI on
Linux a missing or unpinned spirv-cross fails (scripts/setup.sh installs it).
"""
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels", "metal"))
import gen_msl  # noqa: E402

HEAD_RE = re.compile(r"^// gq-kernel: (\w+) threads (\d+) (\d+) (\d+) args (\d+)$", re.M)
# a member function qualified by a non-thread address space, with its body
AS_METHOD_RE = re.compile(r"\n[ \t]*[^\n;{}]*\)\s*(?:const\s+)?(?:device|constant|threadgroup)[ \t]*\n[ \t]*\{[^{}]*\}")
PARAM_RE = re.compile(r"^\s*(const\s+)?(device|constant)\s+[\w:<>]+\s*[&*]\s*(\w+)\s*\[\[buffer\((\d+)\)\]\]\s*$")


def msl_name(info, var):
    """SPIRV-Cross's name for a variable: its OpName, else _<id>."""
    return info["names"].get(var) or f"_{var}"


def check_bindings(name, msl, info):
    errs = []
    head = HEAD_RE.search(msl)
    if not head or head.group(1) != name:
        return [f"{name}: no '// gq-kernel: {name} ...' line"]
    threads = tuple(int(head.group(i)) for i in (2, 3, 4))
    if threads != info["threads"]:
        errs.append(f"{name}: gq-kernel says threads {threads}, the SPIR-V {info['threads']}")
    if int(head.group(5)) != len(info["buffers"]):
        errs.append(f"{name}: gq-kernel says args {head.group(5)}, the SPIR-V has {len(info['buffers'])} buffers")
    sig = re.search(r"^kernel void (\w+)\((.*)\)\s*$", msl, re.M)
    if not sig or sig.group(1) != name:
        return errs + [f"{name}: no `kernel void {name}(...)` in the MSL"]
    want = {msl_name(info, v): ("device", b + 1) for v, b in info["buffers"].items()}
    if info["push"] is not None:
        want[msl_name(info, info["push"])] = ("constant", 0)
    seen = {}
    for p in sig.group(2).split(", "):
        if "[[buffer(" not in p:
            continue
        m = PARAM_RE.match(p)
        if not m:
            errs.append(f"{name}: cannot read the buffer parameter `{p}`")
            continue
        space, var, idx = m.group(2), m.group(3), int(m.group(4))
        if idx in seen:
            errs.append(f"{name}: {seen[idx]} and {var} both at [[buffer({idx})]]")
        seen[idx] = var
        if var not in want:
            errs.append(f"{name}: {var} at [[buffer({idx})]] is neither a storage buffer nor the push constants")
        elif want[var] != (space, idx):
            errs.append(f"{name}: {var} is at {space} [[buffer({idx})]], the host binds it as {want[var][0]} "
                        f"[[buffer({want[var][1]})]]")
    # a resource the kernel never touches may be left out of the signature
    # (the host still binds it, harmlessly); one that is there must be right
    return errs


def run_checks(spv_dir, msl_dir, out_dir, stand_in, in_ci_linux):
    """(problems, notes) of checks 1-3 on the committed files in msl_dir."""
    errs, notes = [], []
    committed = sorted(f[:-6] for f in os.listdir(msl_dir) if f.endswith(".metal"))
    texts = {}
    for n in committed:
        with open(os.path.join(msl_dir, n + ".metal")) as f:
            texts[n] = f.read()
    if not committed:
        errs.append(f"no .metal files in {msl_dir}")

    if spv_dir:
        names = gen_msl.kernel_names(spv_dir)
        if not names:
            errs.append(f"no SPIR-V in {spv_dir}")
        for n in sorted(set(committed) - set(names)):
            errs.append(f"{n}.metal: no kernel {n} is built any more (cmake --build build --target metal-msl)")
        for n in names:
            info = gen_msl.reflect(gen_msl.spirv_words(gen_msl.spirv_path(spv_dir, n)))
            if n not in texts:
                errs.append(f"{n}: {msl_dir}/{n}.metal is missing (cmake --build build --target metal-msl)")
            else:
                errs += check_bindings(n, texts[n], info)
        # 1. staleness: only the pinned generator's text is comparable
        ver = gen_msl.installed_version() if shutil.which("spirv-cross") else None
        if ver and ver.startswith(gen_msl.PINNED):
            tmp = None if out_dir else tempfile.TemporaryDirectory()
            out = out_dir or tmp.name
            os.makedirs(out, exist_ok=True)
            for n in names:
                fresh = gen_msl.generate(gen_msl.spirv_words(gen_msl.spirv_path(spv_dir, n)), n)
                with open(os.path.join(out, n + ".metal"), "w") as f:
                    f.write(fresh)
                if n in texts and texts[n] != fresh:
                    diff = "".join(list(difflib.unified_diff(texts[n].splitlines(True), fresh.splitlines(True),
                                                             "committed", "regenerated", n=1))[:12])
                    errs.append(f"{n}.metal is stale: the SPIR-V changed (cmake --build build --target metal-msl, "
                                f"then commit kernels/metal/msl)\n{diff}")
            notes.append(f"regenerated {len(names)} kernels into {out_dir or 'a temporary directory'}")
            if tmp:
                tmp.cleanup()
        else:
            why = f"spirv-cross {ver or 'missing or of unknown version'}, the committed files come from " \
                  f"{gen_msl.PINNED}"
            if in_ci_linux:
                errs.append(f"cannot check staleness: {why} (CI must have it: scripts/setup.sh installs it)")
            else:
                notes.append(f"staleness NOT checked: {why}")
    else:
        for n, t in texts.items():
            if not HEAD_RE.search(t):
                errs.append(f"{n}: no gq-kernel line")
        notes.append("no SPIR-V: staleness and the binding map NOT checked")

    # 3. parse as C++ against the stand-in
    cxx = shutil.which("clang++")
    if cxx:
        with tempfile.TemporaryDirectory() as tmp:
            for n, t in texts.items():
                src = os.path.join(tmp, n + ".cpp")
                with open(src, "w") as f:
                    f.write(AS_METHOD_RE.sub("\n", t))
                r = subprocess.run([cxx, "-std=c++17", "-fsyntax-only", "-Wno-unknown-attributes", "-Xclang",
                                    "-cl-single-precision-constant", "-I", stand_in, src],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    errs.append(f"{n}: does not parse against the stand-in metal_stdlib:\n{r.stderr.strip()[:2000]}")
        notes.append(f"parsed {len(texts)} files as C++ against the stand-in")
    elif in_ci_linux:
        errs.append("clang++ not found (CI must have it: scripts/setup.sh installs clang)")
    else:
        notes.append("C++ parse NOT checked: no clang++")
    return errs, notes


def self_test(spv_dir, msl_dir, stand_in):
    """The checks catch what they are for: three broken copies of `add`."""
    spv = gen_msl.spirv_words(gen_msl.spirv_path(spv_dir, "add"))
    info = gen_msl.reflect(spv)
    good = open(os.path.join(msl_dir, "add.metal")).read()
    a0, a1 = (msl_name(info, v) for v, _ in sorted(info["buffers"].items(), key=lambda kv: kv[1]))
    swapped = good.replace(f"{a0} [[buffer(1)]]", f"{a0} [[buffer(9)]]").replace(
        f"{a1} [[buffer(2)]]", f"{a1} [[buffer(1)]]").replace(f"{a0} [[buffer(9)]]", f"{a0} [[buffer(2)]]")
    cases = [("swapped buffer indices", swapped, "the host binds it as"),
             ("a typo", good.replace("kernel void add(", "kernel void add(flaot unused, "), "does not parse"),
             ("a wrong workgroup size", re.sub(r"threads \d+", "threads 7", good, count=1), "gq-kernel says threads")]
    failed = 0
    for what, text, expect in cases:
        if text == good:
            print(f"check_msl self-test: could not make {what}", file=sys.stderr)
            failed += 1
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "add.metal"), "w") as f:
                f.write(text)
            one = os.path.join(tmp, "spv")
            os.makedirs(one)
            shutil.copy(gen_msl.spirv_path(spv_dir, "add"), one)
            errs, _ = run_checks(one, tmp, None, stand_in, False)
        if not any(expect in e for e in errs):
            print(f"check_msl self-test: {what} was not caught (problems: {errs})", file=sys.stderr)
            failed += 1
    print(f"check_msl self-test: {len(cases) - failed} of {len(cases)} broken copies caught")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spv-dir", help="the build's SPIR-V (build/kernels/vulkan/spirv)")
    ap.add_argument("--msl-dir", required=True, help="kernels/metal/msl (committed)")
    ap.add_argument("--out-dir", help="where to regenerate (the build dir)")
    ap.add_argument("--stand-in", required=True, help="tests/metal/stand-in")
    ap.add_argument("--self-test", action="store_true", help="check that broken copies fail (needs --spv-dir)")
    a = ap.parse_args()
    if a.self_test:
        if not a.spv_dir or not shutil.which("clang++"):
            print("check_msl self-test: needs --spv-dir and clang++; skipping")
            return 77
        return self_test(a.spv_dir, a.msl_dir, a.stand_in)
    errs, notes = run_checks(a.spv_dir, a.msl_dir, a.out_dir, a.stand_in,
                             bool(os.environ.get("CI")) and sys.platform.startswith("linux"))
    for e in errs:
        print("check_msl: " + e, file=sys.stderr)
    for n in notes:
        print("check_msl: " + n)
    print(f"check_msl: {len(errs)} problems")
    if errs:
        return 1
    return 0 if any(n.startswith(("regenerated", "parsed")) for n in notes) or a.spv_dir else 77


if __name__ == "__main__":
    sys.exit(main())
