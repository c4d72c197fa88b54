package autograd

import (
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

func conv(p tensor.Conv2dParams) func([]*Var) *Var {
	return func(v []*Var) *Var {
		var b *Var
		if len(v) > 2 {
			b = v[2]
		}
		return Conv2d(v[0], v[1], b, p)
	}
}

func convT(p tensor.ConvTranspose2dParams) func([]*Var) *Var {
	return func(v []*Var) *Var {
		var b *Var
		if len(v) > 2 {
			b = v[2]
		}
		return ConvTranspose2d(v[0], v[1], b, p)
	}
}

// squared makes a bilinear op non-trivially curved in each argument, so the
// second-order check exercises every cross term.
func squared(f func([]*Var) *Var) func([]*Var) *Var {
	return func(v []*Var) *Var { return Square(f(v)) }
}

func TestConv2dGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "pad1_bias", f: conv(tensor.Conv2dParams{PadH: 1, PadW: 1}), shapes: [][]int{{2, 3, 5, 4}, {4, 3, 3, 3}, {4}}, second: true},
		{name: "stride2_odd", f: conv(tensor.Conv2dParams{StrideH: 2, StrideW: 2}), shapes: [][]int{{2, 2, 7, 5}, {3, 2, 3, 3}}, second: true},
		{name: "dilation2_asym", f: conv(tensor.Conv2dParams{StrideW: 2, PadH: 2, PadW: 1, DilationH: 2, DilationW: 2}), shapes: [][]int{{1, 2, 6, 7}, {2, 2, 3, 2}, {2}}, second: true},
		{name: "groups2", f: conv(tensor.Conv2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}), shapes: [][]int{{2, 4, 5, 5}, {6, 2, 3, 3}, {6}}, second: true},
		{name: "depthwise", f: conv(tensor.Conv2dParams{PadH: 1, PadW: 1, Groups: 3}), shapes: [][]int{{2, 3, 4, 5}, {3, 1, 3, 3}}, second: true},
		{name: "1x1", f: conv(tensor.Conv2dParams{}), shapes: [][]int{{2, 3, 3, 4}, {5, 3, 1, 1}, {5}}, second: true},
		{name: "patch_stride4", f: conv(tensor.Conv2dParams{StrideH: 4, StrideW: 4}), shapes: [][]int{{2, 2, 8, 8}, {3, 2, 4, 4}}, second: true},
		{name: "squared_groups2", f: squared(conv(tensor.Conv2dParams{PadH: 1, PadW: 1, Groups: 2})), shapes: [][]int{{2, 4, 4, 3}, {2, 2, 3, 3}, {2}}, second: true},
	})
}

func TestConvTranspose2dGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "s2_bias", f: convT(tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2}), shapes: [][]int{{2, 3, 3, 4}, {3, 2, 3, 3}, {2}}, second: true},
		{name: "s2_p1_outpad1_g2", f: convT(tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1, Groups: 2}),
			shapes: [][]int{{2, 4, 3, 3}, {4, 3, 3, 3}, {6}}, second: true},
		{name: "k4_dil2_asym", f: convT(tensor.ConvTranspose2dParams{StrideH: 3, StrideW: 2, PadH: 1, OutPadH: 2, DilationW: 2}),
			shapes: [][]int{{1, 2, 3, 2}, {2, 2, 4, 3}}, second: true},
		{name: "squared", f: squared(convT(tensor.ConvTranspose2dParams{StrideH: 2, StrideW: 2, OutPadW: 1})), shapes: [][]int{{1, 2, 3, 3}, {2, 2, 3, 3}, {2}}, second: true},
	})
}

// The gradient ops are differentiable ops in their own right; checking their
// second order checks the convolution's third order.
func TestConvGradientOpsGradients(t *testing.T) {
	p := tensor.Conv2dParams{StrideH: 2, PadH: 1, PadW: 1, Groups: 2}
	xShape, wShape := []int{2, 4, 5, 4}, []int{4, 2, 3, 3}
	gyShape := []int{2, 4, 3, 4}
	runGradCases(t, []gradCase{
		{name: "input_grad", f: squared(func(v []*Var) *Var { return Conv2dInputGrad(v[0], v[1], xShape, p) }),
			shapes: [][]int{gyShape, wShape}, second: true},
		{name: "weight_grad", f: squared(func(v []*Var) *Var { return Conv2dWeightGrad(v[0], v[1], wShape, p) }),
			shapes: [][]int{xShape, gyShape}, second: true},
	})
}

func TestAvgPool2dGradients(t *testing.T) {
	pool := func(kh, kw, sh, sw, ph, pw int, incl bool) func([]*Var) *Var {
		return func(v []*Var) *Var { return Square(AvgPool2d(v[0], kh, kw, sh, sw, ph, pw, incl)) }
	}
	x := [][]int{{2, 2, 6, 7}}
	runGradCases(t, []gradCase{
		{name: "k2s2", f: pool(2, 2, 2, 2, 0, 0, true), shapes: x, second: true},
		{name: "k3s2p1_incl", f: pool(3, 3, 2, 2, 1, 1, true), shapes: x, second: true},
		{name: "k3s2p1_excl", f: pool(3, 3, 2, 2, 1, 1, false), shapes: x, second: true},
		{name: "k3x2_s1x2_p1x1_excl", f: pool(3, 2, 1, 2, 1, 1, false), shapes: x, second: true},
		{name: "backward_op", f: func(v []*Var) *Var {
			return Square(AvgPool2dBackward(v[0], []int{2, 2, 6, 7}, 3, 3, 2, 2, 1, 1, false))
		}, shapes: [][]int{{2, 2, 3, 4}}, second: true},
	})
}

// Third order through the op cycle conv → input-grad → conv: the gradient of
// a second-order gradient must be a recorded, differentiable Var.
func TestConvThirdOrderIsRecorded(t *testing.T) {
	rng := tensor.NewRNG(3)
	x, w := Param(rng.Normal(1, 2, 4, 4)), Param(rng.Normal(2, 2, 3, 3))
	p := tensor.Conv2dParams{PadH: 1, PadW: 1}
	y := SumAll(Square(Conv2d(x, w, nil, p)))
	g1 := Grad([]*Var{y}, []*Var{x}, nil, true)[0]
	g2 := Grad([]*Var{SumAll(Square(g1))}, []*Var{w}, nil, true)[0]
	if !g2.RequiresGrad() {
		t.Fatal("second-order gradient is not recorded")
	}
	g3 := Grad([]*Var{SumAll(Square(g2))}, []*Var{x, w}, nil, false)
	for i, g := range g3 {
		var s float64
		for _, v := range g.Value.ToSlice() {
			s += float64(v * v)
		}
		if s == 0 {
			t.Fatalf("third-order gradient %d is identically zero", i)
		}
	}
}
