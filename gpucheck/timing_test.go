package gpucheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/tensor"
)

// TestGPUTiming prints the GPU timing table: each op through the tensor API
// on GPU tensors, timed with CUDA events after warm-up (per run: the median
// of 15 batches of back-to-back runs), with its GFLOP/s or GB/s as a fraction
// of the device's measured FP32 FMA peak and copy bandwidth (peak.cu). Work
// is counted as the op's floor: 2 FLOPs per multiply-add, and each input read
// and output written once.
// It runs when LAFITE_GPU_TIMING=1 (scripts/gpu-check.sh sets it).
func TestGPUTiming(t *testing.T) {
	if os.Getenv("LAFITE_GPU_TIMING") != "1" {
		t.Skip("set LAFITE_GPU_TIMING=1 to time the GPU ops")
	}
	requireGPU(t)
	d, _ := tensor.CUDADevice()
	tm := &timer{t: t, d: d, div: 1}
	fma, bw := tm.peaks()
	fmt.Printf("\ngpu timing: %s, compute %d.%d, %d SMs, %.1f GiB; measured FP32 FMA peak %.0f GFLOP/s, copy bandwidth %.0f GB/s\n",
		d.Props.Name, d.Props.Major, d.Props.Minor, d.Props.SMs, float64(d.Props.TotalMem)/(1<<30), fma, bw)
	rows := tm.ops()
	fmt.Printf("%-24s %-30s %10s %10s %9s %9s\n", "op", "shape", "median ms", "GFLOP/s", "GB/s", "of peak")
	for _, r := range rows {
		if r.off != "" {
			fmt.Printf("%-24s %-30s not timed: %s (its probe failed)\n", r.name, r.shape, r.off)
			continue
		}
		gf, gb, frac := "", "", ""
		if r.flops > 0 {
			v := r.flops / (r.ms * 1e-3) / 1e9
			gf, frac = fmt.Sprintf("%.0f", v), fmt.Sprintf("%.0f%% fma", 100*v/fma)
		}
		if r.bytes > 0 {
			v := r.bytes / (r.ms * 1e-3) / 1e9
			gb = fmt.Sprintf("%.0f", v)
			if r.flops == 0 {
				frac = fmt.Sprintf("%.0f%% bw", 100*v/bw)
			}
		}
		fmt.Printf("%-24s %-30s %10.4f %10s %9s %9s\n", r.name, r.shape, r.ms, gf, gb, frac)
	}
	if fb := tensor.CUDAFallbacks(); len(fb) > 0 {
		fmt.Printf("host fallbacks during timing: %s\n", strings.Join(fb, " "))
	}
	checkProfile(t)
}

