#!/usr/bin/python3
"""Writes a lafite-go generator (safetensors, G_ema.* tensors) as a network
pickle laid out as the reference code's .pkl (persistent classes, storages
as legacy torch.save bytes), with a real PyTorch (Debian's python3-torch).
It checks lafite.ImportGenerator end to end: the bundled demo generator,
converted, must draw the same grid.

    /usr/bin/python3 scripts/generator-to-pkl.py lafite/demo/assets/generator.safetensors /tmp/G.pkl
    go run ./cmd/lafite demo --generator /tmp/G.pkl --out /tmp/b   # same report and demo.png as without
"""
import json
import os
import pickle
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_pickle import Persistent  # noqa: E402


class Generator(Persistent):
    pass


BUFFERS = {"resample_filter", "noise_const", "w_avg"}

raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
G = Generator()
for name, info in header.items():
    if not name.startswith("G_ema."):
        continue
    if info["dtype"] != "F32":
        sys.exit("%s: dtype %s, expected F32" % (name, info["dtype"]))
    a, b = info["data_offsets"]
    t = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"]).clone()
    *path, leaf = name[len("G_ema."):].split(".")
    m = G
    for p in path:
        if not isinstance(getattr(m, p, None), torch.nn.Module):
            m.add_module(p, torch.nn.Module())
        m = getattr(m, p)
    if leaf in BUFFERS:
        m.register_buffer(leaf, t)
    else:
        m.register_parameter(leaf, torch.nn.Parameter(t))
with open(sys.argv[2], "wb") as f:
    pickle.dump(dict(G_ema=G), f)
