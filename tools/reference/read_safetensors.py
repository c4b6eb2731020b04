"""Minimal safetensors reader and writer with numpy only (no torch, no safetensors package).

Format: 8-byte little-endian u64 header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, padded with
spaces, then the raw little-endian tensor data; offsets are relative to the first byte after the
header. The reader checks that the tensors tile the data section exactly, so a truncated or
corrupt file fails loudly instead of returning garbage.

Usage as a script: prints every tensor's name, dtype and shape, and the metadata.
  /usr/bin/python3 tools/reference/read_safetensors.py tests/fixtures/gpt_reference.safetensors
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "BOOL": "?"}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    """Returns (tensors, metadata): {name: np.ndarray}, {str: str}. Raises ValueError on bad files."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, expected at least 8 (header length); truncated?")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(blob)}; truncated?")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors, spans = {}, []
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected one of {list(DTYPES)}")
        dt = np.dtype(DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * dt.itemsize or end > len(data):
            raise ValueError(f"{path}: tensor {name} spans [{begin}, {end}) but shape {info['shape']} "
                             f"x {dt.itemsize} bytes needs {count * dt.itemsize} within {len(data)} bytes")
        tensors[name] = np.frombuffer(data, dtype=dt, count=count, offset=begin).reshape(info["shape"]).copy()
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            raise ValueError(f"{path}: data section has a gap or overlap at byte {pos} (next tensor at {begin})")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: tensors cover {pos} bytes but the data section has {len(data)}")
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes {name: np.ndarray} sorted by name, contiguous, header space-padded to a multiple of 8.

    The bytes depend only on the inputs (sorted names, compact JSON), so equal inputs give equal files.
    """
    header = {"__metadata__": dict(metadata)} if metadata else {}
    chunks, offset = [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        if a.dtype not in NAMES:
            raise ValueError(f"tensor {name} has numpy dtype {a.dtype}, expected one of {list(NAMES)}")
        raw = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_safetensors.py FILE.safetensors")
    tensors, metadata = read_safetensors(sys.argv[1])
    for name, a in tensors.items():
        print(f"{name:40s} {str(a.dtype):8s} {list(a.shape)}")
    for key, value in metadata.items():
        print(f"__metadata__.{key} = {value}")


if __name__ == "__main__":
    main()
