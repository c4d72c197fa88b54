package autograd

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

func TestSoftmaxGradients(t *testing.T) {
	x := [][]int{{3, 4, 5}}
	sm := func(dim int) func([]*Var) *Var { return un(func(x *Var) *Var { return Softmax(x, dim) }) }
	lsm := func(dim int) func([]*Var) *Var { return un(func(x *Var) *Var { return LogSoftmax(x, dim) }) }
	runGradCases(t, []gradCase{
		{name: "softmax_dim0", f: sm(0), shapes: x, second: true},
		{name: "softmax_middle", f: sm(1), shapes: x, second: true},
		{name: "softmax_last", f: sm(-1), shapes: x, second: true},
		{name: "softmax_1d", f: sm(0), shapes: [][]int{{7}}, second: true},
		{name: "log_softmax_dim0", f: lsm(0), shapes: x, second: true},
		{name: "log_softmax_middle", f: lsm(1), shapes: x, second: true},
		{name: "log_softmax_last", f: lsm(-1), shapes: x, second: true},
		// A nonlinear use of the output, so that second order is not only the
		// cotangent path.
		{name: "softmax_squared", f: un(func(x *Var) *Var { return Square(Softmax(x, 1)) }), shapes: x, second: true},
	})
}

func TestSoftmaxGradientOfLargeInputsIsFinite(t *testing.T) {
	x := Param(tensor.New([]float32{1e4, 1e4 - 1, -1e4, 3e4, 0, -3e4}, 2, 3))
	for _, f := range []func(*Var, int) *Var{Softmax, LogSoftmax} {
		y := f(x, 1)
		g := Grad([]*Var{y}, []*Var{x}, []*Var{Const(tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3))}, true)[0]
		gg := Grad([]*Var{SumAll(Square(g))}, []*Var{x}, nil, false)[0]
		for i, v := range append(g.Value.ToSlice(), gg.Value.ToSlice()...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: gradient element %d = %v", y.Op(), i, v)
			}
		}
	}
}

func TestLayerNormGradients(t *testing.T) {
	ln := func(normDims int, affine bool) func([]*Var) *Var {
		return func(xs []*Var) *Var {
			if affine {
				return LayerNorm(xs[0], xs[1], xs[2], normDims, 1e-5)
			}
			return LayerNorm(xs[0], nil, nil, normDims, 1e-5)
		}
	}
	runGradCases(t, []gradCase{
		{name: "last_affine", f: ln(1, true), shapes: [][]int{{3, 2, 7}, {7}, {7}}, second: true},
		{name: "last_plain", f: ln(1, false), shapes: [][]int{{3, 2, 7}}, second: true},
		{name: "last2_affine", f: ln(2, true), shapes: [][]int{{3, 4, 5}, {4, 5}, {4, 5}}, second: true},
		{name: "last2_plain", f: ln(2, false), shapes: [][]int{{3, 4, 5}}, second: true},
		{name: "weight_only", f: func(xs []*Var) *Var { return LayerNorm(xs[0], xs[1], nil, 1, 1e-5) },
			shapes: [][]int{{5, 6}, {6}}, second: true},
		{name: "squared", f: func(xs []*Var) *Var { return Square(LayerNorm(xs[0], xs[1], xs[2], 1, 1e-5)) },
			shapes: [][]int{{4, 6}, {6}, {6}}, second: true},
	})
}

