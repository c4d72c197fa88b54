#!/usr/bin/python3
"""Writes torchfile/testdata's legacy checkpoints with a real PyTorch
(Debian's python3-torch): the same objects in the legacy format
(_use_new_zipfile_serialization=False) and in the zip format, which
torchfile's tests load and compare.

    /usr/bin/python3 scripts/torch-legacy-fixtures.py torchfile/testdata
"""
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2, bias=False))
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(torch.arange(p.numel(), dtype=torch.float32).reshape(p.shape) / (i + 2) - 1)
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
state = dict(net.state_dict())
state.update({
    "transposed": base.t(),                    # a strided view
    "slice": base[1:, 2:],                     # an offset view of the same storage
    "half": torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
    "steps": torch.tensor([3, -1, 1 << 40], dtype=torch.int64),
    "scalar": torch.tensor(2.5),
})
for name, legacy in (("legacy_state.pt", True), ("zip_state.pt", False)):
    torch.save(state, os.path.join(out, name), _use_new_zipfile_serialization=not legacy)
# A whole pickled module (its class by reference), legacy format.
torch.save(net, os.path.join(out, "legacy_module.pt"), _use_new_zipfile_serialization=False)
print("torch", torch.__version__)
