package tensor

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
)

// withAutotune turns autotuning on with a clock under which the candidate
// prefer (by op) is the fastest and every other takes 1 ms more than its
// rank in the list, and counts the clock's calls. It restores everything
// when the test ends.
func withAutotune(t *testing.T, prefer map[string]string) *int {
	t.Helper()
	calls := new(int)
	restore := SetCUDAAutotune(true)
	ResetCUDAAutotune()
	autotuneClock = func(op, shape, candidate string, ms float64) float64 {
		*calls++
		if ms < 0 {
			t.Errorf("%s %s: %s measured %g ms", op, shape, candidate, ms)
		}
		if prefer[op] == candidate {
			return 0
		}
		return 1 + float64(len(candidate)) // any order that is not the preferred one's
	}
	t.Cleanup(func() {
		autotuneClock = nil
		ResetCUDAAutotune()
		restore()
	})
	return calls
}

// launchDelta returns the launches (entry -> count) between two
// emu.Device.Launches lists.
func launchDelta(before, after []string) map[string]int {
	count := func(list []string) map[string]int {
		m := map[string]int{}
		for _, l := range list {
			i := strings.LastIndexByte(l, '=')
			n, _ := strconv.Atoi(l[i+1:])
			m[l[:i]] = n
		}
		return m
	}
	b, d := count(before), map[string]int{}
	for k, n := range count(after) {
		if n > b[k] {
			d[k] = n - b[k]
		}
	}
	return d
}

func choiceFor(op string) *AutotuneChoice {
	for _, c := range CUDAAutotuneReport() {
		if c.Op == op {
			return &c
		}
	}
	return nil
}

func TestAutotuneIsOffOnTheEmulatorByDefault(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	ResetCUDAAutotune()
	defer ResetCUDAAutotune()
	rng := NewRNG(1)
	x, w := rng.Normal(2, 32, 8, 8).To(CUDA), rng.Normal(32, 32, 3, 3).To(CUDA)
	Conv2d(x, w, nil, Conv2dParams{PadH: 1, PadW: 1})
	if r := CUDAAutotuneReport(); len(r) != 0 {
		t.Fatalf("the emulator tuned without being asked: %+v", r)
	}
	if autotuneSetting(false) || !autotuneSetting(true) {
		t.Fatal("default: tune on a driver device only")
	}
	t.Setenv("LAFITE_CUDA_AUTOTUNE", "0")
	if autotuneSetting(true) {
		t.Fatal("LAFITE_CUDA_AUTOTUNE=0 must turn it off on a driver device")
	}
	t.Setenv("LAFITE_CUDA_AUTOTUNE", "1")
	if !autotuneSetting(false) {
		t.Fatal("LAFITE_CUDA_AUTOTUNE=1 must turn it on elsewhere")
	}
}

// The conv is timed once per candidate, the fastest is what runs (then and
// on every later call, untimed), and its result is the host's.
func TestAutotuneConvPicksTheFastestAndKeepsIt(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	for _, want := range []string{"winograd2", "direct64", "winograd4"} {
		t.Run(want, func(t *testing.T) {
			calls := withAutotune(t, map[string]string{"conv forward": want})
			rng := NewRNG(2)
			x, w, b := rng.Normal(2, 32, 8, 8), rng.Normal(32, 32, 3, 3), rng.Normal(32)
			p := Conv2dParams{PadH: 1, PadW: 1}
			xg, wg, bg := x.To(CUDA), w.To(CUDA), b.To(CUDA)
			got := Conv2d(xg, wg, bg, p).To(CPU)
			if d := maxRelDiff(got, Conv2d(x, w, b, p)); d > 1e-5 {
				t.Fatalf("tuned conv: max relative difference %.2g", d)
			}
			c := choiceFor("conv forward")
			if c == nil {
				t.Fatalf("no conv forward choice in %+v", CUDAAutotuneReport())
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range c.Ms {
					if !yield(k) {
						return
					}
				}
			})
			if c.Chosen != want || !slices.Equal(names, []string{"direct128", "direct64", "winograd2", "winograd4"}) {
				t.Fatalf("chose %q among %v, want %q among the direct tiles and both Winograd tiles", c.Chosen, names, want)
			}
			if c.Rule != "direct64" {
				t.Fatalf("rules' choice recorded as %q, want direct64 (the planner's tile for 32 channels)", c.Rule)
			}
			if !strings.Contains(c.Shape, "N2 C32 8x8 -> O32 8x8 k3x3 s1,1 p1,1") {
				t.Fatalf("shape key %q does not describe the conv", c.Shape)
			}
			timed := *calls
			before := dev.Launches()
			again := Conv2d(xg, wg, bg, p).To(CPU)
			ran := launchDelta(before, dev.Launches())
			if *calls != timed {
				t.Fatal("the second call with the same shape was timed again")
			}
			if d := maxRelDiff(again, got); d != 0 {
				t.Fatalf("second call differs from the first by %.2g", d)
			}
			wino := ran["wino_output_f32"] > 0
			direct := ran["conv2d_fwd_f32"] > 0 || ran["conv2d_fwd128_f32"] > 0
			if strings.HasPrefix(want, "winograd") != wino || strings.HasPrefix(want, "direct") != direct ||
				(want == "direct64" && ran["conv2d_fwd_f32"] != 1) {
				t.Fatalf("%s chosen, but the second call launched %v", want, ran)
			}
		})
	}
}

