#!/usr/bin/env python3
"""Run the named workloads of docs/WORKLOADS.md in PyTorch and compare them with
the Go engine's `lafite bench`, interleaved in one run.

Only torch primitives are used; the StyleGAN2 ops are written the way
StyleGAN2-ADA's reference (non-CUDA) paths write them.

  compare_torch.py --worker tuned|untuned [--only NAMES]   one JSON record per workload
  compare_torch.py --go bin/lafite [--rounds 3] [--only NAMES]
      rounds of: Go, PyTorch tuned, PyTorch untuned (each a fresh process),
      then a table of the median over rounds of each side's median; workloads
      only one side has are listed with "-" for the other. Each side's records
      carry the steal time of its timed runs (/proc/stat); the table shows the
      largest over the rounds, so a ratio measured while the host took the
      machine's time away from one side shows as such.

"tuned" is a competent CPU set-up: 2 threads, OPENBLAS_CORETYPE=SkylakeX on an AVX-512 CPU and
Haswell on an AVX2 one (Debian's OpenBLAS 0.3.21 does not recognise Zen 4 and would run its SSE3
path), glibc's
malloc thresholds raised so large tensors are not unmapped after every op, and
OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads do not spin against OpenBLAS's.
"untuned" is torch as installed: its default thread count, no environment.
The Lafite generator and discriminator are compare_torch_gpu.py's models.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

def _openblas_coretype():
    """SkylakeX (AVX-512 kernels) where the CPU has AVX-512, else Haswell
    (AVX2 + FMA, OpenBLAS's Zen kernels): forcing SkylakeX on an AVX2-only CPU
    would stop at the first AVX-512 instruction."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    if "avx512f" in flags:
        return "SkylakeX"
    return "Haswell" if "avx2" in flags else "Prescott"


TUNED_ENV = {
    "OPENBLAS_CORETYPE": _openblas_coretype(),
    # torch's OpenMP threads otherwise spin after each parallel region and
    # starve OpenBLAS's own pthreads: measured 3.6x on clip_text_b8 here.
    "OMP_WAIT_POLICY": "PASSIVE",
    "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 31),
    "MALLOC_TOP_PAD_": str(1 << 28),
}
UNTUNED_DROP = list(TUNED_ENV) + ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOMP_SPINCOUNT"]


# ---------------------------------------------------------------- workloads
# Each returns (run, flops, bytes): run() does the work once; flops or bytes
# (0 when not meaningful) are the same as the Go side's.


def _randn(*shape, grad=False):
    import torch
    return torch.randn(*shape).requires_grad_(grad)


def _fwdbwd(fn, inputs):
    """run() = forward, then backward of the sum w.r.t. every input."""
    def run():
        for t in inputs:
            t.grad = None
        fn().sum().backward()
    return run


def w_sgemm(m, n, k):
    import torch
    a, b, c = _randn(m, k), _randn(k, n), torch.empty(m, n)

    def run():
        torch.mm(a, b, out=c)
    return run, 2.0 * m * n * k, 0.0


def w_conv3x3(n, ch, hw, fwdbwd):
    import torch
    import torch.nn.functional as F
    x, w = _randn(n, ch, hw, hw, grad=fwdbwd), _randn(ch, ch, 3, 3, grad=fwdbwd)
    flops = 2.0 * n * ch * ch * 9 * hw * hw
    if not fwdbwd:
        def run():
            with torch.no_grad():
                F.conv2d(x, w, padding=1)
        return run, flops, 0.0
    return _fwdbwd(lambda: F.conv2d(x, w, padding=1), [x, w]), 3 * flops, 0.0


def _setup_filter(device=None):
    import torch
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    f = f.ger(f)
    return f / f.sum()


def _upfirdn2d(x, f, up=1, pad=(0, 0, 0, 0), gain=1.0):
    """StyleGAN2-ADA's _upfirdn2d_ref: zero-insert, pad, depthwise 2-D FIR."""
    import torch
    import torch.nn.functional as F
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [pad[0], pad[1], pad[2], pad[3]])
    f = (f * (gain ** (f.ndim / 2))).flip([0, 1])
    f = f[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, f, groups=c)


