package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/tensor"
)

// relErr is max|got − want| / max|want| (NaN in got: +Inf).
func relErr(got, want *tensor.Tensor) float64 {
	g, w := got.To(tensor.CPU).ToSlice(), want.ToSlice()
	if len(g) != len(w) {
		return math.Inf(1)
	}
	var scale, worst float64
	for i := range w {
		if g[i] != g[i] {
			return math.Inf(1)
		}
		scale = math.Max(scale, math.Abs(float64(w[i])))
		worst = math.Max(worst, math.Abs(float64(g[i])-float64(w[i])))
	}
	return worst / math.Max(scale, 1e-6)
}

// launchCount returns how often the emulator has launched entry.
func launchCount(dev *emu.Device, entry string) int {
	n := 0
	for _, l := range dev.Launches() {
		if strings.HasPrefix(l, entry+"=") {
			fmt.Sscanf(l, entry+"=%d", &n)
		}
	}
	return n
}

// compareDevices runs f on the host and on the emulated GPU from the same
// inputs and compares the value, the gradient of every input and the
// gradient of the gradient (d Σ_i <grad_i, v_i> / d inputs).
func compareDevices(t *testing.T, name string, r *rand.Rand, inputs []*tensor.Tensor, f func(dev tensor.Device, v []*autograd.Var) *autograd.Var) {
	t.Helper()
	const tol = 1e-4
	params := func(dev tensor.Device) []*autograd.Var {
		vs := make([]*autograd.Var, len(inputs))
		for i, h := range inputs {
			vs[i] = autograd.Param(h.To(dev))
		}
		return vs
	}
	normal := func(shape []int) *tensor.Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return tensor.New(v, shape...)
	}
	pc, pg := params(tensor.CPU), params(tensor.CUDA)
	yc, yg := f(tensor.CPU, pc), f(tensor.CUDA, pg)
	if yg.Value.Device() != tensor.CUDA {
		t.Fatalf("%s: result on %v", name, yg.Value.Device())
	}
	if e := relErr(yg.Value, yc.Value); !(e <= tol) {
		t.Fatalf("%s forward: rel err %.3g", name, e)
	}
	cot := normal(yc.Shape())
	gc := autograd.Grad([]*autograd.Var{yc}, pc, []*autograd.Var{autograd.Const(cot)}, true)
	gg := autograd.Grad([]*autograd.Var{yg}, pg, []*autograd.Var{autograd.Const(cot.To(tensor.CUDA))}, true)
	vs := make([]*tensor.Tensor, len(inputs))
	for i := range inputs {
		if e := relErr(gg[i].Value, gc[i].Value); !(e <= tol) {
			t.Fatalf("%s grad of input %d: rel err %.3g", name, i, e)
		}
		vs[i] = normal(inputs[i].Shape())
	}
	psi := func(gs []*autograd.Var, dev tensor.Device) *autograd.Var {
		var s *autograd.Var
		for i, g := range gs {
			if !g.RequiresGrad() {
				continue
			}
			term := autograd.SumAll(autograd.Mul(g, autograd.Const(vs[i].To(dev))))
			if s == nil {
				s = term
			} else {
				s = autograd.Add(s, term)
			}
		}
		return s
	}
	ggc := autograd.Grad([]*autograd.Var{psi(gc, tensor.CPU)}, pc, nil, false)
	ggg := autograd.Grad([]*autograd.Var{psi(gg, tensor.CUDA)}, pg, nil, false)
	for i := range inputs {
		if e := relErr(ggg[i].Value, ggc[i].Value); !(e <= tol) {
			t.Fatalf("%s grad of grad of input %d: rel err %.3g", name, i, e)
		}
	}
	t.Logf("%s: value, gradient and gradient of gradient agree", name)
}

