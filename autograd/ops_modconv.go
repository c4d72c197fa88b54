package autograd

import "github.com/lafite-go/lafite/tensor"

// ModConv2d is the non-fused training path of StyleGAN2's modulated
// convolution as one op (tensor.ModConv2d; one kernel on the GPU):
//
//	y = conv(x·s, w)·d + noise·strength
//
// with x [N,C,H,W], w [O,C/groups,kh,kw], s [N,C] (styles, broadcast over
// x's pixels), d [N,O] (demodulation, over the output's), noise broadcastable
// to [N,1,OH,OW] and strength one element; s, d, noise and strength may each
// be nil (strength only with noise). Its gradients are differentiable ops,
// so every order exists: with gz = g·d and gxs = Conv2dInputGrad(gz, w),
// dx = gxs·s, ds = Σ_{h,w} gxs·x, dw = Conv2dWeightGrad(x·s, gz),
// dd = Σ_{h,w} g·conv(x·s, w) (the convolution is kept from the forward, as a
// node whose own gradients are those of x, s and w), dnoise = SumTo(g)·strength,
// dstrength = Σ SumTo(g)·noise.
func ModConv2d(x, w, s, d, noise, strength *Var, p tensor.Conv2dParams) *Var {
	opts := tensor.ModConv2dOptions{Params: p, KeepConv: d != nil && d.requiresGrad && GradEnabled()}
	val := func(v *Var) *tensor.Tensor {
		if v == nil {
			return nil
		}
		return v.Value
	}
	opts.InScale, opts.OutScale, opts.Noise, opts.NoiseStrength = val(s), val(d), val(noise), val(strength)
	y, conv := tensor.ModConv2d(x.Value, w.Value, opts)
	return record("mod_conv2d", y, []*Var{x, w, s, d, noise, strength}, func(g *Var, needs []bool) []*Var {
		out := make([]*Var, 6)
		gz := g
		if d != nil {
			gz = Mul(g, Reshape(d, d.Size(0), d.Size(1), 1, 1))
		}
		copy(out, modConvInBackward(gz, x, w, s, p, needs[:3]))
		if needs[3] {
			z := conv
			if z == nil { // d gained requires-grad after the forward: recompute
				z, _ = tensor.ModConv2d(x.Value, w.Value, tensor.ModConv2dOptions{Params: p, InScale: val(s)})
			}
			out[3] = Sum(Mul(g, modConvIn(x, w, s, z, p)), []int{2, 3}, false)
		}
		if needs[4] || needs[5] {
			gn := SumTo(g, noise.Shape())
			if needs[4] {
				out[4] = gn
				if strength != nil {
					out[4] = Mul(gn, Reshape(strength))
				}
			}
			if needs[5] {
				out[5] = Reshape(SumAll(Mul(gn, noise)), strength.Shape()...)
			}
		}
		return out
	})
}

// modConvIn is z = conv(x·s, w) with its value z already computed (kept by
// ModConv2d's forward), recorded so that what is built from it in a backward
// pass differentiates again.
func modConvIn(x, w, s *Var, z *tensor.Tensor, p tensor.Conv2dParams) *Var {
	return record("mod_conv2d_in", z, []*Var{x, w, s}, func(g *Var, needs []bool) []*Var {
		return modConvInBackward(g, x, w, s, p, needs)
	})
}

// modConvInBackward differentiates z = conv(x·s, w) (s nil: 1) with cotangent
// gz, for x, w and s.
func modConvInBackward(gz, x, w, s *Var, p tensor.Conv2dParams, needs []bool) []*Var {
	var gx, gw, gs, sr *Var
	if s != nil {
		sr = Reshape(s, s.Size(0), s.Size(1), 1, 1)
	}
	if needs[0] || needs[2] {
		gxs := Conv2dInputGrad(gz, w, x.Shape(), p)
		if needs[0] {
			gx = gxs
			if s != nil {
				gx = Mul(gxs, sr)
			}
		}
		if needs[2] {
			gs = Sum(Mul(gxs, x), []int{2, 3}, false)
		}
	}
	if needs[1] {
		xs := x
		if s != nil {
			xs = Mul(x, sr)
		}
		gw = Conv2dWeightGrad(xs, gz, w.Shape(), p)
	}
	return []*Var{gx, gw, gs}
}

// ModulatedWeights is tensor.ModulatedWeights: the per-sample weights
// w·s·d [N,O,I,kh,kw] of the fused modulated convolution, for w [O,I,kh,kw],
// s [N,I] and d [N,O] (nil: none). Its gradients are broadcast products
// summed back to each operand's shape, differentiable ops all.
func ModulatedWeights(w, s, d *Var) *Var {
	var dv *tensor.Tensor
	if d != nil {
		dv = d.Value
	}
	y := tensor.ModulatedWeights(w.Value, s.Value, dv)
	return record("modulated_weights", y, []*Var{w, s, d}, func(g *Var, needs []bool) []*Var {
		n, o, in := s.Size(0), w.Size(0), w.Size(1)
		wb := Unsqueeze(w, 0)            // [1,O,I,kh,kw]
		sb := Reshape(s, n, 1, in, 1, 1) // [N,1,I,1,1]
		gd := g                          // g·d, what w and s see
		if d != nil {
			gd = Mul(g, Reshape(d, n, o, 1, 1, 1))
		}
		out := make([]*Var, 3)
		if needs[0] {
			out[0] = Sum(Mul(gd, sb), []int{0}, false)
		}
		if needs[1] {
			out[1] = Sum(Mul(gd, wb), []int{1, 3, 4}, false)
		}
		if needs[2] {
			out[2] = Sum(Mul(Mul(g, sb), wb), []int{2, 3, 4}, false)
		}
		return out
	})
}