// checkProfile: the per-kernel profile (lafite bench --profile) times a
// 1024^3 matmul's one launch (its shape already tuned) with events: more
// than 0, less than a second.
func checkProfile(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := randOn(r, 1024, 1024), randOn(r, 1024, 1024)
	// A first product outside the profile: with autotuning on, a new shape's
	// first call times every candidate kernel and compares their results.
	tensor.Matmul(a, b)
	tensor.SetCUDAProfile(true)
	tensor.Matmul(a, b)
	rep, err := tensor.CUDAProfileReport()
	tensor.SetCUDAProfile(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Calls != 1 || !strings.HasPrefix(rep[0].Kernel, "sgemm.cu:") || !(rep[0].Ms > 0 && rep[0].Ms < 1000) {
		t.Errorf("profile of one matmul: %+v", rep)
		return
	}
	fmt.Printf("profile of one 1024^3 matmul: %s %.3f ms\n", rep[0].Kernel, rep[0].Ms)
}

type timer struct {
	t   *testing.T
	d   *cuda.Device // nil: only run the ops (emulated dry run)
	div int          // sizes are divided by div (1 for the real table)
}

// n scales a size for dry runs.
func (tm *timer) n(v int) int { return max(1, v/tm.div) }

type timingRow struct {
	name, shape  string
	ms           float64
	flops, bytes float64
	off          string // the switch that kept the row's path from running (not timed), or ""
}

// rowSwitchedOff is the switch of a failed probe (probe_test.go) that turns
// off the path a timing row forces, or "".
func rowSwitchedOff(name string) string {
	switch {
	case strings.Contains(name, "winograd") || strings.HasSuffix(name, " phases"):
		return switchedOff("winograd")
	case strings.HasSuffix(name, " split"):
		return switchedOff("split-k")
	case strings.HasPrefix(name, "upfirdn2d ") && strings.HasSuffix(name, " 4x4"): // the row-streaming kernels
		return switchedOff("upfirdn-streaming")
	case strings.HasSuffix(name, " bk16") || strings.HasSuffix(name, " t64"):
		return switchedOff("gemm-tiles")
	case strings.HasSuffix(name, " skinny"):
		return switchedOff("skinny-gemm")
	}
	return ""
}

// median times f (which queues GPU work) with CUDA events: 3 warm-up runs,
// then the median of 15 timings, each of a batch of back-to-back runs (as
// many as fill about half a millisecond, at most 16) divided by the batch's
// size. One run between a pair of events would also time the host's launch
// path while the GPU waits for it (~5 us, 7% of a 70 us upfirdn2d): in a
// training step the queue is full and that gap is hidden.
func (tm *timer) median(f func()) float64 {
	if tm.d == nil {
		f()
		return 1
	}
	for i := 0; i < 3; i++ {
		f()
	}
	if err := tm.d.Synchronize(); err != nil {
		tm.t.Fatal(err)
	}
	once, err := tm.d.Time(func() error { f(); return nil })
	if err != nil {
		tm.t.Fatal(err)
	}
	batch := batchFor(float64(once))
	var ms []float64
	for i := 0; i < 15; i++ {
		v, err := tm.d.Time(func() error {
			for j := 0; j < batch; j++ {
				f()
			}
			return nil
		})
		if err != nil {
			tm.t.Fatal(err)
		}
		ms = append(ms, float64(v)/float64(batch))
	}
	sort.Float64s(ms)
	return ms[len(ms)/2]
}

// batchFor is how many runs of an op that took once ms make a timed batch:
// about half a millisecond's worth, 1 to 16.
func batchFor(once float64) int {
	if !(once > 0) {
		return 1
	}
	return int(min(16, max(1, math.Ceil(0.5/once))))
}

// scoped runs op and frees what it allocated, so that repeated runs reuse
// the allocator's cached blocks.
// with returns op run under a tensor setting (a tensor.SetCUDA* function,
// which returns the previous value) set to v, restored afterwards.
func with[T any](set func(T) T, v T, op func()) func() {
	return func() {
		prev := set(v)
		defer set(prev)
		op()
	}
}

// withEnv returns op run with the environment variable name set to v,
// restored afterwards (the fallback switches are read at each call).
func withEnv(name, v string, op func()) func() {
	return func() {
		prev, had := os.LookupEnv(name)
		os.Setenv(name, v)
		defer func() {
			if had {
				os.Setenv(name, prev)
			} else {
				os.Unsetenv(name)
			}
		}()
		op()
	}
}

func scoped(op func()) func() {
	return func() {
		s := tensor.OpenScope()
		op()
		s.Close()
	}
}

// peaks measures the FP32 FMA throughput (GFLOP/s) and copy bandwidth (GB/s).
func (tm *timer) peaks() (fma, bw float64) {
	d := tm.d
	blocks, iters := 64*d.Props.SMs, 4096
	out, err := d.Alloc(int64(4 * 256 * blocks))
	if err != nil {
		tm.t.Fatal(err)
	}
	defer d.Free(out)
	f, err := d.Function("peak.cu", "peak_fma_f32")
	if err != nil {
		tm.t.Fatal(err)
	}
	ms := tm.median(func() {
		if err := d.Launch(f, cuda.D1(blocks), cuda.D1(256), 0, int32(iters), float32(1), float32(1e-7), out); err != nil {
			tm.t.Fatal(err)
		}
	})
	fma = 16 * float64(iters) * float64(256*blocks) / (ms * 1e-3) / 1e9

	const n4 = 16 << 20 // float4s: 256 MiB each way
	x, err := d.Alloc(16 * n4)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer d.Free(x)
	y, err := d.Alloc(16 * n4)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer d.Free(y)
	if err := d.MemsetD32(x, 0, 4*n4); err != nil {
		tm.t.Fatal(err)
	}
	c, err := d.Function("peak.cu", "peak_copy_f32")
	if err != nil {
		tm.t.Fatal(err)
	}
	grid := cuda.GridStride(n4, 256, d.Props.SMs)
	ms = tm.median(func() {
		if err := d.Launch(c, grid, cuda.D1(256), 0, int64(n4), x, y); err != nil {
			tm.t.Fatal(err)
		}
	})
	bw = 2 * 16 * n4 / (ms * 1e-3) / 1e9
	return fma, bw
}

func randOn(r *rand.Rand, shape ...int) *tensor.Tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return tensor.New(normal(r, n), shape...).To(tensor.CUDA)
}