// Which candidates each kind of conv has, and that forcing a path leaves
// nothing to tune.
func TestAutotuneConvCandidates(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	names := func(kind int, g convGeomArgs) []string {
		algos, fallback := convCandidates(kind, g.geom(), g.c, g.o, 2*g.h*g.h)
		var out []string
		for _, a := range algos {
			out = append(out, a.String())
		}
		if fallback < 0 || fallback >= len(algos) {
			t.Fatalf("fallback %d of %d", fallback, len(algos))
		}
		return out
	}
	s1 := convGeomArgs{c: 64, o: 64, h: 16, k: 3, s: 1, p: 1}
	s2 := convGeomArgs{c: 64, o: 64, h: 16, k: 3, s: 2, p: 1}
	for _, c := range []struct {
		kind int
		g    convGeomArgs
		want string
	}{
		{cuda.ConvForward, s1, "direct64 direct128 winograd2 winograd4"},
		{cuda.ConvModForward, s1, "direct64 direct128 winograd2 winograd4"},
		{cuda.ConvWeightGrad, s1, "direct64 direct128 winograd2 winograd4"},
		{cuda.ConvForward, s2, "direct64 direct128 winograd-phases"},
		{cuda.ConvInputGrad, s2, "dgrad-phase-classes direct64 direct128 winograd-phases"},
		{cuda.ConvModForward, s2, "direct64 direct128"},
		{cuda.ConvForward, convGeomArgs{c: 64, o: 64, h: 16, k: 1, s: 1}, "direct64 direct128"},
		{cuda.ConvForward, convGeomArgs{c: 3, o: 64, h: 16, k: 3, s: 1, p: 1}, "direct64 direct128"},
	} {
		if got := strings.Join(names(c.kind, c.g), " "); got != c.want {
			t.Errorf("%s %+v: candidates %q, want %q", convKindNames[c.kind], c.g, got, c.want)
		}
	}
	for _, tile := range []int{cuda.ConvTile64, cuda.ConvWinograd2} {
		prev := SetCUDAConvTile(tile)
		got := names(cuda.ConvForward, s1)
		SetCUDAConvTile(prev)
		if len(got) != 1 {
			t.Errorf("SetCUDAConvTile(%d) left %v to tune", tile, got)
		}
	}
	// The fallback is the rules' choice: for a small stride-1 conv the
	// planner's direct tile, for a strided input gradient the phase kernel.
	algos, fb := convCandidates(cuda.ConvInputGrad, s2.geom(), 64, 64, 2*16*16)
	if algos[fb] != (convAlgo{}) {
		t.Errorf("strided input gradient falls back to %v", algos[fb])
	}
	// A large stride-2 modulated conv: the rules' phase path does not exist
	// for it, so the fallback is the planner's direct tile.
	big := convGeomArgs{c: 256, o: 256, h: 64, k: 3, s: 2, p: 1}
	algos, fb = convCandidates(cuda.ConvModForward, big.geom(), 256, 256, 2*32*32)
	if want, _ := planConv(cuda.ConvModForward, convParams(big.geom()), theGPU().props.SMs, 0); algos[fb].path != winoDirect ||
		algos[fb].tile == 0 || !strings.Contains(want.Entry, map[int]string{64: "modfwd_f32", 128: "modfwd128"}[algos[fb].tile]) {
		t.Errorf("stride-2 modulated conv falls back to %v, the planner runs %s", algos[fb], want.Entry)
	}
	algos, fb = convCandidates(cuda.ConvForward, s1.geom(), 64, 64, 2*16*16)
	if algos[fb].path != winoDirect || algos[fb].tile == 0 {
		t.Errorf("small stride-1 conv falls back to %v", algos[fb])
	}
}