def w_upsample2d(n, ch, hw):
    import torch
    x, f = _randn(n, ch, hw, hw), _setup_filter()

    def run():
        with torch.no_grad():
            _upfirdn2d(x, f, up=2, pad=(2, 1, 2, 1), gain=4.0)
    nbytes = 4.0 * (n * ch * hw * hw + n * ch * 4 * hw * hw)
    return run, 0.0, nbytes


def _modconv(x, weight, styles, up=1, f=None):
    """StyleGAN2-ADA modulated_conv2d, non-fused path with demodulation
    (fused_modconv=False), 3x3 kernel, padding 1; up=2 goes through
    conv2d_resample's transposed conv + FIR."""
    import torch.nn.functional as F
    w = weight[None] * styles[:, None, :, None, None]
    dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
    x = x * styles[:, :, None, None]
    if up == 1:
        x = F.conv2d(x, weight, padding=1)
    else:
        x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        x = _upfirdn2d(x, f, pad=(1, 1, 1, 1), gain=4.0)
    return x * dcoefs[:, :, None, None]


def w_modconv(n, ch, hw, up, fwdbwd):
    import torch
    x = _randn(n, ch, hw, hw, grad=fwdbwd)
    weight = _randn(ch, ch, 3, 3, grad=fwdbwd)
    styles = _randn(n, ch, grad=fwdbwd)
    f = _setup_filter()
    flops = 2.0 * n * ch * ch * 9 * hw * hw  # the convolution's multiply-adds
    if fwdbwd:
        return _fwdbwd(lambda: _modconv(x, weight, styles, up, f), [x, weight, styles]), 3 * flops, 0.0

    def run():
        with torch.no_grad():
            _modconv(x, weight, styles, up, f)
    return run, flops, 0.0


def w_bias_lrelu(n, ch, hw):
    import torch
    import torch.nn.functional as F
    x, b = _randn(n, ch, hw, hw, grad=True), _randn(ch, grad=True)
    gain = math.sqrt(2)

    def fn():  # bias_act's reference path: add, lrelu 0.2, gain, clamp
        y = F.leaky_relu(x + b.reshape(1, -1, 1, 1), 0.2) * gain
        return y.clamp(-256, 256)
    return _fwdbwd(fn, [x, b]), 0.0, 4.0 * 4 * n * ch * hw * hw


