package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func expectPanic(t *testing.T, mention string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one mentioning %q", mention)
		}
		if msg, _ := r.(string); !strings.Contains(msg, mention) {
			t.Fatalf("panic %q does not mention %q", r, mention)
		}
	}()
	f()
}

func names(m Module) string {
	var s []string
	for _, n := range AllParams(m) {
		s = append(s, n.Name)
	}
	return strings.Join(s, ",")
}

func checkGrads(t *testing.T, f func([]*autograd.Var) *autograd.Var, inputs []*tensor.Tensor) {
	t.Helper()
	if err := autograd.CheckGrad(f, inputs, autograd.CheckOptions{}); err != nil {
		t.Fatalf("first order: %v", err)
	}
	if err := autograd.CheckGradGrad(f, inputs, autograd.CheckOptions{}); err != nil {
		t.Fatalf("second order: %v", err)
	}
}

func TestLinearForwardMatchesNaive(t *testing.T) {
	rng := tensor.NewRNG(1)
	l := NewLinear(5, 3, true, rng)
	x := rng.Normal(2, 4, 5).Transpose(0, 1) // [4, 2, 5], not contiguous
	y := l.Forward(autograd.Const(x)).Value
	if !tensor.SameShape(y.Shape(), []int{4, 2, 3}) {
		t.Fatalf("shape %v, want [4 2 3]", y.Shape())
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 2; j++ {
			for o := 0; o < 3; o++ {
				want := float64(l.Bias.Value.At(o))
				for c := 0; c < 5; c++ {
					want += float64(x.At(i, j, c)) * float64(l.Weight.Value.At(o, c))
				}
				if math.Abs(want-float64(y.At(i, j, o))) > 1e-6 {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", i, j, o, y.At(i, j, o), want)
				}
			}
		}
	}
	// A 1-D input maps to a 1-D output.
	if s := l.Forward(autograd.Const(tensor.Ones(5))).Shape(); !tensor.SameShape(s, []int{3}) {
		t.Fatalf("1-D input gave shape %v", s)
	}
}

func TestLinearGradients(t *testing.T) {
	rng := tensor.NewRNG(2)
	withBias := func(xs []*autograd.Var) *autograd.Var {
		return (&Linear{Weight: xs[1], Bias: xs[2]}).Forward(xs[0])
	}
	checkGrads(t, withBias, []*tensor.Tensor{rng.Normal(3, 2, 5), rng.Normal(4, 5), rng.Normal(4)})
	squaredNoBias := func(xs []*autograd.Var) *autograd.Var {
		return autograd.Square((&Linear{Weight: xs[1]}).Forward(xs[0]))
	}
	checkGrads(t, squaredNoBias, []*tensor.Tensor{rng.Normal(3, 5), rng.Normal(2, 5)})
}

// Both kinds of layer hand the optimizer weight gradients laid out as their
// weights (no copy of a transposed view in Adam).
func TestWeightGradientsAreContiguous(t *testing.T) {
	rng := tensor.NewRNG(3)
	lin := NewLinear(5, 4, true, rng)
	fc := NewFullyConnected(5, 4, true, "lrelu", 0.01, 0, rng)
	x := autograd.Const(rng.Normal(2, 3, 5))
	loss := autograd.Add(autograd.SumAll(autograd.Square(lin.Forward(x))),
		autograd.SumAll(autograd.Square(fc.Forward(autograd.Reshape(x, 6, 5)))))
	for i, g := range autograd.Grad([]*autograd.Var{loss}, []*autograd.Var{lin.Weight, fc.Weight}, nil, false) {
		if !g.Value.IsContiguous() {
			t.Errorf("weight %d: gradient strides %v, not contiguous", i, g.Value.Strides())
		}
	}
}

func TestLinearInitAndNames(t *testing.T) {
	in := 50
	l := NewLinear(in, 40, true, tensor.NewRNG(3))
	bound := 1 / math.Sqrt(float64(in))
	for _, p := range []*autograd.Var{l.Weight, l.Bias} {
		if !p.RequiresGrad() {
			t.Fatal("parameter does not require grad")
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range p.Value.ToSlice() {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
		// U(-bound, bound): inside the range and spread over most of it.
		if lo < -bound || hi > bound || lo > -0.8*bound || hi < 0.8*bound {
			t.Fatalf("values in [%v, %v], want spread over U(-%v, %v)", lo, hi, bound, bound)
		}
	}
	if got := names(l); got != "weight,bias" {
		t.Fatalf("names %q", got)
	}
	if got := names(NewLinear(2, 3, false, tensor.NewRNG(1))); got != "weight" {
		t.Fatalf("names without bias %q", got)
	}
	expectPanic(t, "want [..., 50]", func() { l.Forward(autograd.Const(tensor.Ones(2, 49))) })
}

func TestLayerNormModule(t *testing.T) {
	m := NewLayerNorm(3, 4)
	if got := names(m); got != "weight,bias" || m.Eps != 1e-5 {
		t.Fatalf("names %q eps %v", got, m.Eps)
	}
	rng := tensor.NewRNG(4)
	m.Weight.Value.CopyFrom(rng.Normal(3, 4))
	m.Bias.Value.CopyFrom(rng.Normal(3, 4))
	x := rng.Normal(2, 3, 4)
	want, _, _ := tensor.LayerNorm(x, m.Weight.Value, m.Bias.Value, 2, 1e-5)
	got := m.Forward(autograd.Const(x)).Value.ToSlice()
	for i, w := range want.ToSlice() {
		if got[i] != w {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], w)
		}
	}
	expectPanic(t, "does not end with", func() { m.Forward(autograd.Const(tensor.Ones(2, 4, 3))) })
	m.Weight, m.Bias = nil, nil
	if got := names(m); got != "" {
		t.Fatalf("names without affine %q", got)
	}
	m.Forward(autograd.Const(x))
}