type convGeomArgs struct{ c, o, h, k, s, p int }

func (a convGeomArgs) geom() cpu.ConvGeom {
	return convGeom("test", "x", []int{2, a.c, a.h, a.h}, []int{a.o, a.c, a.k, a.k},
		Conv2dParams{StrideH: a.s, StrideW: a.s, PadH: a.p, PadW: a.p})
}

// The GEMM chooses between its two main loops; a call that accumulates
// into C (beta != 0) is never timed and reuses the choice for its shape.
func TestAutotuneGemm(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	withAutotune(t, map[string]string{"gemm": "bk16"})
	rng := NewRNG(3)
	a, b := rng.Normal(130, 40), rng.Normal(40, 70)
	got := Matmul(a.To(CUDA), b.To(CUDA)).To(CPU)
	if d := maxRelDiff(got, Matmul(a, b)); d > 1e-5 {
		t.Fatalf("tuned matmul: max relative difference %.2g", d)
	}
	c := choiceFor("gemm")
	// bk8, bk16, t64, tc, tcs, tc64, tcs64 (the emulated GPU is compute 8.0).
	if c == nil || c.Chosen != "bk16" || len(c.Ms) != 7 || c.Shape != "130x70x40 z1 aN bN" {
		t.Fatalf("gemm choice %+v", c)
	}
	before := dev.Launches()
	Matmul(a.To(CUDA), b.To(CUDA))
	if ran := launchDelta(before, dev.Launches()); ran["sgemm_128x128x16_f32"] != 1 || len(ran) != 1 {
		t.Fatalf("bk16 chosen, the second call launched %v", ran)
	}
	// Transposed operands are another shape.
	Matmul(a.To(CUDA).Transpose(0, 1).Contiguous().Transpose(0, 1), b.To(CUDA))
	if n := len(CUDAAutotuneReport()); n < 2 {
		t.Fatalf("a transposed A reused the row-major choice (%d choices)", n)
	}

	g := theGPU()
	for _, beta := range []float32{1, 0.5} {
		m, k, n := 96, 24, 80
		A, B, C := rng.Normal(m, k), rng.Normal(k, n), rng.Normal(m, n)
		cg := C.To(CUDA)
		p := cuda.GemmParams{M: int32(m), N: int32(n), K: int32(k), ARow: int64(k), ACol: 1, BRow: int64(n), BCol: 1,
			CRow: int64(n), CCol: 1, Alpha: 1, Beta: beta}
		tuned := len(CUDAAutotuneReport())
		launches := dev.Launches()
		g.sgemm(cuda.PlanSgemm(p, 1), p, A.To(CUDA).ptr(), B.To(CUDA).ptr(), cg.ptr())
		want := Add(Matmul(A, B), MulScalar(C, beta))
		if d := maxRelDiff(cg.To(CPU), want); d > 1e-5 {
			t.Fatalf("beta %g: C off by %.2g (a timed accumulation would have added A B more than once)", beta, d)
		}
		if len(CUDAAutotuneReport()) != tuned {
			t.Fatalf("beta %g: the accumulating GEMM was tuned", beta)
		}
		ran := launchDelta(launches, dev.Launches())
		if beta == 1 && ran["sgemm_64x64x16_f32"] != 1 {
			t.Fatalf("untuned accumulating GEMM launched %v, want the rules' choice for a one-block grid (64x64)", ran)
		}
		if beta == 0.5 && ran["sgemm_128x128x16_f32"] != 1 {
			t.Fatalf("accumulating GEMM launched %v, want its shape's tuned choice (bk16)", ran)
		}
		if beta == 0.5 {
			break
		}
		// Tune the shape with beta 0; the accumulating call then follows it.
		Matmul(A.To(CUDA), B.To(CUDA))
	}
}

