#!/usr/bin/env python3
"""Compare the Go engine's GPU workloads (`lafite bench --device cuda`) with
PyTorch on the same GPU, interleaved in rounds.

Only torch primitives are used, written the way StyleGAN2-ADA's reference
(non-plugin) paths write them: modulated conv as one grouped conv2d of
per-sample weights (--modconv grouped, the default; `nonfused` is the
x*styles, conv2d, *dcoefs form the Go engine and StyleGAN2's training use),
up=2 as conv_transpose2d followed by the 4x4 FIR filter, upfirdn2d as
F.pad + a depthwise conv2d with the 4x4 filter, bias_act as bias +
leaky_relu * sqrt(2) (+ clamp). The Lafite workloads are a small
Lafite-like generator, discriminator and training step with the shapes of the
Go engine's (lafite/generator.go, discriminator.go, train.go,
bench/workloads_models.go): 64x64, 512 channels at every resolution, 512-d
z, w and CLIP features, 8 mapping layers, text-conditioned styles
(structure 2), the resnet discriminator with minibatch-std and the
projection head; the training step is Gmain, path length every 4 steps
(half batch), Dmain, R1 every 16 steps, Adam with lazy-regularization
hyper-parameters, nan_to_num of the gradients, the G_ema update, style mixing
0.9, random noise, and the loss values read once at the end of the step. No
CLIP image loss (as in the Go workload).

Timing on both sides: CUDA events around each run, warm-up first, median of
the runs (at least --runs and --min-time of runs); the training step in whole
16-step cycles. cudnn.benchmark on; TF32 OFF for matmul and cuDNN, so FP32
is compared with FP32. (The Go side's autotuner may run a GEMM on tensor
cores, but only as three TF32 products per multiply-add, which keep float32's
accuracy: see sgemm.cu, sgemm_tc_tile; LAFITE_CUDA_GEMM=bk8 keeps FFMA.)

  compare_torch_gpu.py --go PATH [--rounds 3] [--only NAMES] [--modconv grouped|nonfused]
      rounds of: `PATH bench --device cuda --json`, then this script's torch
      worker (each a fresh process), then a table of workload, Go median,
      PyTorch median and their ratio (median over rounds of each side's
      median; "-" where a side has no such workload or it failed).
  compare_torch_gpu.py --worker [--only NAMES]    torch side alone: one JSON record per workload
  compare_torch_gpu.py --dry-run-cpu [--only NAMES] [--go PATH]
      the torch side on the CPU at tiny sizes (sizes divided by 16, the models
      as 16x16 networks of 16 channels), one run each: checks the script runs;
      with --go, the whole driver so (the Go side with --shrink 16, which
      still needs a GPU or reports why it has none).
"""

import argparse
import copy
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

SQRT2 = math.sqrt(2)


# ---------------------------------------------------------------- set-up


class Env:
    """Where a workload runs and by how much its sizes shrink (1: the named workload)."""

    def __init__(self, device, shrink=1):
        self.device = device
        self.shrink = shrink

    def size(self, v, lo):
        return v if self.shrink <= 1 else max(lo, v // self.shrink)

    def randn(self, *shape, grad=False):
        import torch
        return torch.randn(*shape, device=self.device).requires_grad_(grad)


def _fwdbwd(fn, inputs):
    """run() = forward, then backward of the sum w.r.t. every input."""
    def run():
        for t in inputs:
            t.grad = None
        fn().sum().backward()
    return run


def setup_filter(device):
    import torch
    f = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device)
    f = f.ger(f)
    return f / f.sum()


# ---------------------------------------------------------------- StyleGAN2 ops (reference paths)


def upfirdn2d(x, f, up=1, down=1, padding=(0, 0, 0, 0), flip_filter=False, gain=1.0):
    """StyleGAN2-ADA's _upfirdn2d_ref: zero-insert, pad (or crop), depthwise
    2-D FIR as a grouped conv2d, subsample."""
    import torch
    import torch.nn.functional as F
    if f is None:
        f = torch.ones([1, 1], device=x.device)
    n, c, h, w = x.shape
    px0, px1, py0, py1 = padding
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0):x.shape[2] - max(-py1, 0), max(-px0, 0):x.shape[3] - max(-px1, 0)]
    f = f * (gain ** (f.ndim / 2))
    if not flip_filter:
        f = f.flip(list(range(f.ndim)))
    f = f[None, None].repeat([c, 1] + [1] * f.ndim)
    x = F.conv2d(x, f, groups=c)
    return x[:, :, ::down, ::down]


def _conv2d_wrapper(x, w, stride=1, padding=0, groups=1, transpose=False, flip_weight=True):
    import torch.nn.functional as F
    if not flip_weight:
        w = w.flip([2, 3])
    op = F.conv_transpose2d if transpose else F.conv2d
    return op(x, w, stride=stride, padding=padding, groups=groups)