func TestLayerNormThirdOrderMatchesComposedOps(t *testing.T) {
	// The fused op and the same maths from primitive ops must agree at every
	// order; the third derivative exercises the backward of the saved
	// statistics' own backward.
	rng := tensor.NewRNG(11)
	xt, wt, bt := rng.Normal(3, 6), rng.Normal(6), rng.Normal(6)
	composed := func(x, w, b *Var) *Var {
		mu := Mean(x, []int{1}, true)
		rs := Rsqrt(AddScalar(Variance(x, []int{1}, false, true), 1e-5))
		return Add(Mul(Mul(Sub(x, mu), rs), w), b)
	}
	fused := func(x, w, b *Var) *Var { return LayerNorm(x, w, b, 1, 1e-5) }
	third := func(f func(x, w, b *Var) *Var) []*tensor.Tensor {
		x, w, b := Param(xt), Param(wt), Param(bt)
		in := []*Var{x, w, b}
		g1 := Grad([]*Var{SumAll(Square(f(x, w, b)))}, in, nil, true)
		g2 := Grad([]*Var{SumAll(Square(Add(g1[0], Sum(g1[1], nil, false))))}, in, nil, true)
		g3 := Grad([]*Var{SumAll(Mul(g2[0], g2[0]))}, in, nil, false)
		return []*tensor.Tensor{g3[0].Value, g3[1].Value, g3[2].Value}
	}
	want, got := third(composed), third(fused)
	for i := range want {
		ws, gs := want[i].ToSlice(), got[i].ToSlice()
		for j := range ws {
			if math.Abs(float64(ws[j]-gs[j])) > 1e-3*(1+math.Abs(float64(ws[j]))) {
				t.Fatalf("third order, input %d element %d: fused %v, composed %v", i, j, gs[j], ws[j])
			}
		}
	}
}

func TestAttentionGradients(t *testing.T) {
	inf := float32(math.Inf(-1))
	causal := tensor.New([]float32{
		0, inf, inf, inf, inf,
		0, 0, inf, inf, inf,
		0, 0, 0, inf, inf,
		0, 0, 0, 0, inf,
		0, 0, 0, 0, 0,
	}, 5, 5)
	// L=3 queries over S=5 keys, each row keeping some finite entries.
	rect := tensor.New([]float32{
		0, inf, 0.5, 0, inf,
		inf, 0, 0, -1, 0,
		0.3, 0, inf, inf, 0,
	}, 3, 5)
	attn := func(mask *tensor.Tensor) func([]*Var) *Var {
		return func(xs []*Var) *Var { return ScaledDotProductAttention(xs[0], xs[1], xs[2], mask) }
	}
	runGradCases(t, []gradCase{
		{name: "causal", f: attn(causal), shapes: [][]int{{2, 5, 4}, {2, 5, 4}, {2, 5, 4}}, second: true},
		{name: "nomask_heads", f: attn(nil), shapes: [][]int{{2, 3, 5, 4}, {2, 3, 5, 4}, {2, 3, 5, 3}}, second: true},
		{name: "rect_bcast", f: attn(rect), shapes: [][]int{{2, 3, 4}, {1, 5, 4}, {5, 6}}, second: true},
	})
}

func TestAttentionMatchesNaive(t *testing.T) {
	rng := tensor.NewRNG(9)
	l, s, d, dv := 4, 6, 5, 3
	q, k, v := rng.Normal(l, d), rng.Normal(s, d), rng.Normal(s, dv)
	mask := rng.Normal(l, s)
	mask.CopyFrom(tensor.Where(tensor.Greater(mask, tensor.Scalar(1)), tensor.Scalar(float32(math.Inf(-1))), mask))
	mask.CopyFrom(tensor.Where(tensor.New([]float32{1, 0, 0, 0, 0, 0}, s), tensor.Scalar(0), mask)) // keep column 0 finite
	got := ScaledDotProductAttention(Const(q), Const(k), Const(v), mask).Value
	for i := 0; i < l; i++ {
		w := make([]float64, s)
		var sum float64
		for j := 0; j < s; j++ {
			var dot float64
			for c := 0; c < d; c++ {
				dot += float64(q.At(i, c)) * float64(k.At(j, c))
			}
			w[j] = math.Exp(dot/math.Sqrt(float64(d)) + float64(mask.At(i, j)))
			sum += w[j]
		}
		for c := 0; c < dv; c++ {
			var o float64
			for j := 0; j < s; j++ {
				o += w[j] / sum * float64(v.At(j, c))
			}
			if math.Abs(o-float64(got.At(i, c))) > 1e-5 {
				t.Fatalf("out[%d,%d] = %v, want %v", i, c, got.At(i, c), o)
			}
		}
	}
}
