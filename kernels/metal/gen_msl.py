#!/usr/bin/env python3
"""gen_msl.py - the Metal kernels from the Vulkan kernels' SPIR-V.

kernels/metal/msl/<kernel>.metal is made from the SPIR-V that the Vulkan
build compiles from kernels/shaders/<kernel>.comp (the SPIR-V the Vulkan
tests run) by SPIRV-Cross, and committed, so a Mac build needs neither
glslc nor SPIRV-Cross.

The binding scheme (docs/METAL.md): [[buffer(0)]] holds the push constants
and [[buffer(i + 1)]] holds argument i of the gd_dispatch (GLSL binding i).
SPIRV-Cross numbers buffers by SPIR-V id unless told otherwise, and with
--msl-decoration-binding its push-constant block lands on buffer 0, on top
of binding 0. Its CLI has no per-resource remap, so before SPIRV-Cross sees
the module every Binding decoration is raised by one (a valid module: only
the numbers change); --msl-decoration-binding then gives each storage buffer
[[buffer(binding + 1)]] and the push constants keep buffer 0. No shader is
edited for Metal, and the Vulkan host keeps binding i = argument i.

Each file starts with a comment and one machine-read line,
  // gq-kernel: <name> threads X Y Z args N
the workgroup size (Metal takes it at dispatch time, not from the kernel)
and the number of storage buffers; kernels/metal/CMakeLists.txt embeds the
sources with that line as the table the host reads.

Usage: gen_msl.py --spv-dir DIR --out-dir DIR [--names a,b]
  DIR of the build's SPIR-V: <kernel>.inc (glslc -mfmt=c) or <kernel>.spv.
As a module: check_msl.py (tests/metal) imports spirv_words, reflect,
generate and PINNED.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# MSL 2.4 (macOS 12): SPIRV-Cross refuses subgroup arithmetic below Metal 2.1.
FLAGS = ["--msl", "--msl-version", "20400", "--msl-decoration-binding"]
# The generator the committed files come from: its output differs between
# SPIRV-Cross releases, so only this one is compared with them (Debian 12's
# package; `spirv-cross` has no --version, dpkg says which).
PINNED = "2021.01.15+1.3.239.0"

MAGIC = 0x07230203
OP_NAME, OP_EXECUTION_MODE, OP_CAPABILITY, OP_VARIABLE, OP_DECORATE = 5, 16, 17, 59, 71
DEC_BINDING, DEC_SET = 33, 34
MODE_LOCAL_SIZE = 17
SC_UNIFORM, SC_PUSH, SC_STORAGE = 2, 9, 12
# Capabilities with no Metal translation: a kernel that declares one is
# Vulkan-only (the cm_* tensor-core kernels, GL_NV_cooperative_matrix, which
# the Vulkan host runs in place of their fp32 twins only where the device
# has them; Metal always runs the twins), so it gets no .metal file.
VULKAN_ONLY_CAPS = {5357: "CooperativeMatrixNV", 6022: "CooperativeMatrixKHR"}


def spirv_words(path):
    """The SPIR-V words of a .spv file or of glslc's -mfmt=c text."""
    if path.endswith(".spv"):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) % 4:
            raise ValueError(f"{path}: {len(data)} bytes is not whole words")
        words = [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
    else:
        with open(path) as f:
            words = [int(w, 16) for w in re.findall(r"0x[0-9a-fA-F]+", f.read())]
    if len(words) < 5 or words[0] != MAGIC:
        raise ValueError(f"{path}: not SPIR-V")
    return words


def instructions(words):
    """(offset, opcode, operand words) of every instruction after the header."""
    i = 5
    while i < len(words):
        n, op = words[i] >> 16, words[i] & 0xFFFF
        if n == 0 or i + n > len(words):
            raise ValueError(f"bad SPIR-V instruction at word {i}")
        yield i, op, words[i + 1:i + n]
        i += n


def reflect(words):
    """What the host and the checks need from one kernel's module:
    buffers {var id: binding} (storage buffers), push (var id or None),
    names {id: OpName}, threads (x, y, z)."""
    binding, storage, names, threads = {}, {}, {}, None
    for _, op, a in instructions(words):
        if op == OP_DECORATE and a[1] == DEC_BINDING:
            binding[a[0]] = a[2]
        elif op == OP_VARIABLE:
            storage[a[1]] = a[2]
        elif op == OP_NAME:
            raw = b"".join(w.to_bytes(4, "little") for w in a[1:])
            names[a[0]] = raw.split(b"\0", 1)[0].decode()
        elif op == OP_EXECUTION_MODE and a[1] == MODE_LOCAL_SIZE:
            threads = tuple(a[2:5])
    push = [v for v, sc in storage.items() if sc == SC_PUSH]
    other = [v for v, sc in storage.items() if sc == SC_UNIFORM]
    if other:
        raise ValueError("uniform blocks are outside the binding convention (gd.h)")
    if len(push) > 1:
        raise ValueError("more than one push-constant block")
    if threads is None:
        raise ValueError("no LocalSize execution mode (a spec-constant workgroup size is not supported)")
    buffers = {v: binding[v] for v, sc in storage.items() if sc == SC_STORAGE}
    if sorted(buffers.values()) != list(range(len(buffers))):
        raise ValueError(f"storage buffer bindings {sorted(buffers.values())} are not 0..n-1")
    return {"buffers": buffers, "push": push[0] if push else None, "names": names, "threads": threads}


def shift_bindings(words):
    """The module with every Binding decoration raised by one."""
    out = list(words)
    for i, op, a in instructions(words):
        if op == OP_DECORATE and a[1] == DEC_BINDING:
            out[i + 3] = a[2] + 1
    return out


def installed_version():
    """The spirv-cross package version, or None where dpkg does not know it."""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "spirv-cross"], capture_output=True, text=True)
    except OSError:
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def generate(words, name):
    """The committed text of <name>.metal for a module."""
    info = reflect(words)
    with tempfile.NamedTemporaryFile(suffix=".spv") as f:
        f.write(b"".join(w.to_bytes(4, "little") for w in shift_bindings(words)))
        f.flush()
        r = subprocess.run(["spirv-cross", f.name, *FLAGS, "--rename-entry-point", "main", name, "comp"],
                           capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"spirv-cross failed on {name}: {r.stderr.strip()}")
    x, y, z = info["threads"]
    head = (f"// {name}.metal - GENERATED by kernels/metal/gen_msl.py from kernels/shaders/{name}.comp\n"
            f"// (its SPIR-V, every binding + 1) by spirv-cross {PINNED} {' '.join(FLAGS)}.\n"
            f"// Do not edit: `cmake --build build --target metal-msl` rewrites it.\n"
            f"// [[buffer(0)]] push constants, [[buffer(i + 1)]] argument i (docs/METAL.md).\n"
            f"// gq-kernel: {name} threads {x} {y} {z} args {len(info['buffers'])}\n")
    return head + r.stdout


