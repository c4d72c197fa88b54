package autograd

import (
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

// modConv builds ModConv2d from the case's inputs: x and w first, then the
// optional operands named by has ("s", "d", "noise", "strength") in that order.
func modConv(p tensor.Conv2dParams, has ...string) func([]*Var) *Var {
	return func(v []*Var) *Var {
		ops := map[string]*Var{}
		for i, h := range has {
			ops[h] = v[2+i]
		}
		return ModConv2d(v[0], v[1], ops["s"], ops["d"], ops["noise"], ops["strength"], p)
	}
}

// TestModConv2dGradients checks the fused modulated convolution's gradients
// (first and second order) by finite differences for every operand, with the
// optional ones present and absent. The op is multilinear, so the second
// order checks its cross terms, among them the kept convolution's own
// gradients inside dd; the squared cases add curvature in each operand.
func TestModConv2dGradients(t *testing.T) {
	pad1 := tensor.Conv2dParams{PadH: 1, PadW: 1}
	g2 := tensor.Conv2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}
	runGradCases(t, []gradCase{
		{name: "styles_demod_noise", f: modConv(pad1, "s", "d", "noise", "strength"),
			shapes: [][]int{{2, 3, 4, 5}, {4, 3, 3, 3}, {2, 3}, {2, 4}, {2, 1, 4, 5}, {}}, second: true},
		{name: "shared_noise_groups_stride", f: modConv(g2, "s", "d", "noise", "strength"),
			shapes: [][]int{{2, 4, 5, 5}, {4, 2, 3, 3}, {2, 4}, {2, 4}, {3, 3}, {1}}, second: true},
		{name: "styles_only_1x1", f: modConv(tensor.Conv2dParams{}, "s"),
			shapes: [][]int{{2, 3, 3, 3}, {2, 3, 1, 1}, {2, 3}}, second: true},
		{name: "demod_noise_no_styles", f: modConv(pad1, "d", "noise"),
			shapes: [][]int{{1, 2, 4, 4}, {3, 2, 3, 3}, {1, 3}, {1, 1, 4, 4}}, second: true},
		{name: "squared_styles_demod", f: squared(modConv(pad1, "s", "d")),
			shapes: [][]int{{2, 2, 3, 4}, {3, 2, 3, 3}, {2, 2}, {2, 3}}, second: true},
		{name: "squared_noise", f: squared(modConv(tensor.Conv2dParams{}, "noise", "strength")),
			shapes: [][]int{{2, 2, 3, 3}, {2, 2, 1, 1}, {3, 3}, {1}}, second: true},
	})
}

// TestModConv2dMatchesComposedOps compares the op's value, gradient and
// gradient of gradient with those of the op-by-op composition
// conv(x·s, w)·d + noise·strength, which the other tests already check.
func TestModConv2dMatchesComposedOps(t *testing.T) {
	p := tensor.Conv2dParams{PadH: 1, PadW: 1}
	shapes := [][]int{{2, 2, 3, 4}, {3, 2, 3, 3}, {2, 2}, {2, 3}, {2, 1, 3, 4}, {}}
	composed := func(v []*Var) *Var {
		x := Mul(v[0], Reshape(v[2], 2, 2, 1, 1))
		y := Mul(Conv2d(x, v[1], nil, p), Reshape(v[3], 2, 3, 1, 1))
		return Square(Add(y, Mul(v[4], v[5])))
	}
	fused := squared(modConv(p, "s", "d", "noise", "strength"))
	ins := makeInputs(gradCase{shapes: shapes}, 3)
	run := func(f func([]*Var) *Var) (y *Var, g1, g2 []*Var) {
		ps := make([]*Var, len(ins))
		for i, t := range ins {
			ps[i] = Param(t)
		}
		y = f(ps)
		g1 = Grad([]*Var{y}, ps, []*Var{Const(tensor.NewRNG(4).Normal(y.Shape()...))}, true)
		var s *Var
		vr := tensor.NewRNG(5)
		for _, g := range g1 {
			term := SumAll(Mul(g, Const(vr.Normal(g.Shape()...))))
			if s == nil {
				s = term
			} else {
				s = Add(s, term)
			}
		}
		return y, g1, Grad([]*Var{s}, ps, nil, false)
	}
	yc, gc, ggc := run(composed)
	yf, gf, ggf := run(fused)
	close := func(what string, got, want *tensor.Tensor) {
		t.Helper()
		g, w := got.ToSlice(), want.ToSlice()
		scale := 0.0
		for _, v := range w {
			scale = max(scale, float64(v), -float64(v))
		}
		for i := range w {
			if d := float64(g[i] - w[i]); d > 1e-5*scale || d < -1e-5*scale {
				t.Fatalf("%s[%d] = %v, composed %v", what, i, g[i], w[i])
			}
		}
	}
	close("y", yf.Value, yc.Value)
	for i := range ins {
		close("grad", gf[i].Value, gc[i].Value)
		close("grad2", ggf[i].Value, ggc[i].Value)
	}
}

// TestModulatedWeightsGradients checks the fused path's per-sample weights
// by finite differences, first and second order, with and without the
// demodulation; squared for curvature in each operand.
func TestModulatedWeightsGradients(t *testing.T) {
	withD := func(v []*Var) *Var { return ModulatedWeights(v[0], v[1], v[2]) }
	noD := func(v []*Var) *Var { return ModulatedWeights(v[0], v[1], nil) }
	runGradCases(t, []gradCase{
		{name: "styles_demod", f: withD, shapes: [][]int{{3, 2, 3, 3}, {2, 2}, {2, 3}}, second: true},
		{name: "styles_only", f: noD, shapes: [][]int{{3, 4, 1, 1}, {2, 4}}, second: true},
		{name: "squared", f: squared(withD), shapes: [][]int{{2, 3, 2, 2}, {3, 3}, {3, 2}}, second: true},
	})
}

// ModulatedWeights is w[o,i,k]·s[n,i]·d[n,o] at [n,o,i,k], rounded as the
// reference's two broadcast products, bit for bit, with and without d.
func TestModulatedWeightsIsTheBroadcastProducts(t *testing.T) {
	rng := tensor.NewRNG(9)
	w, s, d := rng.Normal(4, 3, 3, 3), rng.Normal(2, 3), rng.Normal(2, 4)
	for _, demod := range []bool{true, false} {
		var dt *tensor.Tensor
		if demod {
			dt = d
		}
		got := tensor.ModulatedWeights(w, s, dt)
		if !tensor.SameShape(got.Shape(), []int{2, 4, 3, 3, 3}) {
			t.Fatalf("shape %v", got.Shape())
		}
		for n := 0; n < 2; n++ {
			for o := 0; o < 4; o++ {
				for i := 0; i < 3; i++ {
					for k := 0; k < 9; k++ {
						want := w.At(o, i, k/3, k%3) * s.At(n, i)
						if demod {
							want *= d.At(n, o)
						}
						if g := got.At(n, o, i, k/3, k%3); g != want {
							t.Fatalf("demod %v: [%d,%d,%d,%d] = %v, want %v", demod, n, o, i, k, g, want)
						}
					}
				}
			}
		}
	}
}
