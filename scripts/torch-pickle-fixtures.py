#!/usr/bin/python3
"""Writes torchfile/testdata/persistent_p{2,4}.pkl with a real PyTorch
(Debian's python3-torch): networks pickled the way the StyleGAN2-ADA code
base (which Lafite builds on) writes its .pkl files. Its
torch_utils.persistence makes each network class pickle as
_reconstruct_persistent_obj(meta), meta = dict(type, version, module_src,
class_name, state=the instance's __dict__); tensors' storages pickle as
torch.storage._load_from_bytes(a legacy torch.save of the storage). The
modules the pickle names are stood in by reference_pickle.py; torchfile
never runs them.

    /usr/bin/python3 scripts/torch-pickle-fixtures.py torchfile/testdata
"""
import os
import pickle
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_pickle import EasyDict, Persistent  # noqa: E402


class MappingNetwork(Persistent):
    def __init__(self):
        super().__init__()
        self.z_dim = 4
        self.fc0 = torch.nn.Linear(4, 3)
        self.register_buffer("w_avg", torch.arange(3, dtype=torch.float32))


class AugmentPipe(Persistent):
    def __init__(self):
        super().__init__()
        self.register_buffer("p", torch.tensor([0.25]))


class Generator(Persistent):
    def __init__(self):
        super().__init__()
        self.init_kwargs = dict(z_dim=4, img_resolution=8)
        self.mapping = MappingNetwork()
        self.const = torch.nn.Parameter(torch.arange(6, dtype=torch.float32).reshape(1, 2, 3) - 2)


out = sys.argv[1]
G = Generator()
with torch.no_grad():
    G.mapping.fc0.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4)
    G.mapping.fc0.bias.copy_(torch.tensor([0.5, -0.5, 1.0]))
G_ema = Generator()
G_ema.load_state_dict(G.state_dict())
with torch.no_grad():
    G_ema.const.mul_(2)
data = dict(G=G, G_ema=G_ema, augment_pipe=AugmentPipe(),
            training_set_kwargs=EasyDict(resolution=8, path="images.zip"),
            extra=EasyDict(t=torch.tensor([1.0, 2.0])))
for protocol in (2, 4):
    with open(os.path.join(out, "persistent_p%d.pkl" % protocol), "wb") as f:
        pickle.dump(data, f, protocol=protocol)
print("torch", torch.__version__)