// TestModulatedConv2dOnEmulatedGPUMatchesHost: the non-fused modulated conv
// on the (emulated) GPU, where up = 1 runs as one conv2d_modfwd_f32 launch,
// agrees with the host's op-by-op sequence in value, gradient and gradient
// of gradient, on random shapes and operands; up = 2 keeps the sequence on
// both.
func TestModulatedConv2dOnEmulatedGPUMatchesHost(t *testing.T) {
	dev := emu.New()
	defer tensor.UseCUDABackend(dev, dev.Props())()
	tensor.SetCUDAPoison(true)
	defer tensor.SetCUDAPoison(false)
	r := rand.New(rand.NewPCG(41, 42))
	host := tensor.NewRNG(43)
	for trial := 0; trial < 10; trial++ {
		n, in, out := 1+r.IntN(3), 2+r.IntN(5), 2+r.IntN(5) // in >= 2: with one input channel demodulation cancels the style exactly
		h, w := 2+r.IntN(5), 2+r.IntN(5)
		k := []int{1, 3}[r.IntN(2)]
		demod, flip := r.IntN(4) != 0, r.IntN(2) == 0
		pad := k / 2
		// Every kind of noise twice: none, per sample, shared, with a channel axis
		// (added after the kernel), broadcast along H (expanded for the kernel).
		noiseShape := [][]int{nil, {n, 1, h, w}, {h, w}, {n, out, h, w}, {1, 1, 1, w}}[trial%5]
		inputs := []*tensor.Tensor{host.Normal(n, in, h, w), host.Normal(out, in, k, k), host.Uniform(0.5, 1.5, n, in)}
		if noiseShape != nil {
			inputs = append(inputs, host.Normal(noiseShape...))
		}
		name := fmt.Sprintf("trial %d: x %v k %d demod %v flip %v noise %v", trial, inputs[0].Shape(), k, demod, flip, noiseShape)
		before := launchCount(dev, "conv2d_modfwd_f32")
		compareDevices(t, name, r, inputs, func(_ tensor.Device, v []*autograd.Var) *autograd.Var {
			var nz *autograd.Var
			if len(v) > 3 {
				nz = v[3]
			}
			return ModulatedConv2d(v[0], v[1], v[2], nz, Resample{Pad: [4]int{pad, pad, pad, pad}, FlipWeight: flip}, demod, false)
		})
		if launchCount(dev, "conv2d_modfwd_f32") == before {
			t.Fatalf("%s: the fused kernel was not launched", name)
		}
	}

	// The synthesis layers: noise times strength in the epilogue (random
	// noise drawn on the device with the host's numbers, and noise_const),
	// ToRGB's 1x1, and up = 2 on the op-by-op path.
	f4 := tensor.SetupFilterTaps(1, 3, 3, 1)
	for _, c := range []struct {
		name   string
		up     int
		mode   NoiseMode
		torgb  bool
		n, res int
	}{
		{"synthesis_noise_random", 1, NoiseRandom, false, 2, 5},
		{"synthesis_noise_const", 1, NoiseConst, false, 3, 4},
		{"synthesis_no_noise", 1, NoiseNone, false, 2, 4},
		{"torgb", 1, NoiseNone, true, 2, 4},
		{"synthesis_up2_sequence", 2, NoiseRandom, false, 2, 8},
	} {
		in, out := 3, 4
		l := NewSynthesisLayer(in, out, 5, c.res, 3, c.up, true, f4, 256, false, host)
		rgb := NewToRGB(in, 3, 5, 1, 256, false, host)
		xh := c.res / c.up
		inputs := []*tensor.Tensor{host.Normal(c.n, in, xh, xh), host.Uniform(0.5, 1.5, c.n, in), l.Weight.Value,
			host.Uniform(0.2, 0.5), l.Bias.Value, l.NoiseConst.Value}
		if c.torgb {
			inputs = []*tensor.Tensor{host.Normal(c.n, in, xh, xh), host.Uniform(0.5, 1.5, c.n, in), rgb.Weight.Value, rgb.Bias.Value}
		}
		filter := l.ResampleFilter.Value
		before := launchCount(dev, "conv2d_modfwd_f32")
		compareDevices(t, c.name, r, inputs, func(d tensor.Device, v []*autograd.Var) *autograd.Var {
			if c.torgb {
				rgb.Weight, rgb.Bias = v[2], v[3]
				return rgb.ForwardStyles(v[0], v[1], false)
			}
			l.Weight, l.NoiseStrength, l.Bias, l.NoiseConst = v[2], v[3], v[4], v[5]
			l.ResampleFilter = NewBuffer(filter.To(d))
			return l.ForwardStyles(v[0], v[1], c.mode, false, 1, tensor.NewRNG(99))
		})
		launched := launchCount(dev, "conv2d_modfwd_f32") > before
		if launched != (c.up == 1) {
			t.Fatalf("%s: conv2d_modfwd_f32 launched: %v, want %v", c.name, launched, c.up == 1)
		}
	}
	if fb := tensor.CUDAFallbacks(); len(fb) > 0 {
		t.Logf("host fallbacks (other ops): %v", fb)
	}
}
