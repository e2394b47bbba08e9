#!/usr/bin/env python3
"""An independent .gptoss reader, written from docs/FORMAT.md only (stdlib).

usage: read_gptoss.py FILE [EXPECT]
       read_gptoss.py FILE --hf CHECKPOINT_DIR

Parses the preamble and the JSON header, checks the layout rules of the
spec (alignment, bounds, sizes from shape and type, no overlaps, zero
padding, unique names, hparams shape), decodes every tensor of a known
type, and with EXPECT (lines "t NAME INDEX VALUE" and "blob NAME HEX")
compares decoded values and blob bytes. A file holding a model (it has an
"embed" tensor) must also have exactly the tensors of FORMAT.md section 4
with their shapes and allowed types. With --hf, every tensor that must be
exact (bf16/f32 from BF16, mxfp4/q8_32 from MXFP4 experts) is compared
value by value with the Hugging Face safetensors checkpoint it came from,
decoded here from the HF conventions (which also checks the gate/up row
interleave and that each expert's rows are contiguous).
XXH3 is not in the standard library, so payload hashes are only checked
for their textual form. Exit 0 when everything holds, 1 with a message.
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


def bf16_values(raw):
    return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for (h,) in struct.iter_unpack("<H", raw)]


def check_model(header):
    """FORMAT.md section 4: the canonical tensor list, shapes and types."""
    hp = header["hparams"]
    D, I, E, V = hp["hidden"], hp["intermediate"], hp["n_experts"], hp["vocab"]
    Hq, Hkv = hp["n_heads"] * hp["head_dim"], hp["n_kv_heads"] * hp["head_dim"]
    mat = ("bf16", "q8_32", "q4_32")
    exp = ("mxfp4", "q8_32", "q4_32", "bf16")
    want = {"embed": ([V, D], mat), "head": ([V, D], mat), "norm": ([D], ("f32",))}
    for L in range(hp["n_layers"]):
        b = "blk.%d." % L
        want.update({
            b + "attn_norm": ([D], ("f32",)), b + "ffn_norm": ([D], ("f32",)),
            b + "attn_q": ([Hq, D], mat), b + "attn_q_bias": ([Hq], ("f32",)),
            b + "attn_k": ([Hkv, D], mat), b + "attn_k_bias": ([Hkv], ("f32",)),
            b + "attn_v": ([Hkv, D], mat), b + "attn_v_bias": ([Hkv], ("f32",)),
            b + "attn_out": ([D, Hq], mat), b + "attn_out_bias": ([D], ("f32",)),
            b + "attn_sinks": ([hp["n_heads"]], ("f32",)),
            b + "router": ([E, D], ("f32",)), b + "router_bias": ([E], ("f32",)),
            b + "exp_gate_up": ([E, 2 * I, D], exp), b + "exp_gate_up_bias": ([E, 2 * I], ("f32",)),
            b + "exp_down": ([E, D, I], exp), b + "exp_down_bias": ([E, D], ("f32",)),
        })
    have = {e["name"]: e for e in header["tensors"]}
    if set(have) != set(want):
        fail("tensor names differ from FORMAT.md section 4: missing %s, extra %s"
             % (sorted(set(want) - set(have))[:5], sorted(set(have) - set(want))[:5]))
    for name, (shape, types) in want.items():
        if have[name]["shape"] != shape or have[name]["type"] not in types:
            fail("%s: shape %r type %s, expected %r one of %s"
                 % (name, have[name]["shape"], have[name]["type"], shape, types))


def load_hf(ckpt):
    """name -> (dtype, shape, bytes) from model.safetensors(.index.json)."""
    import os
    idx = os.path.join(ckpt, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    out = {}
    for fn in files:
        blob = open(os.path.join(ckpt, fn), "rb").read()
        (hl,) = struct.unpack_from("<Q", blob, 0)
        for name, e in json.loads(blob[8:8 + hl]).items():
            if name == "__metadata__":
                continue
            a, b = e["data_offsets"]
            out[name] = (e["dtype"], e["shape"], blob[8 + hl + a:8 + hl + b])
    return out


FP4 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def hf_mxfp4(blocks, scales):
    """HF storage: element 2k = low nibble of byte k, value FP4 * 2^(s-127)."""
    out = []
    for i, s in enumerate(scales):
        m = 2.0 ** (s - 127)
        for byte in blocks[16 * i:16 * i + 16]:
            out.append(FP4[byte & 15] * m)
            out.append(FP4[byte >> 4] * m)
    return out


def compare_hf(header, values, ckpt):
    hf = load_hf(ckpt)
    types = {e["name"]: e["type"] for e in header["tensors"]}
    pairs = {"embed": "model.embed_tokens.weight", "head": "lm_head.weight", "norm": "model.norm.weight"}
    for L in range(header["hparams"]["n_layers"]):
        h, b = "model.layers.%d." % L, "blk.%d." % L
        pairs.update({b + "attn_norm": h + "input_layernorm.weight", b + "ffn_norm": h + "post_attention_layernorm.weight",
                      b + "attn_sinks": h + "self_attn.sinks", b + "router": h + "mlp.router.weight",
                      b + "router_bias": h + "mlp.router.bias",
                      b + "exp_gate_up_bias": h + "mlp.experts.gate_up_proj_bias",
                      b + "exp_down_bias": h + "mlp.experts.down_proj_bias"})
        for p, q in (("q", "q"), ("k", "k"), ("v", "v"), ("out", "o")):
            pairs[b + "attn_" + p] = h + "self_attn.%s_proj.weight" % q
            pairs[b + "attn_%s_bias" % p] = h + "self_attn.%s_proj.bias" % q
        pairs[b + "exp_gate_up"] = h + "mlp.experts.gate_up_proj"
        pairs[b + "exp_down"] = h + "mlp.experts.down_proj"
    compared = 0
    for ours, theirs in pairs.items():
        t = types[ours]
        if theirs.endswith("_proj"):          # MXFP4 experts: exact for mxfp4 and q8_32
            if t not in ("mxfp4", "q8_32"):
                continue
            ref = hf_mxfp4(hf[theirs + "_blocks"][2], hf[theirs + "_scales"][2])
        else:
            if t not in ("bf16", "f32"):
                continue
            ref = bf16_values(hf[theirs][2])
        got = values[ours]
        if len(got) != len(ref):
            fail("%s: %d values, HF %s has %d" % (ours, len(got), theirs, len(ref)))
        for j, (a, r) in enumerate(zip(got, ref)):
            if a != r:
                fail("%s[%d] = %r but HF %s gives %r" % (ours, j, a, theirs, r))
        compared += 1
    return compared


def main():
    hf_dir = None
    if len(sys.argv) == 4 and sys.argv[2] == "--hf":
        hf_dir = sys.argv.pop(3)
        sys.argv.pop(2)
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
    if "embed" in values:
        check_model(header)
    if hf_dir:
        checked += compare_hf(header, values, hf_dir)
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
