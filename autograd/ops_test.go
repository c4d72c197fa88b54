package autograd

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

type gradCase struct {
	name   string
	f      func(xs []*Var) *Var
	shapes [][]int
	// positive keeps inputs in (0.5, 2) (for log, sqrt, pow); away from 0 for
	// kinks, else N(0,1).
	positive, awayFromZero bool
	second                 bool
}

func makeInputs(c gradCase, seed uint64) []*tensor.Tensor {
	rng := tensor.NewRNG(seed)
	var xs []*tensor.Tensor
	for _, s := range c.shapes {
		switch {
		case c.positive:
			xs = append(xs, rng.Uniform(0.5, 2, s...))
		case c.awayFromZero:
			x := rng.Normal(s...)
			xs = append(xs, tensor.MapFunc(x, func(v float32) float32 {
				if v >= 0 {
					return v + 0.2
				}
				return v - 0.2
			}))
		default:
			xs = append(xs, rng.Normal(s...))
		}
	}
	return xs
}

func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xs := makeInputs(c, 7)
			if err := CheckGrad(c.f, xs, CheckOptions{}); err != nil {
				t.Fatalf("first order: %v", err)
			}
			if c.second {
				if err := CheckGradGrad(c.f, xs, CheckOptions{}); err != nil {
					t.Fatalf("second order: %v", err)
				}
			}
		})
	}
}

// expectPanic runs f and fails unless it panics with a message containing want.
func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %v does not mention %q", r, want)
		}
	}()
	f()
}

func un(f func(*Var) *Var) func([]*Var) *Var { return func(x []*Var) *Var { return f(x[0]) } }
func bin(f func(a, b *Var) *Var) func([]*Var) *Var {
	return func(x []*Var) *Var { return f(x[0], x[1]) }
}

func TestArithmeticGradients(t *testing.T) {
	bc := [][]int{{3, 1, 4}, {2, 4}}
	runGradCases(t, []gradCase{
		{name: "add_bcast", f: bin(Add), shapes: bc, second: true},
		{name: "sub_bcast", f: bin(Sub), shapes: bc, second: true},
		{name: "mul_bcast", f: bin(Mul), shapes: bc, second: true},
		{name: "div_bcast", f: bin(Div), shapes: bc, positive: true, second: true},
		{name: "pow", f: bin(Pow), shapes: [][]int{{3, 4}, {4}}, positive: true, second: true},
		{name: "neg", f: un(Neg), shapes: [][]int{{5}}, second: true},
		{name: "square", f: un(Square), shapes: [][]int{{5}}, second: true},
		{name: "sqrt", f: un(Sqrt), shapes: [][]int{{5}}, positive: true, second: true},
		{name: "rsqrt", f: un(Rsqrt), shapes: [][]int{{5}}, positive: true, second: true},
		{name: "exp", f: un(Exp), shapes: [][]int{{5}}, second: true},
		{name: "log", f: un(Log), shapes: [][]int{{5}}, positive: true, second: true},
		{name: "recip", f: un(Recip), shapes: [][]int{{5}}, positive: true, second: true},
		{name: "abs", f: un(Abs), shapes: [][]int{{6}}, awayFromZero: true, second: true},
		{name: "pow_scalar", f: un(func(x *Var) *Var { return PowScalar(x, 2.5) }), shapes: [][]int{{5}}, positive: true, second: true},
		{name: "scalars", f: un(func(x *Var) *Var { return RsubScalar(MulScalar(AddScalar(x, 1), 3), 2) }), shapes: [][]int{{5}}, second: true},
		{name: "maximum", f: bin(Maximum), shapes: [][]int{{4, 3}, {3}}, second: true},
		{name: "minimum", f: bin(Minimum), shapes: [][]int{{4, 3}, {3}}, second: true},
		{name: "clamp", f: un(func(x *Var) *Var { return Clamp(x, -0.5, 0.7) }), shapes: [][]int{{20}}, second: true},
		{name: "where", f: bin(func(a, b *Var) *Var {
			return Where(tensor.Greater(a.Value, tensor.Scalar(0)), Mul(a, b), Square(b))
		}), shapes: [][]int{{3, 4}, {4}}, awayFromZero: true, second: true},
		// Sign is a constant: the product's gradient must be sign(x)·2x alone.
		{name: "sign_times_square", f: un(func(x *Var) *Var { return Mul(Sign(x), Square(x)) }), shapes: [][]int{{6}}, awayFromZero: true, second: true},
		{name: "nan_to_num_finite", f: un(func(x *Var) *Var { return Square(NanToNum(x, 0, 1e4, -1e4)) }), shapes: [][]int{{3, 4}}, second: true},
	})
}

