#!/usr/bin/env python3
"""Write a safetensors file exactly as the format specifies (stdlib only),
as an independent producer for test_safetensors: u64 LE header length, JSON
header padded with spaces to a multiple of 8, then the data area.

usage: write_st.py OUT            (single file)
       write_st.py --sharded DIR  (two shards + model.safetensors.index.json)
"""
import json
import struct
import sys


def tensors():
    # name -> (dtype, shape, raw bytes); values chosen so the C side can
    # recompute them: f32 i*0.5-3, bf16 bit patterns of 1..8, u8 0..15,
    # i64 -1,2**40, f16 bits of 1.0, -2.0, 0.5
    f32 = struct.pack("<12f", *[i * 0.5 - 3 for i in range(12)])
    bf16 = struct.pack("<8H", *[struct.unpack("<I", struct.pack("<f", float(i)))[0] >> 16 for i in range(1, 9)])
    u8 = bytes(range(16))
    i64 = struct.pack("<2q", -1, 2 ** 40)
    f16 = struct.pack("<3H", 0x3C00, 0xC000, 0x3800)
    return {
        "model.layers.0.weight": ("F32", [3, 4], f32),
        "model.layers.0.bias": ("BF16", [8], bf16),
        "blocks": ("U8", [2, 2, 4], u8),
        "ids": ("I64", [2], i64),
        "half": ("F16", [3], f16),
        "scalar_empty": ("F32", [0, 5], b""),
    }


def write(path, items, metadata=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    # data laid out in reverse name order so offsets are not sorted by name
    for name in sorted(items, reverse=True):
        dtype, shape, raw = items[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(data)


def main():
    t = tensors()
    if sys.argv[1] == "--sharded":
        d = sys.argv[2]
        names = sorted(t)
        a = {n: t[n] for n in names[:3]}
        b = {n: t[n] for n in names[3:]}
        write(d + "/model-00001-of-00002.safetensors", a, {"format": "pt"})
        write(d + "/model-00002-of-00002.safetensors", b, {"format": "pt"})
        wm = {n: "model-00001-of-00002.safetensors" for n in a}
        wm.update({n: "model-00002-of-00002.safetensors" for n in b})
        with open(d + "/model.safetensors.index.json", "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": wm}, f, indent=2)
    else:
        write(sys.argv[1], t, {"format": "pt"})


if __name__ == "__main__":
    main()