// A GEMM whose grid spans two batch dims (attention's heads of one
// projection) is tuned like any other: every candidate's result agrees with
// the rules', and the product is right.
func TestAutotuneGemmOverTwoBatchDims(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	withAutotune(t, map[string]string{"gemm": "bk16"})
	const l, n, h, d = 70, 2, 3, 8
	x := NewRNG(5).Normal(l, n, 3*h*d)
	heads := func(x *Tensor, i int) *Tensor { // [N, H, L, d], batch strides that do not merge
		return x.Narrow(2, i*h*d, h*d).Reshape(l, n, h, d).Permute(1, 2, 0, 3)
	}
	xg := x.To(CUDA)
	got := Matmul(heads(xg, 0), heads(xg, 1).Transpose(2, 3))
	if d := maxRelDiff(got.To(CPU), Matmul(heads(x, 0), heads(x, 1).Transpose(2, 3))); d > 1e-5 {
		t.Fatalf("max relative difference %.2g", d)
	}
	c := choiceFor("gemm")
	if c == nil || c.Shape != "70x70x8 z6 aN bT" || len(c.Failed) != 0 || c.Chosen != "bk16" {
		t.Fatalf("gemm choice %+v", c)
	}
}

// A GPU without TF32 tensor cores (before sm_80), or one whose tensor cores
// LAFITE_CUDA_TENSOR_CORES=0 turns off (a failed probe of the GPU check),
// never tunes or runs the tensor-core GEMMs, and forcing one says why not.
func TestTensorCoreGemmLeftOut(t *testing.T) {
	for _, c := range []struct {
		name         string
		major, minor int
		off          bool
		why          string
	}{
		{"compute 7.5", 7, 5, false, "needs compute capability 8.0 or later; GPU \"emulated GPU\" is 7.5"},
		{"switched off", 8, 0, true, "runs on the tensor cores, which LAFITE_CUDA_TENSOR_CORES=0 turns off"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.off {
				t.Setenv(cuda.TensorCoresEnv, "0")
			}
			e := emu.New()
			props := e.Props()
			props.Major, props.Minor = c.major, c.minor
			defer UseCUDABackend(e, props)()
			withAutotune(t, nil)
			rng := NewRNG(6)
			a, b := rng.Normal(130, 40), rng.Normal(40, 70)
			before := e.Launches()
			got := Matmul(a.To(CUDA), b.To(CUDA)).To(CPU)
			if d := maxRelDiff(got, Matmul(a, b)); d > 1e-5 {
				t.Fatalf("max relative difference %.2g", d)
			}
			if ran := launchDelta(before, e.Launches()); ran["sgemm_tc128_f32"]+ran["sgemm_tcs128_f32"]+ran["sgemm_tc64_f32"]+ran["sgemm_tcs64_f32"] != 0 {
				t.Fatalf("launched a tensor-core GEMM: %v", ran)
			}
			if c := choiceFor("gemm"); c == nil || len(c.Ms) != 3 || c.Ms["tc"]+c.Ms["tcs"]+c.Ms["tc64"]+c.Ms["tcs64"] != 0 {
				t.Fatalf("gemm choice %+v, want bk8, bk16 and t64 timed", c)
			}
			for _, k := range []string{"tc", "tcs", "tc64", "tcs64"} {
				prev := SetCUDAGemmKernel(k)
				expectPanic(t, "GEMM kernel "+k+" (LAFITE_CUDA_GEMM) "+c.why, func() {
					Matmul(a.To(CUDA), b.To(CUDA))
				})
				SetCUDAGemmKernel(prev)
			}
		})
	}
}

// upfirdn2d's 4x4 cases choose between the streaming and shared-tile
// kernels; the general kernel has nothing to choose.
func TestAutotuneUpfirdn(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	withAutotune(t, map[string]string{"upfirdn2d": "upfirdn2d_up2_f4_tiled_f32"})
	rng := NewRNG(4)
	x, f := rng.Normal(2, 3, 9, 7), rng.Normal(4, 4)
	p := Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{2, 1, 2, 1}, Gain: 4}
	got := Upfirdn2d(x.To(CUDA), f.To(CUDA), p).To(CPU)
	if d := maxRelDiff(got, Upfirdn2d(x, f, p)); d > 1e-5 {
		t.Fatalf("tuned upfirdn2d: max relative difference %.2g", d)
	}
	c := choiceFor("upfirdn2d")
	if c == nil || c.Chosen != "upfirdn2d_up2_f4_tiled_f32" || len(c.Ms) != 2 {
		t.Fatalf("upfirdn2d choice %+v", c)
	}
	before := dev.Launches()
	Upfirdn2d(x.To(CUDA), f.To(CUDA), p)
	if ran := launchDelta(before, dev.Launches()); ran["upfirdn2d_up2_f4_tiled_f32"] != 1 || len(ran) != 1 {
		t.Fatalf("second call launched %v", ran)
	}
	n := len(CUDAAutotuneReport())
	Upfirdn2d(x.To(CUDA), rng.Normal(3, 3).To(CUDA), Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{1, 1, 1, 1}, Gain: 4})
	if len(CUDAAutotuneReport()) != n {
		t.Fatal("a 3x3 filter (general kernel only) was tuned")
	}
}