func shapeStr(shapes ...[]int) string {
	var parts []string
	for _, s := range shapes {
		parts = append(parts, strings.ReplaceAll(fmt.Sprint(s), " ", "x"))
	}
	return strings.Join(parts, " ")
}

// ops times the engine's main ops at the sizes the Lafite networks use.
func (tm *timer) ops() []timingRow {
	r := rand.New(rand.NewPCG(7, 7))
	scope := tensor.OpenScope()
	defer scope.Close()
	var rows []timingRow
	add := func(name, shape string, flops, bytes float64, op func()) {
		if off := rowSwitchedOff(name); off != "" {
			rows = append(rows, timingRow{name: name, shape: shape, off: off})
			return
		}
		rows = append(rows, timingRow{name: name, shape: shape, flops: flops, bytes: bytes, ms: tm.median(scoped(op))})
	}
	const f4 = 4.0 // bytes per float

	k := tm.n(4096)
	a, b := randOn(r, k, k), randOn(r, k, k)
	mmFlops := 2 * float64(k) * float64(k) * float64(k)
	add("matmul", shapeStr(a.Shape(), b.Shape()), mmFlops, 0, func() { tensor.Matmul(a, b) })
	add("matmul b transposed", shapeStr(a.Shape(), b.Shape()), mmFlops, 0, func() {
		tensor.Matmul(a, b.Transpose(0, 1))
	})
	// Each GEMM kernel forced (LAFITE_CUDA_GEMM=bk8, bk16, t64): at 4096^3,
	// and at the shape of a CLIP ViT-B/32 MLP layer at batch 8 (400 tokens:
	// 4 x 24 blocks of 128x128 on 132 SMs, 7 x 48 of 64x64).
	gemmKernel := func(name string, op func()) func() { return with(tensor.SetCUDAGemmKernel, name, op) }
	bk16 := func(op func()) func() { return gemmKernel("bk16", op) }
	ma, mw := randOn(r, tm.n(400), tm.n(768)), randOn(r, tm.n(768), tm.n(3072))
	mlpFlops := 2 * float64(tm.n(400)) * float64(tm.n(768)) * float64(tm.n(3072))
	// "tc", "tcs": the 3xTF32 tensor-core tiles (sm_80 and later).
	var gemmNames []string
	for _, k := range cuda.SgemmKernelsFor(gpuCC()) {
		gemmNames = append(gemmNames, k.Name)
	}
	for _, name := range gemmNames {
		if name != "bk8" {
			add("matmul "+name, shapeStr(a.Shape(), b.Shape()), mmFlops, 0, gemmKernel(name, func() { tensor.Matmul(a, b) }))
		}
		add("matmul (clip mlp) "+name, shapeStr(ma.Shape(), mw.Shape()), mlpFlops, 0, gemmKernel(name, func() { tensor.Matmul(ma, mw) }))
	}
	// Split-K (cuda.SplitK) against the whole K, at a CLIP projection's shape
	// at batch 8: 84 blocks of 64x64 on an H200's 396 slots, 4 slices of 192.
	pa, pw := randOn(r, tm.n(400), tm.n(768)), randOn(r, tm.n(768), tm.n(768))
	projFlops := 2 * float64(tm.n(400)) * float64(tm.n(768)) * float64(tm.n(768))
	add("matmul (clip proj) split", shapeStr(pa.Shape(), pw.Shape()), projFlops, 0, func() { tensor.Matmul(pa, pw) })
	add("matmul (clip proj) whole", shapeStr(pa.Shape(), pw.Shape()), projFlops, 0, with(tensor.SetCUDASplitK, 1, func() { tensor.Matmul(pa, pw) }))
	bs := tm.n(256)
	ba, bb := randOn(r, 64, bs, bs), randOn(r, 64, bs, bs)
	add("bmm", shapeStr(ba.Shape(), bb.Shape()), 2*64*float64(bs*bs*bs), 0, func() { tensor.Matmul(ba, bb) })
	fc := tm.n(512)
	fa, fw := randOn(r, 16, fc), randOn(r, fc, fc)
	add("matmul (fc, batch 16)", shapeStr(fa.Shape(), fw.Shape()), 2*16*float64(fc*fc), 0, func() { tensor.Matmul(fa, fw) })
	// The fully-connected layers' GEMMs on each of the two kernels for few
	// rows (the rows above take the autotuner's choice): 512 -> 512, and
	// D's 8192 -> 512 (its 4x4x512 features).
	fk := tm.n(8192)
	fb, fv := randOn(r, 16, fk), randOn(r, fk, fc)
	for _, mm := range []struct {
		name string
		a, b *tensor.Tensor
	}{{"matmul (fc)", fa, fw}, {"matmul (fc 8192)", fb, fv}} {
		flops := 2 * 16 * float64(mm.a.Size(1)) * float64(mm.b.Size(1))
		op := func() { tensor.Matmul(mm.a, mm.b) }
		add(mm.name+" small", shapeStr(mm.a.Shape(), mm.b.Shape()), flops, 0, withEnv(cuda.FallbackNamed("skinny-gemm").Env, "0", op))
		add(mm.name+" skinny", shapeStr(mm.a.Shape(), mm.b.Shape()), flops, 0, with(tensor.SetCUDASkinnyGemm, true, op))
	}

	ch, hw := tm.n(512), tm.n(32)
	x, w, bias := randOn(r, 16, ch, hw, hw), randOn(r, ch, ch, 3, 3), randOn(r, ch)
	cp := tensor.Conv2dParams{PadH: 1, PadW: 1}
	convFlops := 2 * 16 * float64(ch*hw*hw*ch) * 9
	// The direct kernels (128x128 tile) and the Winograd paths F(2x2, 3x3)
	// and F(4x4, 3x3), each forced; Winograd rows count the direct
	// convolution's FLOPs (2.25x and 4x their own multiply-adds).
	direct := func(op func()) func() { return with(tensor.SetCUDAConvTile, cuda.ConvTile128, op) }
	wino2 := func(op func()) func() { return with(tensor.SetCUDAConvTile, cuda.ConvWinograd2, op) }
	wino4 := func(op func()) func() { return with(tensor.SetCUDAConvTile, cuda.ConvWinograd4, op) }
	fwd := func() { tensor.Conv2d(x, w, bias, cp) }
	add("conv2d 3x3", shapeStr(x.Shape(), w.Shape()), convFlops, 0, direct(fwd))
	add("conv2d 3x3 winograd2", shapeStr(x.Shape(), w.Shape()), convFlops, 0, wino2(fwd))
	add("conv2d 3x3 winograd4", shapeStr(x.Shape(), w.Shape()), convFlops, 0, wino4(fwd))
	add("winograd4 bk16", shapeStr(x.Shape(), w.Shape()), convFlops, 0, bk16(wino4(fwd)))
	for _, name := range []string{"tc", "tcs"} {
		if slices.Contains(gemmNames, name) {
			add("winograd4 "+name, shapeStr(x.Shape(), w.Shape()), convFlops, 0, gemmKernel(name, wino4(fwd)))
		}
	}
	gy := randOn(r, 16, ch, hw, hw)
	dgrad := func() { tensor.Conv2dInputGrad(gy, w, x.Shape(), cp) }
	add("conv2d input grad", shapeStr(gy.Shape(), w.Shape()), convFlops, 0, direct(dgrad))
	add("input grad winograd4", shapeStr(gy.Shape(), w.Shape()), convFlops, 0, wino4(dgrad))
	wgrad := func() { tensor.Conv2dWeightGrad(x, gy, w.Shape(), cp) }
	add("conv2d weight grad", shapeStr(x.Shape(), gy.Shape()), convFlops, 0, direct(wgrad))
	add("weight grad winograd2", shapeStr(x.Shape(), gy.Shape()), convFlops, 0, wino2(wgrad))
	add("weight grad winograd4", shapeStr(x.Shape(), gy.Shape()), convFlops, 0, wino4(wgrad))
	// The non-fused modulated conv's forward: one fused kernel against the
	// op-by-op sequence it replaces (x·s, conv, ·d, +noise·strength).
	st, dc := randOn(r, 16, ch), randOn(r, 16, ch)
	nz, str := randOn(r, 16, 1, hw, hw), randOn(r)
	mo := tensor.ModConv2dOptions{Params: cp, InScale: st, OutScale: dc, Noise: nz, NoiseStrength: str}
	modFwd := func() { tensor.ModConv2d(x, w, mo) }
	add("modconv fwd fused", shapeStr(x.Shape(), w.Shape()), convFlops, 0, direct(modFwd))
	add("modconv fwd winograd4", shapeStr(x.Shape(), w.Shape()), convFlops, 0, wino4(modFwd))
	add("modconv fwd unfused", shapeStr(x.Shape(), w.Shape()), convFlops, 0, direct(func() {
		y := tensor.Conv2d(tensor.Mul(x, st.Reshape(16, ch, 1, 1)), w, nil, cp)
		tensor.Add(tensor.Mul(y, dc.Reshape(16, ch, 1, 1)), tensor.Mul(nz, str))
	}))
	tc, ts := tm.n(256), tm.n(16)
	xs := randOn(r, 16, tc, ts, ts)
	wt := randOn(r, tc, tc, 3, 3)
	ctp := tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}
	ctFlops := 2 * 16 * float64(tc*ts*ts*tc) * 9
	convT := func() { tensor.ConvTranspose2d(xs, wt, nil, ctp) }
	add("conv_transpose2d s2", shapeStr(xs.Shape(), wt.Shape()), ctFlops, 0, convT)
	add("conv_transpose2d s2 tile128", shapeStr(xs.Shape(), wt.Shape()), ctFlops, 0, direct(convT))
	// A down-2 layer's stride-2 conv (the blurred 64x64 input is 65x65):
	// direct kernels against F(4x4, 2x2) by phases, forward and weight
	// gradient (the input gradient is the transposed conv above).
	dh := tm.n(64) + 1
	xd, wd := randOn(r, 16, ch, dh, dh), randOn(r, ch, ch, 3, 3)
	sp := tensor.Conv2dParams{StrideH: 2, StrideW: 2}
	oh := (dh-3)/2 + 1
	sFlops := 2 * 16 * float64(ch*oh*oh*ch) * 9
	sFwd := func() { tensor.Conv2d(xd, wd, nil, sp) }
	add("conv2d 3x3 s2", shapeStr(xd.Shape(), wd.Shape()), sFlops, 0, direct(sFwd))
	add("conv2d 3x3 s2 phases", shapeStr(xd.Shape(), wd.Shape()), sFlops, 0, wino4(sFwd))
	gys := randOn(r, 16, ch, oh, oh)
	sWgrad := func() { tensor.Conv2dWeightGrad(xd, gys, wd.Shape(), sp) }
	add("weight grad s2", shapeStr(xd.Shape(), gys.Shape()), sFlops, 0, direct(sWgrad))
	add("weight grad s2 phases", shapeStr(xd.Shape(), gys.Shape()), sFlops, 0, wino4(sWgrad))

	big := randOn(r, 16, ch, 2*hw, 2*hw)
	n := float64(big.Numel())
	bb512 := randOn(r, ch)
	lrelu := tensor.DefaultBiasAct("lrelu")
	lrelu.Clamp = 256
	add("bias_act lrelu clamp", shapeStr(big.Shape()), 0, 2*f4*n, func() { tensor.BiasAct(big, bb512, lrelu) })
	dy := randOn(r, 16, ch, 2*hw, 2*hw)
	add("bias_act grad", shapeStr(big.Shape()), 0, 3*f4*n, func() { tensor.BiasActGrad(dy, big, bb512, lrelu) })
	filt := tensor.SetupFilterTaps(1, 3, 3, 1).To(tensor.CUDA)
	add("upfirdn2d up2 4x4", shapeStr(x.Shape()), 0, f4*(float64(x.Numel())+n), func() {
		tensor.Upsample2d(x, filt, 2, nil, false, 1)
	})
	add("upfirdn2d down2 4x4", shapeStr(big.Shape()), 0, f4*(n+float64(x.Numel())), func() {
		tensor.Downsample2d(big, filt, 2, nil, false, 1)
	})
	// The blur of a resampling conv (filter2d, pad 2,1): the same size out.
	filter := func() {
		tensor.Upfirdn2d(big, filt, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, Pad: [4]int{2, 1, 2, 1}, Gain: 1})
	}
	add("upfirdn2d filter 4x4", shapeStr(big.Shape()), 0, 2*f4*n, filter)
	// The same three on the shared-memory tile kernels.
	tiled := func(op func()) func() { return with(tensor.SetCUDAUpfirdnTiled, true, op) }
	add("upfirdn2d up2 tiled", shapeStr(x.Shape()), 0, f4*(float64(x.Numel())+n), tiled(func() {
		tensor.Upsample2d(x, filt, 2, nil, false, 1)
	}))
	add("upfirdn2d down2 tiled", shapeStr(big.Shape()), 0, f4*(n+float64(x.Numel())), tiled(func() {
		tensor.Downsample2d(big, filt, 2, nil, false, 1)
	}))
	add("upfirdn2d filter tiled", shapeStr(big.Shape()), 0, 2*f4*n, tiled(filter))
	// CLIP's training transform: a crop of 48 of 64-pixel images resized to 224.
	side, cs, rs := tm.n(64), tm.n(48), tm.n(224)
	crop := randOn(r, 16, 3, side, side).Narrow(2, (side-cs)/2, cs).Narrow(3, (side-cs)/2, cs)
	rg := randOn(r, 16, 3, rs, rs)
	resizeBytes := f4 * 16 * 3 * float64(cs*cs+rs*rs)
	add("bicubic crop -> 224", shapeStr(crop.Shape()), 0, resizeBytes, func() { tensor.InterpolateBicubic(crop, rs, rs) })
	add("bicubic adjoint", shapeStr(rg.Shape()), 0, resizeBytes, func() { tensor.InterpolateBicubicBackward(rg, cs, cs) })
	add("add (broadcast bias)", shapeStr(big.Shape(), []int{ch, 1, 1}), 0, 2*f4*n, func() {
		tensor.Add(big, bb512.Reshape(ch, 1, 1))
	})
	add("mul", shapeStr(big.Shape(), big.Shape()), 0, 3*f4*n, func() { tensor.Mul(big, dy) })
	// A style or demodulation coefficient per (sample, channel) plane: the
	// row-broadcast kernel (ew_binary_rows4_f32).
	perPlane := randOn(r, big.Size(0), ch, 1, 1)
	add("mul (a value per plane)", shapeStr(big.Shape(), perPlane.Shape()), 0, 2*f4*n, func() { tensor.Mul(big, perPlane) })
	add("exp of transposed view", shapeStr(big.Shape()), 0, 2*f4*n, func() { tensor.Exp(big.Transpose(2, 3)) })
	add("sum over N,H,W", shapeStr(big.Shape()), 0, f4*n, func() { tensor.Sum(big, []int{0, 2, 3}, false) })
	add("sum all", shapeStr(big.Shape()), 0, f4*n, func() { tensor.Sum(big, nil, false) })
	sm := randOn(r, tm.n(4096), 1024)
	add("softmax", shapeStr(sm.Shape()), 0, 2*f4*float64(sm.Numel()), func() { tensor.Softmax(sm, -1) })
	ln, lw, lb := randOn(r, tm.n(4096), 768), randOn(r, 768), randOn(r, 768)
	add("layer_norm", shapeStr(ln.Shape()), 0, 2*f4*float64(ln.Numel()), func() { tensor.LayerNorm(ln, lw, lb, 1, 1e-5) })
	vocab := tm.n(49408)
	emb := randOn(r, vocab, 512)
	ids := make([]int, 77*64)
	for i := range ids {
		ids[i] = r.IntN(vocab)
	}
	add("embedding", shapeStr(emb.Shape(), []int{64, 77}), 0, 2*f4*float64(len(ids)*512), func() {
		tensor.Embedding(emb, ids, []int{64, 77})
	})
	add("copy transposed", shapeStr(a.Shape()), 0, 2*f4*float64(a.Numel()), func() { a.Transpose(0, 1).Contiguous() })
	rng := tensor.NewRNG(1)
	mn := tm.n(16 << 20)
	add("rng normal", fmt.Sprint(mn), 0, f4*float64(mn), func() { rng.NormalOn(tensor.CUDA, mn) })
	p, g := randOn(r, mn), randOn(r, mn)
	m, v := tensor.ZerosOn(tensor.CUDA, mn), tensor.ZerosOn(tensor.CUDA, mn)
	step := 0
	add("adam step", fmt.Sprint(mn), 0, 7*f4*float64(mn), func() {
		step++
		tensor.AdamStep(p, g, m, v, tensor.AdamParams{LR: 1e-3, Beta1: 0, Beta2: 0.99, Eps: 1e-8, Step: step, InfTo: 1e5})
	})
	return rows
}

