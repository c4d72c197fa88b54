package cuda

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// GPU tests of the entry points the tensor layer added: the masking and
// replacement unary ops, where, tensor.RNG's sequence, and the peak kernels.

func TestGPUElementwiseMasksAndWhere(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(5, 6))
	n := 515
	x := randn(r, n)
	x[3], x[4], x[5] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	xp, y := upload(t, d, x), buf(t, d, n)
	grid := GridStride(int64(n), 256, d.Props.SMs)
	for _, c := range []struct {
		name        string
		op          int32
		alpha, beta float32
		f           func(x float64) float64
	}{
		{"step", EwStep, 0, 0, func(x float64) float64 { return b2f(x > 0) }},
		{"gelu_tanh", EwGeluTanh, 0, 0, func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(0.7978845608028654*(x+0.044715*x*x*x)))
		}},
		{"in_range", EwInRange, -0.5, 0.7, func(x float64) float64 { return b2f(x >= -0.5 && x <= 0.7) }},
		{"nan_to", EwNanTo, 9, 0, func(x float64) float64 {
			if math.IsNaN(x) {
				return 9
			}
			return x
		}},
		{"inf_to", EwInfTo, 5, -6, func(x float64) float64 {
			switch {
			case math.IsInf(x, 1):
				return 5
			case math.IsInf(x, -1):
				return -6
			}
			return x
		}},
		{"is_finite", EwIsFinite, 0, 0, func(x float64) float64 { return b2f(!math.IsNaN(x) && !math.IsInf(x, 0)) }},
		{"clamp keeps NaN", EwClamp, -0.5, 0.7, func(x float64) float64 {
			if math.IsNaN(x) {
				return x
			}
			return math.Min(math.Max(x, -0.5), 0.7)
		}},
	} {
		run(t, d, "elementwise", "ew_unary_f32", grid, D1(256), 0, c.op, int64(n), c.alpha, c.beta, xp, y)
		want := make([]float64, n)
		for i := range want {
			want[i] = c.f(float64(x[i]))
		}
		got := download(t, d, y, n)
		for i := range got { // infinities compare exactly; the rest within float32 rounding
			if math.IsInf(want[i], 0) && float64(got[i]) == want[i] {
				got[i], want[i] = 0, 0
			}
		}
		near(t, c.name, got, want, 1e-6, 1e-5)
	}

	// where over broadcast operands; c is laid out like the output.
	const R, C = 6, 7
	cond, a, b := randn(r, R*C), randn(r, R*C), randn(r, C)
	cp, ap, bp, op := upload(t, d, cond), upload(t, d, a), upload(t, d, b), buf(t, d, R*C)
	s, err := NewEwShape([]int{R, C}, []int{C, 1}, []int{0, 1}, []int{C, 1})
	if err != nil {
		t.Fatal(err)
	}
	run(t, d, "elementwise", "ew_where_strided_f32", D1(1), D1(256), 0, s, cp, ap, bp, op)
	want := make([]float64, R*C)
	for i := range want {
		if cond[i] != 0 {
			want[i] = float64(a[i])
		} else {
			want[i] = float64(b[i%C])
		}
	}
	near(t, "where", download(t, d, op, R*C), want, 0, 0)
	// Now with zeros in cond.
	for i := range cond {
		if cond[i] < 0 {
			cond[i] = 0
		}
	}
	cp = upload(t, d, cond)
	run(t, d, "elementwise", "ew_where_strided_f32", D1(2), D1(256), 0, s, cp, ap, bp, op)
	for i := range want {
		if cond[i] != 0 {
			want[i] = float64(a[i])
		} else {
			want[i] = float64(b[i%C])
		}
	}
	near(t, "where with zeros", download(t, d, op, R*C), want, 0, 0)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestGPUTensorRNGSequence(t *testing.T) {
	d := gpu(t)
	for _, n := range []int{1, 3, 4, 5, 1001, 70000} {
		seed, ctr := uint64(0x1234_5678_9abc), uint64(77)
		out := buf(t, d, n)
		run(t, d, "philox", "rng_uniform_f32", GridStride(int64((n+3)/4), 256, d.Props.SMs), D1(256), 0,
			int64(n), seed, ctr, float32(-2), float32(3), out)
		want := make([]float32, n)
		cpu.FillUniform(want, -2, 3, seed, ctr)
		near(t, "rng uniform (bit-exact)", download(t, d, out, n), f64(want), 0, 0)
		run(t, d, "philox", "rng_normal_f32", GridStride(int64((n+1)/2), 256, d.Props.SMs), D1(256), 0,
			int64(n), seed, ctr, out)
		cpu.FillNormal(want, seed, ctr)
		near(t, "rng normal", download(t, d, out, n), f64(want), 1e-6, 1e-6)
	}
}