// A GEMM too small in M or N for the large tiles is tuned between the 16x16
// tile and the skinny kernel; without tuning the rules take the skinny one
// for few rows and enough columns; SetCUDASkinnyGemm forces it and
// LAFITE_CUDA_SKINNY_GEMM=0 keeps it out.
func TestAutotuneFewRowsGemm(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	rng := NewRNG(8)
	a, b := rng.Normal(16, 300), rng.Normal(300, 40)
	want := Matmul(a, b)
	run := func() map[string]int {
		before := dev.Launches()
		got := Matmul(a.To(CUDA), b.To(CUDA)).To(CPU)
		if d := maxRelDiff(got, want); d > 1e-5 {
			t.Fatalf("16x40x300 matmul: max relative difference %.2g", d)
		}
		return launchDelta(before, dev.Launches())
	}
	defer SetCUDAAutotune(false)()
	if ran := run(); ran["sgemm_skinny_f32"] != 1 || len(ran) != 1 {
		t.Fatalf("rules: launched %v, want the skinny kernel", ran)
	}
	withAutotune(t, map[string]string{"gemm-few": "small"})
	run()
	c := choiceFor("gemm-few")
	if c == nil || c.Chosen != "small" || c.Rule != "skinny" || len(c.Ms) != 2 || c.Shape != "16x40x300 z1 aN bN" {
		t.Fatalf("gemm-few choice %+v", c)
	}
	if ran := run(); ran["sgemm_small_f32"] != 1 || len(ran) != 1 {
		t.Fatalf("small chosen, the next call launched %v", ran)
	}
	prev := SetCUDASkinnyGemm(true)
	ran := run()
	SetCUDASkinnyGemm(prev)
	if ran["sgemm_skinny_f32"] != 1 || len(ran) != 1 {
		t.Fatalf("forced: launched %v", ran)
	}
	t.Setenv("LAFITE_CUDA_SKINNY_GEMM", "0")
	ResetCUDAAutotune()
	if ran := run(); ran["sgemm_small_f32"] != 1 || len(ran) != 1 || len(CUDAAutotuneReport()) != 0 {
		t.Fatalf("switched off: launched %v, tuned %d shapes", ran, len(CUDAAutotuneReport()))
	}
}

// With tuning off: the 8-k stage 128x128 tile, or the 64x64 tile where the
// 128x128 grid leaves SMs without a block; a forced kernel runs everywhere,
// untimed; LAFITE_CUDA_GEMM names one of the kernels.
func TestGemmKernelRules(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	defer SetCUDAAutotune(false)()
	rng := NewRNG(5)
	sms := theGPU().props.SMs
	ran := func(m, k, n int) map[string]int {
		a, b := rng.Normal(m, k), rng.Normal(k, n)
		before := dev.Launches()
		got := Matmul(a.To(CUDA), b.To(CUDA)).To(CPU)
		if d := maxRelDiff(got, Matmul(a, b)); d > 1e-5 {
			t.Fatalf("%dx%dx%d: max relative difference %.2g", m, k, n, d)
		}
		return launchDelta(before, dev.Launches())
	}
	// 128 * (sms + 1) rows by 128 columns: one block per SM and more.
	if r := ran(128*(sms+1), 8, 128); r["sgemm_128x128x8_f32"] != 1 {
		t.Errorf("a grid that fills the GPU ran %v, want the 128x128 8-k kernel", r)
	}
	if r := ran(128, 8, 128); r["sgemm_64x64x16_f32"] != 1 {
		t.Errorf("a one-block grid ran %v, want the 64x64 tile", r)
	}
	for _, k := range []string{"bk16", "t64", "tc", "tcs", "tc64", "tcs64", "bk8"} {
		prev := SetCUDAGemmKernel(k)
		r := ran(200, 24, 72)
		SetCUDAGemmKernel(prev)
		want := ""
		for _, sk := range cuda.SgemmKernels {
			if sk.Name == k {
				want = sk.Entry
			}
		}
		if r[want] != 1 || len(r) != 1 {
			t.Errorf("forced %s: launched %v", k, r)
		}
	}
	expectPanic(t, `GEMM kernel "bk32"`, func() { SetCUDAGemmKernel("bk32") })
	for v, ok := range map[string]bool{"": true, "bk8": true, "bk16": true, "t64": true, "tc": true, "tcs": true, "tc64": true, "tcs64": true, "bk32": false, "BK16": false} {
		if _, err := gemmKernelSetting(v); (err == nil) != ok {
			t.Errorf("LAFITE_CUDA_GEMM=%q: error %v", v, err)
		}
	}
}