def conv2d_resample(x, w, f=None, up=1, down=1, padding=0, groups=1, flip_weight=True):
    """StyleGAN2-ADA's conv2d_resample (its fast paths)."""
    out_ch, in_per_group, kh, kw = w.shape
    fw, fh = (f.shape[-1], f.shape[0]) if f is not None else (1, 1)
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0 += (fw + up - 1) // 2
        px1 += (fw - up) // 2
        py0 += (fh + up - 1) // 2
        py1 += (fh - up) // 2
    if down > 1:
        px0 += (fw - down + 1) // 2
        px1 += (fw - down) // 2
        py0 += (fh - down + 1) // 2
        py1 += (fh - down) // 2
    if kw == 1 and kh == 1 and down > 1 and up == 1:
        x = upfirdn2d(x, f, down=down, padding=(px0, px1, py0, py1))
        return _conv2d_wrapper(x, w, groups=groups, flip_weight=flip_weight)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        x = _conv2d_wrapper(x, w, groups=groups, flip_weight=flip_weight)
        return upfirdn2d(x, f, up=up, padding=(px0, px1, py0, py1), gain=up ** 2)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=(px0, px1, py0, py1))
        return _conv2d_wrapper(x, w, stride=down, groups=groups, flip_weight=flip_weight)
    if up > 1:
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_ch // groups, in_per_group, kh, kw).transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_ch // groups, kh, kw)
        px0 -= kw - 1
        px1 -= kw - up
        py0 -= kh - 1
        py1 -= kh - up
        pxt = max(min(-px0, -px1), 0)
        pyt = max(min(-py0, -py1), 0)
        x = _conv2d_wrapper(x, w, stride=up, padding=[pyt, pxt], groups=groups, transpose=True,
                            flip_weight=not flip_weight)
        x = upfirdn2d(x, f, padding=(px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt), gain=up ** 2)
        if down > 1:
            x = upfirdn2d(x, f, down=down)
        return x
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return _conv2d_wrapper(x, w, padding=[py0, px0], groups=groups, flip_weight=flip_weight)
    x = upfirdn2d(x, None, padding=(px0, px1, py0, py1))
    return _conv2d_wrapper(x, w, groups=groups, flip_weight=flip_weight)


