"""Shared helpers of the Python module's tests (tests/python/, run by CTest with label `python`).

Shapes follow the module's convention: B batch, T time, C channels, NH heads, V vocabulary,
N = B*T tokens; matrices are (features, N) Fortran-ordered, token t of sequence b in column b*T + t.
"""
import json
import os
import struct

import numpy as np
import pytest

import gptbook as gb

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def tiny_config():
    """A model small enough for finite differences: V11 T8 L2 NH2 C16."""
    return gb.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


@pytest.fixture
def tiny_model(tiny_config):
    return gb.GPT(tiny_config, seed=7)


def random_ids(rng, V, *shape):
    """Token ids in [0, V) of the given shape, int64 like most NumPy integer arrays."""
    return rng.integers(0, V, size=shape)


def read_safetensors(path):
    """A safetensors file with NumPy alone: (tensors by name, metadata)."""
    dtypes = {"F32": np.float32, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtypes[h["dtype"]]).reshape(h["shape"])
    return tensors, meta