def vulkan_only(words):
    """The name of a capability of the module that Metal cannot have, or None."""
    for _, op, a in instructions(words):
        if op == OP_CAPABILITY and a[0] in VULKAN_ONLY_CAPS:
            return VULKAN_ONLY_CAPS[a[0]]
    return None


def kernel_names(spv_dir):
    """The kernels of spv_dir that get a Metal copy (not the Vulkan-only ones)."""
    names = set()
    for f in os.listdir(spv_dir):
        m = re.fullmatch(r"(\w+)\.(inc|spv)", f)
        if m and not vulkan_only(spirv_words(os.path.join(spv_dir, f))):
            names.add(m.group(1))
    return sorted(names)


def spirv_path(spv_dir, name):
    for ext in (".spv", ".inc"):
        p = os.path.join(spv_dir, name + ext)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"no SPIR-V for {name} in {spv_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spv-dir", required=True, help="the Vulkan build's SPIR-V (build/kernels/vulkan/spirv)")
    ap.add_argument("--out-dir", required=True, help="where <kernel>.metal go (kernels/metal/msl)")
    ap.add_argument("--any-version", action="store_true",
                    help=f"write even when spirv-cross is not {PINNED} (the files will not match CI's)")
    a = ap.parse_args()
    if not shutil.which("spirv-cross"):
        print("gen_msl: spirv-cross not found (Debian: apt-get install spirv-cross)", file=sys.stderr)
        return 1
    ver = installed_version()
    if ver is None or not ver.startswith(PINNED):
        print(f"gen_msl: spirv-cross is {ver or 'of unknown version'}, the committed files come from {PINNED} "
              "(Debian 12)" + ("" if a.any_version else "; pass --any-version to write anyway"), file=sys.stderr)
        if not a.any_version:
            return 1
    names = kernel_names(a.spv_dir)
    if not names:
        print(f"gen_msl: no SPIR-V in {a.spv_dir} (build the Vulkan backend first)", file=sys.stderr)
        return 1
    os.makedirs(a.out_dir, exist_ok=True)
    for name in names:
        text = generate(spirv_words(spirv_path(a.spv_dir, name)), name)
        with open(os.path.join(a.out_dir, name + ".metal"), "w") as f:
            f.write(text)
    for f in os.listdir(a.out_dir):
        if f.endswith(".metal") and f[:-6] not in names:
            os.remove(os.path.join(a.out_dir, f))
    print(f"gen_msl: {len(names)} kernels into {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