// A candidate that panics (a launch the card refuses) is left out; when
// every one does, the op fails with the first one's message.
func TestAutotuneSkipsFailingCandidates(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	withAutotune(t, map[string]string{"test op": "fails"})
	g := theGPU()
	runs := map[string]int{}
	names := []string{"fails", "works", "slow"}
	i := g.choose("test op", "s1", names, 0, func(i int) {
		runs[names[i]]++
		if names[i] == "fails" {
			panic("tensor: CUDA: too many resources requested for launch")
		}
	}, nil)
	c := choiceFor("test op")
	if names[i] == "fails" || c == nil || c.Chosen == "fails" || !strings.Contains(c.Failed["fails"], "too many resources") {
		t.Fatalf("chose %q; record %+v", names[i], c)
	}
	if _, timed := c.Ms["fails"]; timed || len(c.Ms) != 2 || runs["works"] != autotuneRuns || runs["fails"] != 1 {
		t.Fatalf("times %v, runs %v", c.Ms, runs)
	}
	expectPanic(t, "first failure", func() {
		g.choose("test op", "s2", names, 0, func(i int) { panic([]string{"first failure", "second", "third"}[i]) }, nil)
	})
}

// A candidate whose result differs from the rules' candidate's (which runs
// first) is recorded as failed and never chosen, however fast; one within
// rounding of it, and one whose reference result is not finite, pass.
func TestAutotuneRejectsWrongResults(t *testing.T) {
	_, restore := useEmulator()
	defer restore()
	withAutotune(t, map[string]string{"test op": "wrong"})
	g := theGPU()
	out := EmptyOn(CUDA, 3, 50)
	base := NewRNG(4).Normal(3, 50)
	off := make([]float32, 150)
	off[57] = 1 // one element off by 1
	oneOff := New(off, 3, 50)
	names := []string{"the rule", "wrong", "ok", "nan"} // withAutotune: "wrong" fastest, then by name length
	var order []string
	write := func(ref *Tensor) func(i int) {
		return func(i int) {
			order = append(order, names[i])
			v := ref
			switch names[i] {
			case "wrong":
				v = Add(ref, oneOff)
			case "ok":
				v = MulScalar(ref, 1+1e-6)
			case "nan":
				v = Div(ref, Zeros(3, 50)) // NaN where ref is 0, Inf elsewhere
			}
			out.CopyFrom(v.To(CUDA))
		}
	}
	i := g.choose("test op", "s1", names, 0, write(base), out)
	c := choiceFor("test op")
	if names[i] != "ok" || c.Chosen != "ok" {
		t.Fatalf("chose %q, want the fastest correct candidate; record %+v", names[i], c)
	}
	if order[0] != "the rule" {
		t.Fatalf("candidates ran in order %v: the rules' must run first", order)
	}
	for _, bad := range []string{"wrong", "nan"} {
		if !strings.Contains(c.Failed[bad], "result differs from the rule's") {
			t.Errorf("%s: failure %q", bad, c.Failed[bad])
		}
		if _, timed := c.Ms[bad]; timed {
			t.Errorf("%s was kept as a timed candidate", bad)
		}
	}
	// A reference that is not finite cannot be compared: no candidate fails.
	inf := MulScalar(base, float32(math.Inf(1)))
	g.choose("test op", "s2", names, 0, write(inf), out)
	for _, r := range CUDAAutotuneReport() {
		if r.Shape == "s2" && len(r.Failed) != 0 {
			t.Fatalf("with a non-finite reference: failed %v", r.Failed)
		}
	}
}