// TestNanToNumGradientMasksNonFinite checks what finite differences cannot:
// no gradient reaches the replaced elements.
func TestNanToNumGradientMasksNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := Param(tensor.New([]float32{1, nan, -inf, 2, inf}, 5))
	y := NanToNum(x, 0, 7, -7)
	if got, want := y.Value.ToSlice(), []float32{1, 0, -7, 2, 7}; !slices.Equal(got, want) {
		t.Fatalf("nan_to_num = %v, want %v", got, want)
	}
	g := Grad([]*Var{y}, []*Var{x}, []*Var{Const(tensor.New([]float32{3, 3, 3, 3, 3}, 5))}, false)[0]
	if got, want := g.Value.ToSlice(), []float32{3, 0, 0, 3, 0}; !slices.Equal(got, want) {
		t.Fatalf("gradient %v, want %v", got, want)
	}
}

func TestActivationGradients(t *testing.T) {
	s := [][]int{{4, 6}}
	runGradCases(t, []gradCase{
		{name: "relu", f: un(Relu), shapes: s, awayFromZero: true, second: true},
		{name: "leaky_relu", f: un(func(x *Var) *Var { return LeakyRelu(x, 0.2) }), shapes: s, awayFromZero: true, second: true},
		{name: "sigmoid", f: un(Sigmoid), shapes: s, second: true},
		{name: "tanh", f: un(Tanh), shapes: s, second: true},
		{name: "softplus", f: un(Softplus), shapes: s, second: true},
		{name: "erf", f: un(Erf), shapes: s, second: true},
		{name: "gelu", f: un(Gelu), shapes: s, second: true},
		{name: "gelu_tanh", f: un(GeluTanh), shapes: s, second: true},
		{name: "quick_gelu", f: un(QuickGelu), shapes: s, second: true},
	})
}

func TestReductionAndShapeGradients(t *testing.T) {
	x := [][]int{{3, 4, 5}}
	runGradCases(t, []gradCase{
		{name: "sum_dims", f: un(func(x *Var) *Var { return Sum(x, []int{0, 2}, false) }), shapes: x, second: true},
		{name: "sum_keep", f: un(func(x *Var) *Var { return Square(Sum(x, []int{1}, true)) }), shapes: x, second: true},
		{name: "mean", f: un(func(x *Var) *Var { return Square(Mean(x, []int{-1}, false)) }), shapes: x, second: true},
		{name: "max", f: un(func(x *Var) *Var { return Max(x, []int{1}, false) }), shapes: x},
		{name: "variance", f: un(func(x *Var) *Var { return Variance(x, []int{0, 1}, true, false) }), shapes: x, second: true},
		{name: "reshape_permute", f: un(func(x *Var) *Var {
			return Square(Reshape(Permute(x, 2, 0, 1), 5, 12))
		}), shapes: x, second: true},
		{name: "slice_step", f: un(func(x *Var) *Var { return Square(Slice(x, 2, 1, 5, 2)) }), shapes: x, second: true},
		{name: "select_unsqueeze", f: un(func(x *Var) *Var { return Square(Unsqueeze(Select(x, 1, -1), 0)) }), shapes: x, second: true},
		{name: "expand", f: un(func(x *Var) *Var { return Square(Expand(Slice(x, 0, 0, 1, 1), 4, -1, -1)) }), shapes: x, second: true},
		{name: "transpose_contig", f: un(func(x *Var) *Var { return Square(Contiguous(Transpose(x, 0, 2))) }), shapes: x, second: true},
		{name: "sum_all", f: un(func(x *Var) *Var { return Square(SumAll(x)) }), shapes: x, second: true},
		{name: "sum_to", f: un(func(x *Var) *Var { return Square(SumTo(x, []int{4, 1})) }), shapes: x, second: true},
		{name: "broadcast_to", f: un(func(x *Var) *Var { return Square(BroadcastTo(x, 2, 4, 3)) }), shapes: [][]int{{4, 1}}, second: true},
		{name: "flatten_narrow_squeeze", f: un(func(x *Var) *Var {
			return Square(Flatten(Narrow(Squeeze(Unsqueeze(x, 1), 1), 2, 1, 3), 0, 1))
		}), shapes: x, second: true},
	})
}

func TestMatmulGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "2d", f: bin(Matmul), shapes: [][]int{{3, 4}, {4, 5}}, second: true},
		{name: "bcast", f: bin(Matmul), shapes: [][]int{{2, 3, 4}, {4, 5}}, second: true},
		{name: "batched", f: bin(Matmul), shapes: [][]int{{2, 1, 3, 4}, {3, 4, 2}}, second: true},
		{name: "vec_mat", f: bin(Matmul), shapes: [][]int{{4}, {2, 4, 3}}, second: true},
		{name: "mat_vec", f: bin(Matmul), shapes: [][]int{{3, 4}, {4}}, second: true},
		{name: "square_of_product", f: bin(func(a, b *Var) *Var { return Square(Matmul(a, b)) }), shapes: [][]int{{3, 4}, {4, 2}}, second: true},
		{name: "scaled_2d", f: bin(func(a, b *Var) *Var { return MatmulScaled(a, b, -0.3) }), shapes: [][]int{{3, 4}, {4, 5}}, second: true},
		{name: "scaled_bcast_vec", f: bin(func(a, b *Var) *Var { return MatmulScaled(a, b, 2.5) }), shapes: [][]int{{4}, {2, 4, 3}}, second: true},
		{name: "scaled_square_of_product", f: bin(func(a, b *Var) *Var { return Square(MatmulScaled(a, Transpose(b, 0, 1), 0.7)) }), shapes: [][]int{{3, 4}, {2, 4}}, second: true},
		{name: "linear", f: bin(func(x, w *Var) *Var { return Square(Linear(x, w, 0.6)) }), shapes: [][]int{{3, 4}, {5, 4}}, second: true},
		{name: "linear_batched", f: bin(func(x, w *Var) *Var { return Linear(x, w, -1.3) }), shapes: [][]int{{2, 3, 4}, {2, 4}}, second: true},
		{name: "linear_vector", f: bin(func(x, w *Var) *Var { return Square(Linear(x, w, 0.25)) }), shapes: [][]int{{4}, {3, 4}}, second: true},
	})
}

// Linear's weight gradient comes out laid out as the weight, so that an
// optimizer reads it in place, and equals the composed ops' gradient.
func TestLinearWeightGradientIsContiguous(t *testing.T) {
	rng := tensor.NewRNG(4)
	x, w := Param(rng.Normal(6, 5)), Param(rng.Normal(3, 5))
	g := Grad([]*Var{SumAll(Square(Linear(x, w, 0.3)))}, []*Var{x, w}, nil, false)
	if !g[1].Value.IsContiguous() {
		t.Fatalf("weight gradient is a strided view (strides %v)", g[1].Value.Strides())
	}
	want := Grad([]*Var{SumAll(Square(Matmul(x, Transpose(MulScalar(w, 0.3), 0, 1))))}, []*Var{x, w}, nil, false)
	for i := range g {
		a, b := g[i].Value.ToSlice(), want[i].Value.ToSlice()
		for j := range b {
			if d := math.Abs(float64(a[j] - b[j])); d > 1e-5*(1+math.Abs(float64(b[j]))) {
				t.Fatalf("gradient %d [%d] = %v, composed ops give %v", i, j, a[j], b[j])
			}
		}
	}
}

