"""Stand-ins for the modules that the reference code's network pickles name
(torch_utils.persistence, dnnlib.util), so that objects pickled here refer
to them as the reference's .pkl files do. Nothing reads them back in
Python: lafite-go does.

Persistent classes pickle as _reconstruct_persistent_obj(meta), meta =
dict(type, version, module_src, class_name, state=the instance's __dict__);
EasyDict is a dict subclass pickled by class, then its items.
"""
import sys
import types

import torch

persistence = types.ModuleType("torch_utils.persistence")
sys.modules["torch_utils"] = types.ModuleType("torch_utils")
sys.modules["torch_utils.persistence"] = persistence
util = types.ModuleType("dnnlib.util")
sys.modules["dnnlib"] = types.ModuleType("dnnlib")
sys.modules["dnnlib.util"] = util


def _reconstruct_persistent_obj(meta):
    raise NotImplementedError("only written here, read by lafite-go")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj


class Persistent(torch.nn.Module):
    def __reduce__(self):
        meta = dict(type="class", version=6, module_src="# source of the network module",
                    class_name=type(self).__name__, state=self.__dict__)
        return (_reconstruct_persistent_obj, (meta,))


class EasyDict(dict):
    """A dict subclass, as dnnlib's."""


EasyDict.__module__ = "dnnlib.util"
util.EasyDict = EasyDict
