package nn

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// DemodCoefficients computes StyleGAN2's demodulation d[n,o] = rsqrt(Σ_{i,k}
// (weight[o,i,k]·styles[n,i])² + 1e-8) without forming the per-sample
// weights: Σ_i styles[n,i]² · Σ_k weight[o,i,k]² is one [N,I]x[I,O] product
// (cpu.Gemm, kernels/cpu/gemm_ref.go).
func DemodCoefficients(weight, styles *autograd.Var) *autograd.Var {
	wsq := autograd.Sum(autograd.Square(weight), []int{2, 3}, false) // [O,I]
	ssq := autograd.Square(styles)                                   // [N,I]
	return autograd.Rsqrt(autograd.AddScalar(autograd.Matmul(ssq, autograd.Transpose(wsq, 0, 1)), 1e-8))
}

// ModulatedConv2d is StyleGAN2's modulated convolution: the weight [O,I,k,k]
// is scaled per sample by styles [N,I] on its input channels, optionally
// demodulated (each output filter renormalised to unit norm), then applied
// to x [N,I,H,W], and noise (broadcastable to the output) added.
// Non-fused (training): y = conv(x·s, weight)·d + noise. Fused (inference):
// grouped conv with per-sample weights weight·s·d. Resampling (up=2) goes
// through Conv2dResample with r's filter and padding (r.Groups must be 0 or
// 1); the kernels are those of Conv2dResample (kernels/cpu/conv_ref.go,
// kernels/cpu/upfirdn2d_ref.go) and DemodCoefficients' GEMM.
func ModulatedConv2d(x, weight, styles, noise *autograd.Var, r Resample, demodulate, fused bool) *autograd.Var {
	const op = "nn.ModulatedConv2d"
	if x.Dim() != 4 || weight.Dim() != 4 || styles.Dim() != 2 {
		panic(fmt.Sprintf("%s: want x [N,I,H,W], weight [O,I,k,k], styles [N,I]; got %v, %v, %v", op, x.Shape(), weight.Shape(), styles.Shape()))
	}
	n, in := x.Size(0), x.Size(1)
	out, kh, kw := weight.Size(0), weight.Size(2), weight.Size(3)
	if weight.Size(1) != in || styles.Size(0) != n || styles.Size(1) != in {
		panic(fmt.Sprintf("%s: channels differ: x %v, weight %v, styles %v", op, x.Shape(), weight.Shape(), styles.Shape()))
	}
	if r.Groups > 1 {
		panic(fmt.Sprintf("%s: Resample.Groups = %d must be 0 or 1 (the fused path groups by sample itself)", op, r.Groups))
	}
	oh, ow := r.OutSize(x.Size(2), x.Size(3), kh, kw)
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("%s: output size %dx%d < 1: x %v is too small for weight %v with Up %d, Down %d and Pad %v",
			op, oh, ow, x.Shape(), weight.Shape(), r.Up, r.Down, r.Pad))
	}
	if noise != nil {
		if s, err := tensor.BroadcastShapes(noise.Shape(), []int{n, out, oh, ow}); err != nil || !tensor.SameShape(s, []int{n, out, oh, ow}) {
			panic(fmt.Sprintf("%s: noise %v does not broadcast to the output [%d %d %d %d]", op, noise.Shape(), n, out, oh, ow))
		}
	}
	var dcoefs *autograd.Var
	if demodulate {
		dcoefs = DemodCoefficients(weight, styles)
	}
	if !fused {
		x = autograd.Mul(x, autograd.Reshape(styles, n, in, 1, 1))
		x = Conv2dResample(x, weight, r)
		if demodulate {
			x = autograd.Mul(x, autograd.Reshape(dcoefs, n, out, 1, 1))
		}
		if noise != nil {
			x = autograd.Add(x, noise)
		}
		return x
	}
	w := autograd.Mul(autograd.Unsqueeze(weight, 0), autograd.Reshape(styles, n, 1, in, 1, 1)) // [N,O,I,k,k]
	if demodulate {
		w = autograd.Mul(w, autograd.Reshape(dcoefs, n, out, 1, 1, 1))
	}
	xs := x.Shape()
	x = autograd.Reshape(x, 1, n*in, xs[2], xs[3])
	w = autograd.Reshape(w, n*out, in, kh, kw)
	r.Groups = n
	x = Conv2dResample(x, w, r)
	ys := x.Shape()
	x = autograd.Reshape(x, n, out, ys[2], ys[3])
	if noise != nil {
		x = autograd.Add(x, noise)
	}
	return x
}