func TestGradAccumulationAndUnused(t *testing.T) {
	x := Param(tensor.New([]float32{1, 2, 3}, 3))
	u := Param(tensor.New([]float32{5}, 1))
	y := Add(Mul(x, x), x) // two paths to x
	gs := Grad([]*Var{y}, []*Var{x, u}, nil, false)
	want := []float32{3, 5, 7}
	for i, v := range gs[0].Value.ToSlice() {
		if v != want[i] {
			t.Fatalf("dy/dx[%d] = %v, want %v", i, v, want[i])
		}
	}
	if gs[1].Value.ToSlice()[0] != 0 {
		t.Fatalf("unused input must get zeros, got %v", gs[1].Value)
	}
	// Backward accumulates across calls.
	SumAll(y).Backward()
	SumAll(y).Backward()
	for i, v := range x.Grad.ToSlice() {
		if v != 2*want[i] {
			t.Fatalf("accumulated grad[%d] = %v, want %v", i, v, 2*want[i])
		}
	}
	if u.Grad != nil {
		t.Fatalf("unused leaf got a gradient")
	}
}

func TestNoGradRecordsNothing(t *testing.T) {
	x := Param(tensor.Ones(2))
	var y *Var
	NoGrad(func() { y = Mul(x, x) })
	if y.RequiresGrad() || !y.IsLeaf() {
		t.Fatal("op under NoGrad was recorded")
	}
	if z := Mul(x.Detach(), x.Detach()); z.RequiresGrad() {
		t.Fatal("detached inputs produced a recorded op")
	}
	g := Grad([]*Var{Square(x)}, []*Var{x}, nil, false)
	if g[0].RequiresGrad() {
		t.Fatal("Grad without createGraph returned a recorded gradient")
	}
	g2 := Grad([]*Var{Square(Square(x))}, []*Var{x}, nil, true)
	if !g2[0].RequiresGrad() {
		t.Fatal("Grad with createGraph returned a constant gradient")
	}
}

// TestRecordUserOp checks the entry point for ops defined outside the
// package: a cube whose backward is written with differentiable ops must
// pass both orders.
func TestRecordUserOp(t *testing.T) {
	cube := func(xs []*Var) *Var {
		x := xs[0]
		return Record("user_cube", tensor.Mul(x.Value, tensor.Square(x.Value)), []*Var{x}, func(g *Var, _ []bool) []*Var {
			return []*Var{Mul(g, MulScalar(Square(x), 3))}
		})
	}
	xs := []*tensor.Tensor{tensor.NewRNG(2).Normal(3, 4)}
	if err := CheckGrad(cube, xs, CheckOptions{}); err != nil {
		t.Fatalf("first order: %v", err)
	}
	if err := CheckGradGrad(cube, xs, CheckOptions{}); err != nil {
		t.Fatalf("second order: %v", err)
	}
}

func TestCheckGradCatchesWrongRule(t *testing.T) {
	bad := func(xs []*Var) *Var {
		x := xs[0]
		return record("bad_square", tensor.Square(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
			return []*Var{Mul(g, MulScalar(x, 3))} // wrong: should be 2x
		})
	}
	if err := CheckGrad(bad, []*tensor.Tensor{tensor.NewRNG(1).Normal(4)}, CheckOptions{}); err == nil {
		t.Fatal("checker accepted a wrong gradient")
	}
}