def _transformer_params(layers, width):
    import torch
    d = width
    return [dict(ln1=(torch.ones(d), torch.zeros(d)), ln2=(torch.ones(d), torch.zeros(d)),
                 in_w=torch.randn(3 * d, d) * d ** -0.5, in_b=torch.zeros(3 * d),
                 out_w=torch.randn(d, d) * d ** -0.5, out_b=torch.zeros(d),
                 fc_w=torch.randn(4 * d, d) * d ** -0.5, fc_b=torch.zeros(4 * d),
                 proj_w=torch.randn(d, 4 * d) * (4 * d) ** -0.5, proj_b=torch.zeros(d))
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


def w_clip_image(batch):
    import torch
    import torch.nn.functional as F
    res, patch, width, layers, heads, out = 224, 32, 768, 12, 12, 512
    grid = res // patch
    conv1 = torch.randn(width, 3, patch, patch) * 0.02
    cls, pos = torch.randn(width) * width ** -0.5, torch.randn(grid * grid + 1, width) * width ** -0.5
    blocks = _transformer_params(layers, width)
    proj = torch.randn(width, out) * width ** -0.5
    img = torch.randn(batch, 3, res, res)

    def run():
        with torch.no_grad():
            x = F.conv2d(img, conv1, stride=patch).reshape(batch, width, -1).transpose(1, 2)
            x = torch.cat([cls.expand(batch, 1, width), x], 1) + pos
            x = F.layer_norm(x, (width,))
            x = _transformer(x, blocks, heads)
            F.layer_norm(x[:, 0], (width,)) @ proj
    flops = batch * (2 * grid * grid * 3 * patch * patch * width + _transformer_flops(layers, grid * grid + 1, width))
    return run, flops, 0.0


def w_clip_text(batch):
    import torch
    import torch.nn.functional as F
    ctx, vocab, width, layers, heads, out = 77, 49408, 512, 12, 8, 512
    tok_emb = torch.randn(vocab, width) * 0.02
    pos = torch.randn(ctx, width) * 0.01
    blocks = _transformer_params(layers, width)
    proj = torch.randn(width, out) * width ** -0.5
    mask = torch.full((ctx, ctx), float("-inf")).triu(1)
    tokens = torch.zeros(batch, ctx, dtype=torch.long)
    eot = []
    for i in range(batch):  # the same rows as the Go side
        n = 5 + 7 * i
        tokens[i, 0] = vocab - 2
        for j in range(1, n + 1):
            tokens[i, j] = (i * 131 + j * 977) % (vocab - 2)
        tokens[i, n + 1] = vocab - 1
        eot.append(n + 1)
    eot = torch.tensor(eot)

    def run():
        with torch.no_grad():
            x = tok_emb[tokens] + pos
            x = _transformer(x, blocks, heads, mask)
            x = F.layer_norm(x, (width,))
            x[torch.arange(batch), eot] @ proj
    return run, batch * _transformer_flops(layers, ctx, width), 0.0


def w_lafite(part, batch):
    """Lafite's 64x64 generator or discriminator, forward and backward: the
    models of compare_torch_gpu.py (one definition, checked there against the
    Go engine's parameter counts), here on the CPU."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import compare_torch_gpu as gpu
    e = gpu.Env("cpu")
    return gpu.w_lafite_g(e, batch) if part == "g" else gpu.w_lafite_d(e, batch)


def w_inception(batch):
    """The FID's Inception-v3 at its real widths, random weights, 8 images at
    299x299, forward: the layout of lafite/metrics/inception's PyTorch fixture
    script (pytorch-fid's blocks), built at full width."""
    import importlib.util
    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "make_fixture", os.path.join(here, "..", "lafite", "metrics", "inception", "testdata", "make_fixture.py"))
    mf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mf)
    mf.DIV = 1
    net = mf.Inception().eval()
    flops = [0.0]

    def count(m, inp, out):
        flops[0] += 2 * m.weight.numel() * out.shape[2] * out.shape[3]
    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    x = torch.rand(batch, 3, 299, 299)
    with torch.no_grad():
        net(x[:1])
    for h in hooks:
        h.remove()

    def run():
        with torch.no_grad():
            net(x)
    return run, batch * flops[0], 0.0


WORKLOADS = {
    "sgemm_1024": lambda: w_sgemm(1024, 1024, 1024),
    "sgemm_4096x512x512": lambda: w_sgemm(4096, 512, 512),
    "conv3x3_n4_c512_16": lambda: w_conv3x3(4, 512, 16, False),
    "conv3x3_n4_c256_64_fwdbwd": lambda: w_conv3x3(4, 256, 64, True),
    "modconv_n4_c512_32_fwdbwd": lambda: w_modconv(4, 512, 32, 1, True),
    "modconv_up2_n4_c512_32": lambda: w_modconv(4, 512, 32, 2, False),
    "upsample2d_n4_c512_32": lambda: w_upsample2d(4, 512, 32),
    "bias_lrelu_n4_c512_64_fwdbwd": lambda: w_bias_lrelu(4, 512, 64),
    "clip_vitb32_b8": lambda: w_clip_image(8),
    "clip_text_b8": lambda: w_clip_text(8),
    "lafite_g64_b4_fwdbwd": lambda: w_lafite("g", 4),
    "lafite_d64_b4_fwdbwd": lambda: w_lafite("d", 4),
    "inception_v3_b8": lambda: w_inception(8),
}


