package nn

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// DemodCoefficients computes StyleGAN2's demodulation d[n,o] = rsqrt(Σ_{i,k}
// (weight[o,i,k]·styles[n,i])² + 1e-8) without forming the per-sample
// weights. The forward is tensor.Demod (one fused kernel on the CPU,
// kernels/cpu/demod_ref.go; two on the GPU, modulate.cu); its gradient uses
// the same maths as differentiable ops: d = A^(-1/2) with A = (s²)(Σ_k w²)ᵀ,
// a [N,I]x[I,O] product, so every order of gradient exists.
func DemodCoefficients(weight, styles *autograd.Var) *autograd.Var {
	var d *autograd.Var
	d = autograd.Record("demod", tensor.Demod(weight.Value, styles.Value, 1e-8), []*autograd.Var{weight, styles},
		func(g *autograd.Var, needs []bool) []*autograd.Var {
			// dA = −½ g d³; dS = 2s ⊙ (dA · wsq); dW = 2w ⊙ (dAᵀ · s²) per tap.
			// With h = g d³ the factors −½ and 2 meet as the products' alpha
			// of −1 (powers of two: exact), so neither the styles nor the
			// weight is scaled on its own.
			h := autograd.Mul(g, autograd.PowScalar(d, 3))
			var gw, gs *autograd.Var
			if needs[1] {
				wsq := autograd.Sum(autograd.Square(weight), []int{2, 3}, false) // [O,I]
				gs = autograd.Mul(styles, autograd.MatmulScaled(h, wsq, -1))
			}
			if needs[0] {
				per := autograd.MatmulScaled(autograd.Transpose(h, 0, 1), autograd.Square(styles), -1) // [O,I]
				o, i := weight.Size(0), weight.Size(1)
				gw = autograd.Mul(weight, autograd.Reshape(per, o, i, 1, 1))
			}
			return []*autograd.Var{gw, gs}
		})
	return d
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
//
// On the GPU the non-fused path without resampling (Up and Down 1, even
// non-negative padding: one plain convolution) is a single op,
// autograd.ModConv2d: one implicit-GEMM kernel with the styles applied to the
// input tile and the demodulation and the noise (when it broadcasts to
// [N,1,OH,OW]) in the epilogue. Up = 2 and the other resampling cases keep
// the op-by-op sequence; so does the CPU, whose results are unchanged.
func ModulatedConv2d(x, weight, styles, noise *autograd.Var, r Resample, demodulate, fused bool) *autograd.Var {
	return modulatedConv2d(x, weight, styles, noise, nil, r, demodulate, fused)
}

// modulatedConv2d is ModulatedConv2d with the noise split into noise and a
// one-element strength (nil: 1), added as noise·strength, so that the GPU
// kernel applies the strength itself (SynthesisLayer's noise).
func modulatedConv2d(x, weight, styles, noise, strength *autograd.Var, r Resample, demodulate, fused bool) *autograd.Var {
	const op = "nn.ModulatedConv2d"
	pad, oneConv := plainConv(r)
	gpuFused := !fused && oneConv && x.Value.Device() == tensor.CUDA
	if strength != nil && !gpuFused {
		// The op-by-op path scales the noise first, as the layers always did.
		noise, strength = autograd.Mul(noise, strength), nil
	}
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
		ns := noise.Shape()
		if strength != nil {
			if b, err := tensor.BroadcastShapes(ns, strength.Shape()); err == nil {
				ns = b
			}
		}
		if s, err := tensor.BroadcastShapes(ns, []int{n, out, oh, ow}); err != nil || !tensor.SameShape(s, []int{n, out, oh, ow}) {
			panic(fmt.Sprintf("%s: noise %v does not broadcast to the output [%d %d %d %d]", op, noise.Shape(), n, out, oh, ow))
		}
	}
	var dcoefs *autograd.Var
	if demodulate {
		dcoefs = DemodCoefficients(weight, styles)
	}
	if gpuFused {
		w := weight
		if !r.FlipWeight {
			w = autograd.Flip(w, 2, 3)
		}
		// The kernel's noise is [N or 1, 1, OH, OW] (broadcast along H or W
		// too); noise with a channel axis is added after it.
		var late *autograd.Var
		if noise != nil {
			ns := noise.Shape()
			if strength != nil {
				ns, _ = tensor.BroadcastShapes(ns, strength.Shape())
			}
			if b, err := tensor.BroadcastShapes(ns, []int{n, 1, oh, ow}); err != nil || !tensor.SameShape(b, []int{n, 1, oh, ow}) {
				late = noise
				if strength != nil {
					late = autograd.Mul(noise, strength)
				}
				noise, strength = nil, nil
			}
		}
		y := autograd.ModConv2d(x, w, styles, dcoefs, noise, strength, tensor.Conv2dParams{PadH: pad[0], PadW: pad[1]})
		if late != nil {
			y = autograd.Add(y, late)
		}
		return y
	}
	if !fused {
		// In inference (NoGrad) each intermediate goes back to the buffer
		// pool once the next is made (FreeNoGrad: no-ops with a graph).
		xs := autograd.Mul(x, autograd.Reshape(styles, n, in, 1, 1))
		y := Conv2dResample(xs, weight, r)
		autograd.FreeNoGrad(xs)
		if demodulate {
			yd := autograd.Mul(y, autograd.Reshape(dcoefs, n, out, 1, 1))
			autograd.FreeNoGrad(y)
			y = yd
		}
		if noise != nil {
			yn := autograd.Add(y, noise)
			autograd.FreeNoGrad(y)
			y = yn
		}
		return y
	}
	w := autograd.ModulatedWeights(weight, styles, dcoefs) // [N,O,I,k,k]
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

// plainConv reports whether Conv2dResample with r is one plain convolution
// (no resampling, even non-negative padding) and returns its (PadH, PadW).
func plainConv(r Resample) (pad [2]int, ok bool) {
	r = r.norm("nn.ModulatedConv2d")
	p := r.padding(identityFilter(r.Filter))
	px0, px1, py0, py1 := p[0], p[1], p[2], p[3]
	if r.Up != 1 || r.Down != 1 || r.Groups != 1 || px0 != px1 || py0 != py1 || px0 < 0 || py0 < 0 {
		return pad, false
	}
	return [2]int{py0, px0}, true
}