def modulated_conv2d(x, weight, styles, noise=None, up=1, padding=0, f=None, demodulate=True, fused=False):
    """StyleGAN2-ADA's modulated_conv2d: fused = one grouped conv of
    per-sample weights; non-fused = x*styles, conv, *dcoefs (+ noise)."""
    import torch
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    w = None
    dcoefs = None
    if demodulate or fused:
        w = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
    flip = up == 1
    if not fused:
        x = x * styles.reshape(n, -1, 1, 1)
        x = conv2d_resample(x, weight, f=f, up=up, padding=padding, flip_weight=flip)
        if demodulate and noise is not None:
            return torch.addcmul(noise, x, dcoefs.reshape(n, -1, 1, 1))
        if demodulate:
            x = x * dcoefs.reshape(n, -1, 1, 1)
        elif noise is not None:
            x = x + noise
        return x
    if demodulate:
        w = w * dcoefs.reshape(n, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_ch, kh, kw)
    x = conv2d_resample(x, w, f=f, up=up, padding=padding, groups=n, flip_weight=flip)
    x = x.reshape(n, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise
    return x


def bias_act(x, b=None, act="linear", gain=None, clamp=None, alpha=0.2):
    """bias_act's reference path: add the bias, activation, gain, clamp."""
    import torch.nn.functional as F
    if b is not None:
        x = x + b.reshape([-1 if i == 1 else 1 for i in range(x.ndim)])
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
        gain = SQRT2 if gain is None else gain
    else:
        gain = 1.0 if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


# ---------------------------------------------------------------- op workloads


def w_sgemm(e, m, n, k):
    import torch
    m, n, k = e.size(m, 8), e.size(n, 8), e.size(k, 8)
    a, b, c = e.randn(m, k), e.randn(k, n), torch.empty(m, n, device=e.device)

    def run():
        torch.mm(a, b, out=c)
    return run, 2.0 * m * n * k, 0.0


def w_conv3x3(e, n, ch, hw, fwdbwd):
    import torch
    import torch.nn.functional as F
    ch, hw = e.size(ch, 4), e.size(hw, 4)
    x, w = e.randn(n, ch, hw, hw, grad=fwdbwd), e.randn(ch, ch, 3, 3, grad=fwdbwd)
    flops = 2.0 * n * ch * ch * 9 * hw * hw
    if not fwdbwd:
        def run():
            with torch.no_grad():
                F.conv2d(x, w, padding=1)
        return run, flops, 0.0
    return _fwdbwd(lambda: F.conv2d(x, w, padding=1), [x, w]), 3 * flops, 0.0


def w_modconv(e, n, ch, hw, up, fwdbwd, fused):
    import torch
    ch, hw = e.size(ch, 4), e.size(hw, 4)
    x = e.randn(n, ch, hw, hw, grad=fwdbwd)
    weight = e.randn(ch, ch, 3, 3, grad=fwdbwd)
    styles = e.randn(n, ch, grad=fwdbwd)
    f = setup_filter(e.device)
    flops = 2.0 * n * ch * ch * 9 * hw * hw  # the convolution's multiply-adds

    def fn():
        return modulated_conv2d(x, weight, styles, up=up, padding=1, f=f, demodulate=True, fused=fused)
    with torch.no_grad():
        shape = tuple(fn().shape)
    if shape != (n, ch, hw * up, hw * up):
        raise RuntimeError(f"modulated conv output of shape {shape}")
    if fwdbwd:
        return _fwdbwd(fn, [x, weight, styles]), 3 * flops, 0.0

    def run():
        with torch.no_grad():
            fn()
    return run, flops, 0.0


def w_upsample2d(e, n, ch, hw):
    import torch
    ch, hw = e.size(ch, 4), e.size(hw, 4)
    x, f = e.randn(n, ch, hw, hw), setup_filter(e.device)

    def run():
        with torch.no_grad():
            upfirdn2d(x, f, up=2, padding=(2, 1, 2, 1), gain=4.0)
    return run, 0.0, 4.0 * (n * ch * hw * hw + n * ch * 4 * hw * hw)


def w_bias_lrelu(e, n, ch, hw):
    ch, hw = e.size(ch, 4), e.size(hw, 4)
    x, b = e.randn(n, ch, hw, hw, grad=True), e.randn(ch, grad=True)
    return _fwdbwd(lambda: bias_act(x, b, "lrelu", clamp=256), [x, b]), 0.0, 4.0 * 4 * n * ch * hw * hw


# ---------------------------------------------------------------- CLIP


def clip_config(e):
    if e.shrink <= 1:
        return dict(embed=512, res=224, vlayers=12, vwidth=768, patch=32, vheads=12,
                    ctx=77, vocab=49408, twidth=512, theads=8, tlayers=12)
    return dict(embed=16, res=32, vlayers=1, vwidth=32, patch=16, vheads=2,
                ctx=77, vocab=1000, twidth=32, theads=2, tlayers=1)


def _transformer_params(e, layers, width):
    import torch
    d, dev = width, e.device
    return [dict(ln1=(torch.ones(d, device=dev), torch.zeros(d, device=dev)),
                 ln2=(torch.ones(d, device=dev), torch.zeros(d, device=dev)),
                 in_w=e.randn(3 * d, d) * d ** -0.5, in_b=torch.zeros(3 * d, device=dev),
                 out_w=e.randn(d, d) * d ** -0.5, out_b=torch.zeros(d, device=dev),
                 fc_w=e.randn(4 * d, d) * d ** -0.5, fc_b=torch.zeros(4 * d, device=dev),
                 proj_w=e.randn(d, 4 * d) * (4 * d) ** -0.5, proj_b=torch.zeros(d, device=dev))
            for _ in range(layers)]


def _transformer(x, blocks, heads, mask=None):
    """CLIP's residual attention blocks on x [N, L, d]: pre-LN, fused QKV
    projection, softmax attention, QuickGELU MLP."""
    import torch
    import torch.nn.functional as F
    n, L, d = x.shape
    dh = d // heads
    for b in blocks:
        h = F.layer_norm(x, (d,), *b["ln1"])
        q, k, v = F.linear(h, b["in_w"], b["in_b"]).split(d, dim=-1)
        q, k, v = (t.reshape(n, L, heads, dh).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * dh ** -0.5
        if mask is not None:
            att = att + mask
        h = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, L, d)
        x = x + F.linear(h, b["out_w"], b["out_b"])
        h = F.linear(F.layer_norm(x, (d,), *b["ln2"]), b["fc_w"], b["fc_b"])
        h = h * torch.sigmoid(1.702 * h)
        x = x + F.linear(h, b["proj_w"], b["proj_b"])
    return x


def _transformer_flops(layers, tokens, width):
    return layers * (2 * tokens * 12 * width * width + 4 * tokens * tokens * width)


def w_clip_image(e, batch):
    import torch
    import torch.nn.functional as F
    c = clip_config(e)
    res, patch, width, layers, heads, out = c["res"], c["patch"], c["vwidth"], c["vlayers"], c["vheads"], c["embed"]
    grid = res // patch
    conv1 = e.randn(width, 3, patch, patch) * 0.02
    cls, pos = e.randn(width) * width ** -0.5, e.randn(grid * grid + 1, width) * width ** -0.5
    blocks = _transformer_params(e, layers, width)
    proj = e.randn(width, out) * width ** -0.5
    img = e.randn(batch, 3, res, res)

    def run():
        with torch.no_grad():
            x = F.conv2d(img, conv1, stride=patch).reshape(batch, width, -1).transpose(1, 2)
            x = torch.cat([cls.expand(batch, 1, width), x], 1) + pos
            x = F.layer_norm(x, (width,))
            x = _transformer(x, blocks, heads)
            F.layer_norm(x[:, 0], (width,)) @ proj
    flops = batch * (2 * grid * grid * 3 * patch * patch * width + _transformer_flops(layers, grid * grid + 1, width))
    return run, flops, 0.0


def w_clip_text(e, batch):
    import torch
    import torch.nn.functional as F
    c = clip_config(e)
    ctx, vocab, width, layers, heads, out = c["ctx"], c["vocab"], c["twidth"], c["tlayers"], c["theads"], c["embed"]
    tok_emb = e.randn(vocab, width) * 0.02
    pos = e.randn(ctx, width) * 0.01
    blocks = _transformer_params(e, layers, width)
    proj = e.randn(width, out) * width ** -0.5
    mask = torch.full((ctx, ctx), float("-inf"), device=e.device).triu(1)
    tokens = torch.zeros(batch, ctx, dtype=torch.long)
    eot = []
    for i in range(batch):  # the same rows as the Go side
        n = 5 + 7 * i
        tokens[i, 0] = vocab - 2
        for j in range(1, n + 1):
            tokens[i, j] = (i * 131 + j * 977) % (vocab - 2)
        tokens[i, n + 1] = vocab - 1
        eot.append(n + 1)
    tokens = tokens.to(e.device)
    eot = torch.tensor(eot, device=e.device)
    rows = torch.arange(batch, device=e.device)

    def run():
        with torch.no_grad():
            x = tok_emb[tokens] + pos
            x = _transformer(x, blocks, heads, mask)
            x = F.layer_norm(x, (width,))
            x[rows, eot] @ proj
    return run, batch * _transformer_flops(layers, ctx, width), 0.0


# ---------------------------------------------------------------- a Lafite-like G and D


def lafite_configs(e, batch):
    """The Go engine's DefaultGeneratorConfig(64, 512) and
    DefaultDiscriminatorConfig(64, 512), or the 16x16 test networks."""
    if e.shrink <= 1:
        g = dict(z=512, w=512, f=512, res=64, ch_base=32768, ch_max=512, mapping=8)
        d = dict(res=64, ch_base=32768, ch_max=512, f=512, mbstd_group=4, mbstd_ch=1)
        return g, d, batch
    g = dict(z=16, w=16, f=8, res=16, ch_base=256, ch_max=16, mapping=2)
    d = dict(res=16, ch_base=256, ch_max=16, f=8, mbstd_group=4, mbstd_ch=1)
    return g, d, min(batch, 4)


def make_models(e, gcfg, dcfg):
    """Builds a generator and a discriminator (classes defined here so that
    torch is imported only by the torch side)."""
    import torch
    from torch import nn
    dev = e.device
    clamp = 256.0

    class FC(nn.Module):
        def __init__(self, i, o, bias=True, act="linear", lr_mul=1.0, bias_init=0.0):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(o, i, device=dev) / lr_mul)
            self.bias = nn.Parameter(torch.full([o], float(bias_init), device=dev)) if bias else None
            self.act, self.lr_mul, self.wg = act, lr_mul, lr_mul / math.sqrt(i)

        def forward(self, x):
            w = self.weight * self.wg
            b = self.bias
            if b is not None and self.lr_mul != 1:
                b = b * self.lr_mul
            if self.act == "linear" and b is not None:
                return torch.addmm(b.unsqueeze(0), x, w.t())
            return bias_act(x.matmul(w.t()), b, self.act)

    class Mapping(nn.Module):
        def __init__(self, z, w, num_ws, layers):
            super().__init__()
            self.num_ws = num_ws
            self.fcs = nn.ModuleList([FC(z if i == 0 else w, w, act="lrelu", lr_mul=0.01) for i in range(layers)])
            self.register_buffer("w_avg", torch.zeros(w, device=dev))

        def forward(self, z, update_w_avg=False):
            x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
            for fc in self.fcs:
                x = fc(x)
            if update_w_avg:
                self.w_avg.copy_(x.detach().mean(0).lerp(self.w_avg, 0.995))
            return x.unsqueeze(1).repeat(1, self.num_ws, 1)

    class TextStyles(nn.Module):  # structure 2: affine([MLP(h'), w])
        def __init__(self, f, w, out):
            super().__init__()
            mid = (f + 512) // 2
            self.pre0 = FC(f, mid, act="lrelu", lr_mul=0.01)
            self.pre1 = FC(mid, 512, act="lrelu", lr_mul=0.01)
            self.affine = FC(512 + w, out, bias_init=1.0)

        def forward(self, w, fts):
            return self.affine(torch.cat([self.pre1(self.pre0(fts)), w], 1))

    class SynthesisLayer(nn.Module):
        def __init__(self, i, o, w, f, res, up):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(o, i, 3, 3, device=dev))
            self.bias = nn.Parameter(torch.zeros(o, device=dev))
            self.noise_strength = nn.Parameter(torch.zeros([], device=dev))
            self.register_buffer("resample_filter", setup_filter(dev))
            self.register_buffer("noise_const", torch.randn(res, res, device=dev))
            self.text = TextStyles(f, w, i)
            self.res, self.up = res, up

        def forward(self, x, w, fts):
            styles = self.text(w, fts)
            noise = torch.randn([x.shape[0], 1, self.res, self.res], device=dev) * self.noise_strength
            x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=1,
                                 f=self.resample_filter, demodulate=True, fused=False)
            return bias_act(x, self.bias, "lrelu", clamp=clamp)

    class ToRGB(nn.Module):
        def __init__(self, i, o, w, f):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(o, i, 1, 1, device=dev))
            self.bias = nn.Parameter(torch.zeros(o, device=dev))
            self.text = TextStyles(f, w, i)
            self.wg = 1 / math.sqrt(i)

        def forward(self, x, w, fts):
            styles = self.text(w, fts) * self.wg
            x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=False)
            return bias_act(x, self.bias, "linear", clamp=clamp)

    def ch(cfg, r):
        return min(cfg["ch_base"] // r, cfg["ch_max"])

    class Generator(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = c
            self.num_ws = 2 * int(math.log2(c["res"])) - 2
            self.mapping = Mapping(c["z"], c["w"], self.num_ws, c["mapping"])
            self.blocks = nn.ModuleList()
            self.register_buffer("resample_filter", setup_filter(dev))
            r = 4
            while r <= c["res"]:
                b = nn.Module()
                out = ch(c, r)
                if r == 4:
                    b.const = nn.Parameter(torch.randn(out, 4, 4, device=dev))
                    b.conv0 = None
                else:
                    b.conv0 = SynthesisLayer(ch(c, r // 2), out, c["w"], c["f"], r, 2)
                b.conv1 = SynthesisLayer(out, out, c["w"], c["f"], r, 1)
                b.torgb = ToRGB(out, 3, c["w"], c["f"])
                self.blocks.append(b)
                r *= 2

        def synthesis(self, ws, fts):
            x = img = None
            idx = 0
            for b in self.blocks:
                k = 0
                if b.conv0 is None:
                    x = b.const.unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
                else:
                    x = b.conv0(x, ws[:, idx], fts)
                    k += 1
                x = b.conv1(x, ws[:, idx + k], fts)
                k += 1
                if img is not None:
                    img = upfirdn2d(img, self.resample_filter, up=2, padding=(2, 1, 2, 1), gain=4.0)
                y = b.torgb(x, ws[:, idx + k], fts)
                img = y if img is None else img + y
                idx += k
            return img

        def forward(self, z, fts):
            return self.synthesis(self.mapping(z), fts)

    class Conv2dLayer(nn.Module):
        def __init__(self, i, o, k, bias=True, act="linear", down=1):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(o, i, k, k, device=dev))
            self.bias = nn.Parameter(torch.zeros(o, device=dev)) if bias else None
            self.register_buffer("resample_filter", setup_filter(dev))
            self.act, self.down, self.wg, self.pad = act, down, 1 / math.sqrt(i * k * k), k // 2
            self.clamp = clamp if bias else None

        def forward(self, x, gain=1.0):
            x = conv2d_resample(x, self.weight * self.wg, f=self.resample_filter, down=self.down, padding=self.pad)
            act_gain = SQRT2 if self.act == "lrelu" else 1.0
            c = self.clamp * gain if self.clamp is not None else None
            return bias_act(x, self.bias, self.act, gain=act_gain * gain, clamp=c)

    class Discriminator(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = c
            self.blocks = nn.ModuleList()
            r = c["res"]
            while r > 4:
                tmp, out = ch(c, r), ch(c, r // 2)
                b = nn.Module()
                b.fromrgb = Conv2dLayer(3, tmp, 1, act="lrelu") if r == c["res"] else None
                b.conv0 = Conv2dLayer(tmp, tmp, 3, act="lrelu")
                b.conv1 = Conv2dLayer(tmp, out, 3, act="lrelu", down=2)
                b.skip = Conv2dLayer(tmp, out, 1, bias=False, down=2)
                self.blocks.append(b)
                r //= 2
            c4 = ch(c, 4)
            self.conv = Conv2dLayer(c4 + c["mbstd_ch"], c4, 3, act="lrelu")
            self.fc = FC(c4 * 16, c4, act="lrelu")
            self.out = FC(c4, 1)
            self.fts = FC(c4, c["f"])

        def mbstd(self, x):
            n, c, h, w = x.shape
            g = min(self.c["mbstd_group"], n)
            f = self.c["mbstd_ch"]
            y = x.reshape(g, -1, f, c // f, h, w)
            y = y - y.mean(dim=0)
            y = y.square().mean(dim=0)
            y = (y + 1e-8).sqrt()
            y = y.mean(dim=[2, 3, 4])
            y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
            return torch.cat([x, y], dim=1)

        def logits(self, img, fts):
            x = None
            half = math.sqrt(0.5)
            for b in self.blocks:
                if b.fromrgb is not None:
                    x = b.fromrgb(img)
                y = b.skip(x, gain=half)
                x = b.conv0(x)
                x = b.conv1(x, gain=half)
                x = y + x
            x = self.conv(self.mbstd(x))
            x = self.fc(x.flatten(1))
            d_fts = self.fts(x)
            return self.out(x) + (d_fts * fts).sum(), d_fts

    return Generator(gcfg), Discriminator(dcfg)


# Trainable parameters of the Go engine's generator and discriminator
# (nn.Trainable of lafite.NewGenerator / NewDiscriminator) for the configs of
# lafite_configs, full size and shrunk: the models here must have as many.
GO_PARAMS = {1: (38056984, 26751489), 16: (1168046, 16585)}


def checked_models(e, gcfg, dcfg):
    G, D = make_models(e, gcfg, dcfg)
    got = (sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters()))
    want = GO_PARAMS.get(1 if e.shrink <= 1 else 16)
    if got != want:
        raise RuntimeError(f"the torch G and D have {got} parameters, the Go engine's {want}: update make_models")
    return G, D


def w_lafite_g(e, batch):
    import torch
    gcfg, dcfg, batch = lafite_configs(e, batch)
    g, _ = checked_models(e, gcfg, dcfg)
    z, fts = e.randn(batch, gcfg["z"], grad=True), e.randn(batch, gcfg["f"], grad=True)
    with torch.no_grad():
        shape = tuple(g(z, fts).shape)
    if shape != (batch, 3, gcfg["res"], gcfg["res"]):
        raise RuntimeError(f"generated images of shape {shape}")
    return _fwdbwd(lambda: g(z, fts), [z, fts] + list(g.parameters())), 0.0, 0.0


def w_lafite_d(e, batch):
    import torch
    gcfg, dcfg, batch = lafite_configs(e, batch)
    _, d = checked_models(e, gcfg, dcfg)
    img = e.randn(batch, 3, dcfg["res"], dcfg["res"], grad=True)
    fts = e.randn(batch, dcfg["f"], grad=True)
    with torch.no_grad():
        shape = tuple(d.logits(img, fts)[0].shape)
    if shape != (batch, 1):
        raise RuntimeError(f"logits of shape {shape}")
    return _fwdbwd(lambda: d.logits(img, fts)[0], [img, fts] + list(d.parameters())), 0.0, 0.0


def contrast(a, b, temp=0.5):
    """mean(contra_loss(a, b)): Lafite's exp-sharpened form, lam = 0."""
    import torch
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-8)
    logits = torch.exp(a @ b.t() / temp)
    return torch.log(torch.diagonal(torch.softmax(logits, 0)) * temp).mean()


def w_lafite_train_step(e, batch):
    """One Lafite training step per call (see the module doc)."""
    import torch
    import torch.nn.functional as F
    gcfg, dcfg, batch = lafite_configs(e, batch)
    G, D = checked_models(e, gcfg, dcfg)
    G_ema = copy.deepcopy(G).requires_grad_(False)
    g_reg, d_reg = 4, 16
    itd, pl_weight, pl_decay, r1_gamma, mix_prob = 10.0, 2.0, 0.01, 10.0, 0.9

    def adam(params, interval):
        c = interval / (interval + 1)
        return torch.optim.Adam(params, lr=0.0025 * c, betas=(0 ** c, 0.99 ** c), eps=1e-8)
    opt_g, opt_d = adam(G.parameters(), g_reg), adam(D.parameters(), d_reg)
    n_data, res = 4 * batch, gcfg["res"]
    images = torch.tanh(e.randn(n_data, 3, res, res))
    img_fts = F.normalize(e.randn(n_data, gcfg["f"]), dim=1)
    pl_mean = torch.zeros([], device=e.device)
    state = {"step": 0, "seen": 0}
    rnd = random.Random(7)
    ema_half_life, ema_rampup = batch * 10 / 32 * 1000, 0.05

    def mapping(z, update):
        # As the reference (and the Go side): the second latent is mapped on
        # every call; without mixing the cutoff is the end.
        ws = G.mapping(z, update_w_avg=update)
        cutoff = 1 + rnd.randrange(ws.shape[1] - 1)
        if rnd.random() >= mix_prob:
            cutoff = ws.shape[1]
        ws2 = G.mapping(torch.randn_like(z))
        return torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], 1)

    def apply(opt, params, loss, gain=1.0):
        opt.zero_grad(set_to_none=True)
        (loss * gain if gain != 1 else loss).backward()
        for p in params:
            if p.grad is not None:
                torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5, out=p.grad)
        opt.step()

    g_params, d_params = list(G.parameters()), list(D.parameters())

    def run():
        step = state["step"]
        idx = torch.randint(n_data, (batch,), device=e.device)
        real = images[idx]
        f = img_fts[idx]  # pseudo text: the fixed perturbation, a = 0.75
        fts = F.normalize(0.25 * f + 0.75 * F.normalize(torch.randn_like(f), dim=1), dim=1)
        parts = []
        # Gmain
        G.requires_grad_(True)
        D.requires_grad_(False)
        z = torch.randn(batch, gcfg["z"], device=e.device)
        img = G.synthesis(mapping(z, True), fts)
        logits, d_fts = D.logits(img, fts)
        adv = F.softplus(-logits).mean()
        dc = contrast(d_fts, fts)
        loss = adv - itd * dc
        parts += [adv, dc, loss]
        apply(opt_g, g_params, loss)
        # Greg: path length on half the batch
        if step % g_reg == 0:
            n = max(batch // 2, 1)
            zp = torch.randn(batch, gcfg["z"], device=e.device)[:n]
            ws = mapping(zp, True)
            img = G.synthesis(ws, fts[:n])
            noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
            g, = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
            lengths = g.square().sum(2).mean(1).sqrt()
            m = pl_mean + pl_decay * (lengths.mean() - pl_mean)
            pen = (lengths - m).square().mean() * pl_weight
            apply(opt_g, g_params, pen, g_reg)
            pl_mean.copy_(m.detach())
            parts.append(pen)
        # Dmain
        G.requires_grad_(False)
        D.requires_grad_(True)
        with torch.no_grad():
            fake = G.synthesis(mapping(torch.randn(batch, gcfg["z"], device=e.device), False), fts)
        fake_logits, _ = D.logits(fake, fts)
        real_logits, real_fts = D.logits(real, fts)
        lf, lr = F.softplus(fake_logits).mean(), F.softplus(-real_logits).mean()
        dc = contrast(real_fts, fts)
        loss = lf + lr - itd * dc
        parts += [lf, lr, dc, loss]
        apply(opt_d, d_params, loss)
        # Dreg: R1
        if step % d_reg == 0:
            x = real.detach().requires_grad_(True)
            logits, _ = D.logits(x, fts)
            g, = torch.autograd.grad(logits.sum(), x, create_graph=True)
            r1 = g.square().sum([1, 2, 3]).mean()
            apply(opt_d, d_params, r1 * (r1_gamma / 2), d_reg)
            parts.append(r1)
        # G_ema
        state["seen"] += batch
        h = min(ema_half_life, state["seen"] * ema_rampup)
        beta = 0.5 ** (batch / h) if h > 0 else 0.0
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.copy_(p.lerp(pe, beta))
            for be, b in zip(G_ema.buffers(), G.buffers()):
                be.copy_(b)
        state["step"] += 1
        torch.stack([t.detach() for t in parts]).cpu()  # the step's one read
    return run, 0.0, 0.0


REG_CYCLE = 16  # the training step's R1 interval (path length every 4 within it)

# name -> (setup(env, modconv_fused), cycle)
WORKLOADS = {
    "sgemm_1024": (lambda e, fu: w_sgemm(e, 1024, 1024, 1024), 0),
    "sgemm_4096x512x512": (lambda e, fu: w_sgemm(e, 4096, 512, 512), 0),
    "conv3x3_n4_c512_16": (lambda e, fu: w_conv3x3(e, 4, 512, 16, False), 0),
    "conv3x3_n4_c256_64_fwdbwd": (lambda e, fu: w_conv3x3(e, 4, 256, 64, True), 0),
    "modconv_n4_c512_32_fwdbwd": (lambda e, fu: w_modconv(e, 4, 512, 32, 1, True, fu), 0),
    "modconv_n16_c512_32_fwdbwd": (lambda e, fu: w_modconv(e, 16, 512, 32, 1, True, fu), 0),
    "modconv_up2_n4_c512_32": (lambda e, fu: w_modconv(e, 4, 512, 32, 2, False, fu), 0),
    "upsample2d_n4_c512_32": (lambda e, fu: w_upsample2d(e, 4, 512, 32), 0),
    "bias_lrelu_n4_c512_64_fwdbwd": (lambda e, fu: w_bias_lrelu(e, 4, 512, 64), 0),
    "clip_vitb32_b8": (lambda e, fu: w_clip_image(e, 8), 0),
    "clip_text_b8": (lambda e, fu: w_clip_text(e, 8), 0),
    "lafite_g64_b4_fwdbwd": (lambda e, fu: w_lafite_g(e, 4), 0),
    "lafite_d64_b4_fwdbwd": (lambda e, fu: w_lafite_d(e, 4), 0),
    "lafite_g64_b16_fwdbwd": (lambda e, fu: w_lafite_g(e, 16), 0),
    "lafite_d64_b16_fwdbwd": (lambda e, fu: w_lafite_d(e, 16), 0),
    "lafite_train_step_64_b16": (lambda e, fu: w_lafite_train_step(e, 16), REG_CYCLE),
}


# ---------------------------------------------------------------- timing


def time_workload(run, device, warmup, min_runs, max_runs, min_time, cycle):
    """CUDA-event (or, on the CPU, wall-clock) times of runs after warm-up,
    as the Go side's RunGPU: whole cycles when cycle > 0."""
    import torch
    cuda = device == "cuda"
    for _ in range(warmup):
        run()
    if cuda:
        torch.cuda.synchronize()
    if cycle:
        min_runs = -(-max(min_runs, cycle) // cycle) * cycle
        max_runs = min_runs
    times = []
    while len(times) < min_runs or (sum(times) < min_time * 1e3 and len(times) < max_runs):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t = time.perf_counter()
            run()
            times.append((time.perf_counter() - t) * 1e3)
    return times


def configure_torch(device):
    import torch
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("compare_torch_gpu.py: torch sees no CUDA device (torch %s)" % torch.__version__)


def worker(names, device, shrink, modconv, runs, min_time, warmup, cycles):
    import torch
    configure_torch(device)
    gpu = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    for name in names:
        setup, cycle = WORKLOADS[name]
        rec = {"workload": name, "device": device, "framework": "torch", "torch": torch.__version__,
               "gpu": gpu, "cudnn": torch.backends.cudnn.version(), "tf32": False, "modconv": modconv,
               "shrink": shrink}
        try:
            run, flops, nbytes = setup(Env(device, shrink), modconv == "grouped")
            times = time_workload(run, device, warmup, runs, max(100, runs), min_time, cycle if cycles else 0)
        except Exception as ex:  # one failing workload must not hide the others
            rec["error"] = "%s: %s" % (type(ex).__name__, ex)
            print(json.dumps(rec), flush=True)
            continue
        med = statistics.median(times)
        rec.update(median_ms=med, mean_ms=statistics.fmean(times), min_ms=min(times), runs=len(times))
        if flops:
            rec["gflops"] = flops / (med * 1e-3) / 1e9
        if nbytes:
            rec["gbps"] = nbytes / (med * 1e-3) / 1e9
        print(json.dumps(rec), flush=True)
        del run
        if device == "cuda":
            torch.cuda.empty_cache()


# ---------------------------------------------------------------- driver


def run_lines(cmd, what):
    """Runs cmd and returns its JSON lines; a failure is reported, not fatal."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-5:])
        print(f"{what} exited with {p.returncode} after {len(recs)} records:\n{tail}", file=sys.stderr, flush=True)
    return recs


def compare(args, names):
    here = os.path.abspath(__file__)
    lst = subprocess.run([args.go, "bench", "--device", "cuda", "--list"], stdout=subprocess.PIPE, text=True, check=True)
    go_names = set(lst.stdout.split())
    unknown = [n for n in names if n not in go_names and n not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workloads {unknown}")
    names = names or sorted(go_names | set(WORKLOADS))
    go_run = [n for n in names if n in go_names]
    torch_run = [n for n in names if n in WORKLOADS]
    timing = ["--runs", str(args.runs), "--min-time", f"{args.min_time}s"]
    worker_mode = ["--worker"]
    if args.dry_run_cpu:  # the driver itself under test: tiny sizes, one run, torch on the CPU
        timing = ["--runs", "1", "--min-time", "0.001s", "--shrink", "16"]
        worker_mode = ["--dry-run-cpu"]
    results, info = {}, {}  # (side, workload) -> medians over rounds; side -> a record's header fields

    tuned = {}

    def add(side, recs):
        for r in recs:
            if r.get("workload") == "fma_peak":
                info["peak"] = r
                continue
            if "error" in r or "median_ms" not in r:
                print(f"{side} {r.get('workload')}: {r.get('error', 'no time')}", file=sys.stderr)
                continue
            info.setdefault(side, r)
            results.setdefault((side, r["workload"]), []).append((r["median_ms"], r.get("mean_ms")))
            if r.get("autotune"):  # each round's process tunes afresh: keep the first
                tuned.setdefault(r["workload"], r["autotune"])
            if r.get("device_allocs"):  # a steady state allocates nothing
                print(f"{side} {r['workload']}: {r['device_allocs']} device allocations during the timed runs",
                      file=sys.stderr)

    # The work the Go side asks of the card, counted on a dry-run device
    # (`lafite bench --trace`): each workload's floor at the H200's peaks.
    floors = {}
    if go_run:  # no GPU needed: the dry run checks this path too
        for r in run_lines([args.go, "bench", "--trace", "--json", "--only", ",".join(go_run)], "the Go trace"):
            per = [x["floor_ms"] for x in r.get("per_run") or []]
            floors[r["workload"]] = (statistics.median(per) if per else r["floor_ms"], r["floor_ms"])

    for rnd in range(args.rounds):
        if go_run:
            print(f"round {rnd + 1}/{args.rounds}: go", file=sys.stderr, flush=True)
            recs = run_lines([args.go, "bench", "--device", "cuda", "--json", "--only", ",".join(go_run)] + timing,
                             "the Go bench")
            add("go", recs)
            # A kernel fault ends the process (its CUDA context is unusable): the
            # workloads it did not reach run again, each in a process of its own.
            seen = {r.get("workload") for r in recs}
            for n in [n for n in go_run if n not in seen]:
                add("go", run_lines([args.go, "bench", "--device", "cuda", "--json", "--only", n] + timing,
                                    f"the Go bench of {n} alone"))
        if torch_run:
            print(f"round {rnd + 1}/{args.rounds}: torch", file=sys.stderr, flush=True)
            add("torch", run_lines([sys.executable, here] + worker_mode + ["--only", ",".join(torch_run),
                                    "--modconv", args.modconv, "--runs", str(args.runs),
                                    "--min-time", str(args.min_time)], "the torch worker"))

    def med(side, name, i=0):
        v = [x[i] for x in results.get((side, name), []) if x[i] is not None]
        return statistics.median(v) if v else None

    def fmt(v):
        return f"{v:10.3f}" if v is not None else f"{'-':>10}"

    t, p = info.get("torch", {}), info.get("peak", {})
    print(f"\nGPU: {t.get('gpu') or p.get('gpu', '?')}; torch {t.get('torch', '?')}, cuDNN {t.get('cudnn', '?')}, "
          f"TF32 off, cudnn.benchmark on, modconv {args.modconv}; Go commit {p.get('commit', '?')}, "
          f"measured FP32 FMA peak {p.get('gflops', 0):.0f} GFLOP/s, copy {p.get('gbps', 0):.0f} GB/s")
    print(f"median over {args.rounds} interleaved rounds of each side's CUDA-event median (ms); ratio = Go / PyTorch;")
    print("Go floor: the work of the Go side's kernels (lafite bench --trace) at 63.6 TFLOP/s, 3.77 TB/s, 2 us a launch")
    print("(Go GEMMs may run on tensor cores as 3xTF32, float32-accurate, where the autotuner finds it faster; "
          "the floor counts FP32 FMA, so Go/floor can fall below 1 there)")
    print(f"{'workload':30} {'Go':>10} {'PyTorch':>10} {'ratio':>7} {'Go floor':>10} {'Go/floor':>8}")

    def vs_floor(g, f):
        return f"{fmt(f)} {g / f:8.2f}" if g is not None and f else f"{fmt(f)} {'-':>8}"

    for name in names:
        g, tt = med("go", name), med("torch", name)
        r = f"{g / tt:7.2f}" if g is not None and tt else f"{'-':>7}"
        fl = floors.get(name, (None, None))
        print(f"{name:30} {fmt(g)} {fmt(tt)} {r} {vs_floor(g, fl[0])}")
        if WORKLOADS.get(name, (None, 0))[1]:  # cycles: the mean is the amortised step
            gm, tm = med("go", name, 1), med("torch", name, 1)
            rm = f"{gm / tm:7.2f}" if gm is not None and tm else f"{'-':>7}"
            print(f"{'  (mean over the cycle)':30} {fmt(gm)} {fmt(tm)} {rm} {vs_floor(gm, fl[1])}")
    print_autotune(names, tuned)


def print_autotune(names, tuned):
    """One line per workload the Go side autotuned: shapes tuned, those where
    a variant beat the rules' choice, the per-call time that saves summed
    over them, and the winners by op."""
    if not tuned:
        return
    print("\nGo autotuning (first round): shapes tuned, won by a variant other than the rules' choice, "
          "ms per call saved over those, winners")
    for name in names:
        cs = tuned.get(name)
        if not cs:
            continue
        off = [c for c in cs if c["chosen"] != c["rule"]]
        gain = sum(c["ms"][c["rule"]] - c["ms"][c["chosen"]] for c in off)
        wins = {}
        for c in cs:
            key = f"{c['op']} {c['chosen']}"
            wins[key] = wins.get(key, 0) + 1
        print(f"{name:30} {len(cs):4d} {len(off):4d} {gain:9.3f}  " + ", ".join(f"{k} {v}" for k, v in sorted(wins.items())))
        for c in cs:
            for cand, msg in sorted((c.get("failed") or {}).items()):
                print(f"  FAILED candidate {cand} for {c['op']} {c['shape']}: {msg}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", help="path of the lafite binary to compare with")
    ap.add_argument("--worker", action="store_true", help="run the torch side on the GPU and print JSON records")
    ap.add_argument("--dry-run-cpu", action="store_true", help="run the torch side on the CPU at tiny sizes, once each")
    ap.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modconv", choices=["grouped", "nonfused"], default="grouped",
                    help="modulated conv workloads: one grouped conv (StyleGAN2's fused path) or the non-fused form")
    ap.add_argument("--runs", type=int, default=10, help="timed runs at least (the Go side's --runs too)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds of timed runs at least per workload")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    if args.go:
        compare(args, names)
    elif args.worker or args.dry_run_cpu:
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            ap.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
        names = names or list(WORKLOADS)
        if args.dry_run_cpu:
            worker(names, "cpu", 16, args.modconv, runs=1, min_time=0, warmup=1, cycles=False)
        else:
            worker(names, "cuda", 1, args.modconv, args.runs, args.min_time, warmup=2, cycles=True)
    else:
        ap.error("give --go, --worker or --dry-run-cpu")


if __name__ == "__main__":
    main()
