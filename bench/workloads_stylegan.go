package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// The convolution and StyleGAN2 workloads go through the engine's public ops
// (tensor for forward-only work, autograd for fwdbwd), as a model would; their
// correctness is the ops' own tests' business, so Setup only checks shapes.
// Each runs on the CPU and, with its inputs there, on the GPU.

// both registers a workload on the CPU and the GPU.
func both(name string, f setupFunc) {
	Register(Workload{Name: name, Setup: onCPU(f), GPU: onGPU(f)})
}

func init() {
	both("conv3x3_n4_c512_16", convSetup(4, 512, 16, false))
	both("conv3x3_n4_c256_64_fwdbwd", convSetup(4, 256, 64, true))
	both("modconv_n4_c512_32_fwdbwd", modconvSetup(4, 512, 32, 1, true))
	both("modconv_up2_n4_c512_32", modconvSetup(4, 512, 32, 2, false))
	// The GPU's modulated-conv target (N = 16 as in a training batch); 232
	// GFLOP per call is too slow to be a useful CPU benchmark.
	Register(Workload{Name: "modconv_n16_c512_32_fwdbwd", GPU: onGPU(modconvSetup(16, 512, 32, 1, true))})
	both("upsample2d_n4_c512_32", upsampleSetup(4, 512, 32))
	both("bias_lrelu_n4_c512_64_fwdbwd", biasLreluSetup(4, 512, 64))
}

// fwdbwd returns a run that evaluates f on params, then backpropagates the
// sum of its output to every param, releasing the gradients and the forward
// values afterwards so their buffers go back to the pool as a training
// step's do.
func fwdbwd(params []*autograd.Var, f func() *autograd.Var) func() {
	return func() {
		mark := tensor.BufferMark()
		y := f()
		// PyTorch frees its saved tensors in backward too.
		grads := autograd.GradReleasing([]*autograd.Var{autograd.Sum(y, nil, false)}, params, nil, mark)
		for _, g := range grads {
			g.Value.Release()
		}
		y.Value.Release()
	}
}

func mustShape(what string, got []int, want ...int) {
	if !slices.Equal(got, want) {
		panic(fmt.Sprintf("bench: %s has shape %v, want %v", what, got, want))
	}
}

func convSetup(n, ch, hw int, withGrad bool) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(uint64(ch*hw + n))
		ch, hw := e.size(ch, 4), e.size(hw, 4)
		x, w := e.normal(rng, n, ch, hw, hw), e.normal(rng, ch, ch, 3, 3)
		p := tensor.Conv2dParams{PadH: 1, PadW: 1}
		flops := 2 * float64(n*ch*ch*9*hw*hw)
		if !withGrad {
			y := tensor.Conv2d(x, w, nil, p)
			mustShape("conv2d output", y.Shape(), n, ch, hw, hw)
			return func() { tensor.Conv2d(x, w, nil, p).Release() }, flops, 0
		}
		xv, wv := autograd.Param(x), autograd.Param(w)
		return fwdbwd([]*autograd.Var{xv, wv}, func() *autograd.Var {
			return autograd.Conv2d(xv, wv, nil, p)
		}), 3 * flops, 0
	}
}

// modconvSetup is StyleGAN2's modulated conv, non-fused path with
// demodulation, 3x3; up=2 is the synthesis layer's transposed conv + 4x4 FIR.
func modconvSetup(n, ch, hw, up int, withGrad bool) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(uint64(ch*hw*up + n))
		ch, hw := e.size(ch, 4), e.size(hw, 4)
		x := autograd.Param(e.normal(rng, n, ch, hw, hw))
		weight := autograd.Param(e.normal(rng, ch, ch, 3, 3))
		styles := autograd.Param(e.normal(rng, n, ch))
		r := nn.Resample{Filter: tensor.SetupFilterTaps(1, 3, 3, 1).To(e.dev), Up: up, Pad: [4]int{1, 1, 1, 1}, FlipWeight: up == 1}
		f := func() *autograd.Var { return nn.ModulatedConv2d(x, weight, styles, nil, r, true, false) }
		flops := 2 * float64(n*ch*ch*9*hw*hw) // the convolution's multiply-adds
		var y *autograd.Var
		autograd.NoGrad(func() { y = f() })
		mustShape("modulated conv output", y.Shape(), n, ch, hw*up, hw*up)
		if withGrad {
			return fwdbwd([]*autograd.Var{x, weight, styles}, f), 3 * flops, 0
		}
		return func() { autograd.NoGrad(func() { f().Value.Release() }) }, flops, 0
	}
}

func upsampleSetup(n, ch, hw int) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(uint64(ch*hw + n))
		ch, hw := e.size(ch, 4), e.size(hw, 4)
		x, f := e.normal(rng, n, ch, hw, hw), tensor.SetupFilterTaps(1, 3, 3, 1).To(e.dev)
		y := tensor.Upsample2d(x, f, 2, nil, false, 1)
		mustShape("upsample2d output", y.Shape(), n, ch, 2*hw, 2*hw)
		bytes := 4 * float64(n*ch*hw*hw+n*ch*4*hw*hw) // input read + output written
		return func() { tensor.Upsample2d(x, f, 2, nil, false, 1).Release() }, 0, bytes
	}
}

func biasLreluSetup(n, ch, hw int) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(uint64(ch*hw + n))
		ch, hw := e.size(ch, 4), e.size(hw, 4)
		x, b := autograd.Param(e.normal(rng, n, ch, hw, hw)), autograd.Param(e.normal(rng, ch))
		p := tensor.BiasActParams{Act: "lrelu", Alpha: 0.2, Gain: float32(math.Sqrt2), Clamp: 256, Dim: 1}
		bytes := 4 * 4 * float64(n*ch*hw*hw) // x, y, dy, dx once each
		return fwdbwd([]*autograd.Var{x, b}, func() *autograd.Var { return autograd.BiasAct(x, b, p) }), 0, bytes
	}
}
