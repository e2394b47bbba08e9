#!/usr/bin/env python3
"""An independent .gptoss reader, written from docs/FORMAT.md only (stdlib).

usage: read_gptoss.py FILE [EXPECT]

Parses the preamble and the JSON header, checks the layout rules of the
spec (alignment, bounds, sizes from shape and type, no overlaps, zero
padding, unique names, hparams shape), decodes every tensor of a known
type, and with EXPECT (lines "t NAME INDEX VALUE" and "blob NAME HEX")
compares decoded values and blob bytes. XXH3 is not in the standard
library, so payload hashes are only checked for their textual form.
Exit 0 when everything holds, 1 with a message otherwise.
"""
import json
import struct
import sys

ALIGN = 16384
# name: (values per block, bytes per block)
TYPES = {"f32": (1, 4), "f16": (1, 2), "bf16": (1, 2),
         "mxfp4": (32, 17), "q8_32": (32, 34), "q4_32": (32, 18)}
K = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]


def fail(msg):
    print("read_gptoss: " + msg)
    sys.exit(1)


def f16(b, off):
    return struct.unpack_from("<e", b, off)[0]


def decode(typ, raw):
    """All values of a payload as Python floats, in storage order."""
    out = []
    if typ == "f32":
        out = list(struct.unpack("<%df" % (len(raw) // 4), raw))
    elif typ == "f16":
        out = list(struct.unpack("<%de" % (len(raw) // 2), raw))
    elif typ == "bf16":
        for (h,) in struct.iter_unpack("<H", raw):
            out.append(struct.unpack("<f", struct.pack("<I", h << 16))[0])
    elif typ == "q8_32":
        for b in range(0, len(raw), 34):
            d = f16(raw, b)
            out += [q * d for q in struct.unpack_from("<32b", raw, b + 2)]
    elif typ == "q4_32":
        for b in range(0, len(raw), 18):
            d = f16(raw, b)
            qs = raw[b + 2:b + 18]
            out += [((q & 15) - 8) * d for q in qs] + [((q >> 4) - 8) * d for q in qs]
    elif typ == "mxfp4":
        for b in range(0, len(raw), 17):
            s = 2.0 ** (raw[b] - 128)
            qs = raw[b + 1:b + 17]
            out += [K[q & 15] * s for q in qs] + [K[q >> 4] * s for q in qs]
    return out


def main():
    if len(sys.argv) not in (2, 3):
        fail(__doc__)
    data = open(sys.argv[1], "rb").read()
    n = len(data)
    if n < 40:
        fail("shorter than the preamble")
    magic, version, flags, hlen, hhash, doff = struct.unpack_from("<8sIIQQQ", data, 0)
    if magic != b"GPTOSS\0\0":
        fail("bad magic")
    if version != 1 or flags != 0:
        fail("version %d flags %d" % (version, flags))
    if not (2 <= hlen <= 64 << 20) or 40 + hlen > n:
        fail("header_len %d" % hlen)
    if doff % ALIGN or doff < 40 + hlen or doff > n or n % ALIGN:
        fail("data_offset %d / length %d not aligned or out of range" % (doff, n))
    header = json.loads(data[40:40 + hlen].decode("utf-8"))
    if header.get("format") != "gptoss" or header.get("version") != version:
        fail("format/version keys")
    hp = header["hparams"]
    for key in ("n_layers", "n_experts", "n_experts_per_tok", "hidden", "intermediate", "n_heads",
                "n_kv_heads", "head_dim", "vocab", "sliding_window", "max_ctx", "rope_theta",
                "rope_factor", "rope_orig_ctx", "rope_beta_fast", "rope_beta_slow", "rope_truncate",
                "rms_eps", "swiglu_limit", "layer_sliding", "eos_ids", "pad_id", "bos_id"):
        if key not in hp:
            fail("hparams.%s missing" % key)
    if len(hp["layer_sliding"]) != hp["n_layers"]:
        fail("layer_sliding length")
    if not isinstance(header["quant"], dict) or not isinstance(header["provenance"], dict):
        fail("quant/provenance")

    spans = []
    values = {}
    blobs = {}
    for kind in ("tensors", "blobs"):
        names = set()
        for e in header[kind]:
            name, off, size, hx = e["name"], e["offset"], e["size"], e["xxh3"]
            if name in names:
                fail("duplicate %s %s" % (kind, name))
            names.add(name)
            if len(hx) != 16 or any(c not in "0123456789abcdef" for c in hx):
                fail("%s: xxh3 text %r" % (name, hx))
            if off % ALIGN or off < doff or off + size > n:
                fail("%s: offset %d size %d outside/unaligned" % (name, off, size))
            raw = data[off:off + size]
            if kind == "tensors":
                bv, bb = TYPES[e["type"]]
                shape = e["shape"]
                if not 1 <= len(shape) <= 4 or min(shape) < 1 or shape[-1] % bv:
                    fail("%s: shape %r" % (name, shape))
                rows = 1
                for d in shape[:-1]:
                    rows *= d
                if size != rows * shape[-1] // bv * bb:
                    fail("%s: size %d does not match shape %r type %s" % (name, size, shape, e["type"]))
                values[name] = decode(e["type"], raw)
            else:
                blobs[name] = raw
            if size:
                spans.append((off, size, name))
    spans.sort()
    at, after = 40 + hlen, "header"
    for off, size, name in spans + [(n, 0, "end")]:
        if off < at:
            fail("%s overlaps %s" % (name, after))
        if any(data[at:off]):
            fail("non-zero padding after %s" % after)
        at, after = off + size, name

    checked = 0
    if len(sys.argv) == 3:
        for line in open(sys.argv[2]):
            f = line.split()
            if not f:
                continue
            if f[0] == "t":
                got = values[f[1]][int(f[2])]
                want = float(f[3])
                if got != want:
                    fail("%s[%s] = %r, expected %r" % (f[1], f[2], got, want))
            elif f[0] == "blob":
                if blobs[f[1]] != bytes.fromhex(f[2] if len(f) > 2 else ""):
                    fail("blob %s differs" % f[1])
            checked += 1
    print("read_gptoss: OK: %d tensors, %d blobs, %d expectations checked"
          % (len(header["tensors"]), len(header["blobs"]), checked))


if __name__ == "__main__":
    main()