def _machine_times():
    """(steal, total) jiffies of all CPUs from /proc/stat's first line, as
    bench/hostload.go reads them; None where there is no such file."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        vals = [int(v) for v in fields[1:9]]
    except (OSError, ValueError):
        return None
    if fields[0] != "cpu" or len(vals) < 8:
        return None
    return vals[7], sum(vals)


def _steal_since(before):
    after = _machine_times()
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def time_workload(setup, warmup=2, min_runs=5, max_runs=50, min_time=1.0, slow=5.0):
    run, flops, nbytes = setup()
    t = time.perf_counter()
    run()
    if time.perf_counter() - t > slow:  # e.g. torch's Lafite G on the CPU: 28 s a run
        warmup, min_runs = 1, 3
    for _ in range(warmup - 1):
        run()
    times = []
    machine = _machine_times()
    while len(times) < min_runs or (sum(times) < min_time and len(times) < max_runs):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    steal = _steal_since(machine)
    med = statistics.median(times)
    rec = {"median_ms": med * 1e3, "min_ms": min(times) * 1e3, "runs": len(times)}
    if steal is not None:
        rec["steal_fraction"] = steal
    if flops:
        rec["gflops"] = flops / med / 1e9
    if nbytes:
        rec["gbps"] = nbytes / med / 1e9
    return rec


def worker(config, names):
    import torch
    if config == "tuned":
        torch.set_num_threads(2)
    torch.manual_seed(0)
    for name in names:
        rec = {"workload": name, "device": "cpu", "framework": "torch", "config": config,
               "torch": torch.__version__, "threads": torch.get_num_threads()}
        rec.update(time_workload(WORKLOADS[name]))
        rec["env"] = {k: os.environ[k] for k in TUNED_ENV if k in os.environ}
        print(json.dumps(rec), flush=True)


# ---------------------------------------------------------------- driver


def run_lines(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def compare(go_bin, names, rounds):
    here = os.path.abspath(__file__)
    base = {k: v for k, v in os.environ.items() if k not in UNTUNED_DROP}
    tuned_env = dict(base, **TUNED_ENV)
    go_names = set(subprocess.run([go_bin, "bench", "--list"], check=True, stdout=subprocess.PIPE,
                                  text=True).stdout.split())
    unknown = [n for n in names if n not in go_names and n not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workloads {unknown}")
    names = names or sorted(go_names | set(WORKLOADS))
    go_run = [n for n in names if n in go_names]
    torch_run = [n for n in names if n in WORKLOADS]
    results = {}  # (side, workload) -> list of medians, one per round
    steals = {}  # (side, workload) -> the steal fraction of each round, where measured

    def add(side, recs):
        for r in recs:
            results.setdefault((side, r["workload"]), []).append(r["median_ms"])
            if "steal_fraction" in r:
                steals.setdefault((side, r["workload"]), []).append(r["steal_fraction"])

    for rnd in range(rounds):
        print(f"round {rnd + 1}/{rounds}: go", file=sys.stderr, flush=True)
        if go_run:
            add("go", run_lines([go_bin, "bench", "--json", "--only", ",".join(go_run)], os.environ.copy()))
        if not torch_run:
            continue
        print(f"round {rnd + 1}/{rounds}: torch tuned", file=sys.stderr, flush=True)
        add("tuned", run_lines([sys.executable, here, "--worker", "tuned", "--only", ",".join(torch_run)], tuned_env))
        print(f"round {rnd + 1}/{rounds}: torch untuned", file=sys.stderr, flush=True)
        add("untuned", run_lines([sys.executable, here, "--worker", "untuned", "--only", ",".join(torch_run)], base))

    def med(side, name):
        v = results.get((side, name))
        return statistics.median(v) if v else None

    def fmt(v):
        return f"{v:10.2f}" if v is not None else f"{'-':>10}"

    def steal(side, name):
        v = steals.get((side, name))
        return f"{100 * max(v):.0f}%" if v else "-"

    print(f"\nmedian over {rounds} interleaved rounds of each side's median (ms); ratio = Go / PyTorch tuned")
    print(f"{'workload':32} {'Go':>10} {'PyTorch':>10} {'ratio':>7} {'untuned':>10} {'ratio':>7} {'steal Go/PyTorch':>17}")
    for name in names:
        g, t, u = med("go", name), med("tuned", name), med("untuned", name)
        r1 = f"{g / t:7.2f}" if g is not None and t else f"{'-':>7}"
        r2 = f"{g / u:7.2f}" if g is not None and u else f"{'-':>7}"
        print(f"{name:32} {fmt(g)} {fmt(t)} {r1} {fmt(u)} {r2} {steal('go', name) + '/' + steal('tuned', name):>17}")
    print("steal: the most of the machine's CPU time the hypervisor gave to other guests during any one round's timed runs")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=["tuned", "untuned"])
    ap.add_argument("--go", help="path of the lafite binary to compare with")
    ap.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    if args.worker:
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            ap.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
        worker(args.worker, names or list(WORKLOADS))
    elif args.go:
        compare(args.go, names, args.rounds)
    else:
        ap.error("give --worker or --go")


if __name__ == "__main__":
    main()
