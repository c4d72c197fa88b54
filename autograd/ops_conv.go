package autograd

import "github.com/lafite-go/lafite/tensor"

// The convolution y = conv(x, w) is bilinear, and its two partial adjoints are
// the input-gradient (transposed convolution) and the weight-gradient. The
// three ops express one bilinear form ⟨conv(x, w), gy⟩, so each one's
// gradients are the other two, and gradients of every order stay inside this
// closed set of recorded ops.

// Conv2d is torch.nn.functional.conv2d (cross-correlation) with bias b (may be
// nil): y = conv(x, w) + b. Gradients: dx = Conv2dInputGrad(g, w),
// dw = Conv2dWeightGrad(x, g), db = Σ_{n,h,w} g.
func Conv2d(x, w, b *Var, p tensor.Conv2dParams) *Var {
	var bias *tensor.Tensor
	if b != nil {
		bias = b.Value
	}
	xs, ws := x.Shape(), w.Shape()
	out := tensor.Conv2d(x.Value, w.Value, bias, p)
	return record("conv2d", out, []*Var{x, w, b}, func(g *Var, needs []bool) []*Var {
		var gx, gw, gb *Var
		if needs[0] {
			gx = Conv2dInputGrad(g, w, xs, p)
		}
		if needs[1] {
			gw = Conv2dWeightGrad(x, g, ws, p)
		}
		if needs[2] {
			gb = Sum(g, []int{0, 2, 3}, false)
		}
		return []*Var{gx, gw, gb}
	})
}

// Conv2dInputGrad is d⟨conv(x, w), gy⟩/dx for x of shape inShape (the
// transposed convolution of gy). It is bilinear in (gy, w); with cotangent c
// (shaped like x): d/dgy = conv(c, w), d/dw = Conv2dWeightGrad(c, gy).
func Conv2dInputGrad(gy, w *Var, inShape []int, p tensor.Conv2dParams) *Var {
	inShape = append([]int(nil), inShape...)
	out := tensor.Conv2dInputGrad(gy.Value, w.Value, inShape, p)
	return record("conv2d_input_grad", out, []*Var{gy, w}, func(c *Var, needs []bool) []*Var {
		return conv2dInputGradBackward(c, gy, w, p, needs)
	})
}

// conv2dInputGradBackward differentiates z = Conv2dInputGrad(gy, w) with
// cotangent c of z.
func conv2dInputGradBackward(c, gy, w *Var, p tensor.Conv2dParams, needs []bool) []*Var {
	var ggy, gw *Var
	if needs[0] {
		ggy = Conv2d(c, w, nil, p)
	}
	if needs[1] {
		gw = Conv2dWeightGrad(c, gy, w.Shape(), p)
	}
	return []*Var{ggy, gw}
}

// Conv2dWeightGrad is d⟨conv(x, w), gy⟩/dw for w of shape wShape. It is
// bilinear in (x, gy); with cotangent c (shaped like w):
// d/dx = Conv2dInputGrad(gy, c), d/dgy = conv(x, c).
func Conv2dWeightGrad(x, gy *Var, wShape []int, p tensor.Conv2dParams) *Var {
	wShape = append([]int(nil), wShape...)
	xs := x.Shape()
	out := tensor.Conv2dWeightGrad(x.Value, gy.Value, wShape, p)
	return record("conv2d_weight_grad", out, []*Var{x, gy}, func(c *Var, needs []bool) []*Var {
		var gx, ggy *Var
		if needs[0] {
			gx = Conv2dInputGrad(gy, c, xs, p)
		}
		if needs[1] {
			ggy = Conv2d(x, c, nil, p)
		}
		return []*Var{gx, ggy}
	})
}

// ConvTranspose2d is torch.nn.functional.conv_transpose2d with weight
// [Cin, Cout/groups, kh, kw] and bias b (may be nil): y =
// Conv2dInputGrad(x, w) + b for the convolution with the same stride, padding,
// dilation and groups. Gradients: dx = conv(g, w), dw = Conv2dWeightGrad(g, x),
// db = Σ_{n,h,w} g.
func ConvTranspose2d(x, w, b *Var, p tensor.ConvTranspose2dParams) *Var {
	var bias *tensor.Tensor
	if b != nil {
		bias = b.Value
	}
	cp := p.Conv2d()
	out := tensor.ConvTranspose2d(x.Value, w.Value, bias, p)
	return record("conv_transpose2d", out, []*Var{x, w, b}, func(g *Var, needs []bool) []*Var {
		gxw := conv2dInputGradBackward(g, x, w, cp, needs[:2])
		var gb *Var
		if needs[2] {
			gb = Sum(g, []int{0, 2, 3}, false)
		}
		return []*Var{gxw[0], gxw[1], gb}
	})
}
