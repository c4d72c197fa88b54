package autograd

import "github.com/lafite-go/lafite/tensor"

// AvgPool2d is torch.nn.functional.avg_pool2d (ceil_mode false): the mean of
// each kh×kw window at stride (sh, sw) over x zero-padded by (ph, pw); the
// divisor counts the padding when countIncludePad. Being linear, its gradient
// is its adjoint AvgPool2dBackward.
func AvgPool2d(x *Var, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Var {
	xs := x.Shape()
	out := tensor.AvgPool2d(x.Value, kh, kw, sh, sw, ph, pw, countIncludePad)
	return record("avg_pool2d", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{AvgPool2dBackward(g, xs, kh, kw, sh, sw, ph, pw, countIncludePad)}
	})
}

// AvgPool2dBackward is the adjoint of AvgPool2d for an input of shape inShape:
// each gy element spread evenly over its window. Its own gradient is
// AvgPool2d, so every order of differentiation works.
func AvgPool2dBackward(gy *Var, inShape []int, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Var {
	inShape = append([]int(nil), inShape...)
	out := tensor.AvgPool2dBackward(gy.Value, inShape, kh, kw, sh, sw, ph, pw, countIncludePad)
	return record("avg_pool2d_backward", out, []*Var{gy}, func(g *Var, _ []bool) []*Var {
		return []*Var{AvgPool2d(g, kh, kw, sh, sw, ph, pw, countIncludePad)}
	})
}