func TestGPUPeakKernels(t *testing.T) {
	d := gpu(t)
	blocks, iters := 3, 1000
	out := buf(t, d, 256*blocks)
	run(t, d, "peak", "peak_fma_f32", D1(blocks), D1(256), 0, int32(iters), float32(1), float32(1e-3), out)
	got := download(t, d, out, 256*blocks)
	want := make([]float64, len(got))
	for tid := range want {
		for k := 0; k < 8; k++ {
			want[tid] += float64(float32(tid+k)*1e-3) + float64(iters)*1e-3
		}
	}
	near(t, "peak fma sums", got, want, 1e-3, 1e-4)

	n4 := 1000
	x := randn(rand.New(rand.NewPCG(8, 9)), 4*n4)
	xp, y := upload(t, d, x), buf(t, d, 4*n4)
	run(t, d, "peak", "peak_copy_f32", D1(2), D1(256), 0, int64(n4), xp, y)
	near(t, "peak copy", download(t, d, y, 4*n4), f64(x), 0, 0)
}

// TestGPUBiasActFromInput checks grad = 3 against the host's reference
// gradient (kernels/cpu), which is the engine's convention.
func TestGPUBiasActFromInput(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(11, 12))
	const N, C, HW = 2, 5, 12
	n := N * C * HW
	x, b, dy := randn(r, n), randn(r, C), randn(r, n)
	for i := range x {
		x[i] *= 3 // reach the clamp and the flat parts
	}
	xp, bp, dyp, y := upload(t, d, x), upload(t, d, b), upload(t, d, dy), buf(t, d, n)
	kinds := []cpu.BiasActKind{cpu.BiasActLinear, cpu.BiasActRelu, cpu.BiasActLrelu, cpu.BiasActTanh, cpu.BiasActSigmoid,
		cpu.BiasActElu, cpu.BiasActSelu, cpu.BiasActSoftplus, cpu.BiasActSwish}
	for i, kind := range kinds {
		for _, clamp := range []float32{-1, 0.8} {
			gain, alpha := float32(1.4142135), float32(0.2)
			p := BiasActParams{Act: int32(i + 1), Grad: 3, Alpha: alpha, Gain: gain, Clamp: clamp,
				SizeX: int32(n), SizeB: C, StepB: HW}
			run(t, d, "bias_act", "bias_act_f32", GridStride(int64(n/4), 256, d.Props.SMs), D1(256), 0,
				p, dyp, bp, xp, DevicePtr(0), DevicePtr(0), y)
			want := make([]float32, n)
			cpu.BiasActGradRef(want, dy, x, b, cpu.BiasActConfig{Kind: kind, Alpha: alpha, Gain: gain, Clamp: clamp,
				Outer: N, Channels: C, Inner: HW})
			near(t, "bias_act grad=3", download(t, d, y, n), f64(want), 1e-5, 1e-4)
		}
	}
}

// TestGPUQueuedLaunchErrors: Launch returns before the owner goroutine
// launches, so a launch the driver refuses (a block of 4096 threads) must be
// reported by the next call that reports errors, naming the kernel, and only
// once: the device keeps working afterwards.
func TestGPUQueuedLaunchErrors(t *testing.T) {
	d := gpu(t)
	f, err := d.Function("peak.cu", "peak_copy_f32")
	if err != nil {
		t.Fatal(err)
	}
	x, y := buf(t, d, 1024), buf(t, d, 1024)
	if err := d.Launch(f, D1(1), D1(4096), 0, int64(256), x, y); err != nil {
		t.Logf("refused at once: %v", err)
	} else if err := d.Synchronize(); err == nil || !strings.Contains(err.Error(), "peak_copy_f32") {
		t.Fatalf("a block of 4096 threads gave %v at the next Synchronize, want an error naming peak_copy_f32", err)
	}
	if err := d.Launch(f, D1(1), D1(256), 0, int64(256), x, y); err != nil {
		t.Fatalf("the launch after a refused one: %v", err)
	}
	if err := d.Synchronize(); err != nil {
		t.Fatalf("the device after a refused launch: %v", err)
	}
}