// TestGPUTimingDryRun runs the timing workloads, shrunk, on the kernel
// emulator, so that the table's code is known to run before it meets a GPU.
func TestGPUTimingDryRun(t *testing.T) {
	_, restore := emulate()
	defer restore()
	tm := &timer{t: t, div: 64}
	rows := tm.ops()
	if len(rows) < 20 {
		t.Fatalf("%d timing rows", len(rows))
	}
	// The rows scripts/gpu-check.sh's summary reads (row 'name', best 'a'
	// 'b') must exist, or the summary would print "?" on the card.
	script, err := os.ReadFile("../scripts/gpu-check.sh")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`(?:row|best) ('[^']+')(?: ('[^']+'))?`).FindAllStringSubmatch(string(script), -1)
	if len(named) < 4 {
		t.Fatalf("found %d row lookups in gpu-check.sh", len(named))
	}
	for _, m := range named {
		for _, q := range m[1:] {
			if q == "" {
				continue
			}
			prefix := strings.Trim(q, "'")
			found := false
			for _, r := range rows {
				// The script matches "^<name> " against the table's lines.
				if strings.HasPrefix(fmt.Sprintf("%-24s %-30s", r.name, r.shape), prefix+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("gpu-check.sh reads timing row %q, which the table does not have", prefix)
			}
		}
	}
}

// TestBatchFor: timed batches hold about half a millisecond of runs, at
// least one and at most 16.
func TestBatchFor(t *testing.T) {
	for _, c := range []struct {
		once float64
		want int
	}{{0.07, 8}, {0.5, 1}, {2.4, 1}, {0.001, 16}, {0.25, 2}, {0, 1}, {math.NaN(), 1}} {
		if got := batchFor(c.once); got != c.want {
			t.Errorf("batchFor(%g) = %d, want %d", c.once, got, c.want)
		}
	}
}
