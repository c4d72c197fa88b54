package tensor

import (
	"math"
	"testing"
)

// elementwiseInputs spans signs, magnitudes and the special points of the
// activations (0, the softplus threshold 20, large negatives).
var elementwiseInputs = []float32{-25, -3.5, -1, -0.3, 0, 0.25, 0.5, 1, 2.75, 19.5, 21}

func nearValue(got float32, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	if math.IsInf(want, 0) {
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= 1e-6*math.Abs(want)+1e-7
}

// TestUnaryOpsMatchTheirDefinitions checks every unary op, in every memory
// layout, against its definition written independently in float64.
func TestUnaryOpsMatchTheirDefinitions(t *testing.T) {
	phi := func(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	ops := []struct {
		name     string
		f        func(*Tensor) *Tensor
		want     func(float64) float64
		positive bool // defined for x > 0 only
	}{
		{"Neg", Neg, func(x float64) float64 { return -x }, false},
		{"Exp", Exp, math.Exp, false},
		{"Log", Log, math.Log, true},
		{"Sqrt", Sqrt, math.Sqrt, true},
		{"Rsqrt", Rsqrt, func(x float64) float64 { return math.Pow(x, -0.5) }, true},
		{"Abs", Abs, math.Abs, false},
		{"Sign", Sign, func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}, false},
		{"Square", Square, func(x float64) float64 { return math.Pow(x, 2) }, false},
		{"Recip", Recip, func(x float64) float64 { return math.Pow(x, -1) }, true},
		{"Relu", Relu, func(x float64) float64 { return math.Max(x, 0) }, false},
		{"Step", Step, func(x float64) float64 { return math.Ceil(math.Max(math.Min(x, 1), 0)) }, false},
		{"Sigmoid", Sigmoid, sigmoid, false},
		{"Tanh", Tanh, math.Tanh, false},
		// torch's softplus is x itself above its threshold 20.
		{"Softplus", Softplus, func(x float64) float64 {
			if x > 20 {
				return x
			}
			return math.Log(1 + math.Exp(x))
		}, false},
		{"Gelu", Gelu, func(x float64) float64 { return x * phi(x) }, false},
		{"GeluTanh", GeluTanh, func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}, false},
		{"QuickGelu", QuickGelu, func(x float64) float64 { return x * sigmoid(1.702*x) }, false},
		{"Erf", Erf, math.Erf, false},
		{"Cos", Cos, math.Cos, false},
		{"Sin", Sin, math.Sin, false},
		{"Floor", Floor, math.Floor, false},
		{"LeakyRelu(0.2)", func(x *Tensor) *Tensor { return LeakyRelu(x, 0.2) }, func(x float64) float64 {
			return math.Max(x, 0) + 0.2*math.Min(x, 0)
		}, false},
		{"PowScalar(1.5)", func(x *Tensor) *Tensor { return PowScalar(x, 1.5) }, func(x float64) float64 { return math.Pow(x, 1.5) }, true},
		{"AddScalar(-2)", func(x *Tensor) *Tensor { return AddScalar(x, -2) }, func(x float64) float64 { return x - 2 }, false},
		{"MulScalar(3)", func(x *Tensor) *Tensor { return MulScalar(x, 3) }, func(x float64) float64 { return 3 * x }, false},
		{"RsubScalar(1)", func(x *Tensor) *Tensor { return RsubScalar(x, 1) }, func(x float64) float64 { return 1 - x }, false},
		{"Clamp(-1,2)", func(x *Tensor) *Tensor { return Clamp(x, -1, 2) }, func(x float64) float64 { return math.Min(math.Max(x, -1), 2) }, false},
		{"InRange(-1,2)", func(x *Tensor) *Tensor { return InRange(x, -1, 2) }, func(x float64) float64 {
			if x >= -1 && x <= 2 {
				return 1
			}
			return 0
		}, false},
	}
	in := append([]float32(nil), elementwiseInputs...)
	x := New(in, 1, len(in)).Expand(2, len(in))
	for _, op := range ops {
		for layout, xl := range layouts(x.Contiguous()) {
			got := op.f(xl)
			if !SameShape(got.Shape(), x.Shape()) {
				t.Fatalf("%s %s: shape %v", op.name, layout, got.Shape())
			}
			for i, v := range got.ToSlice() {
				xv := float64(in[i%len(in)])
				if op.positive && xv <= 0 {
					continue
				}
				if want := op.want(xv); !nearValue(v, want) {
					t.Errorf("%s(%v) %s = %v, want %v", op.name, xv, layout, v, want)
				}
			}
		}
	}
}

// TestBinaryOpsMatchTheirDefinitions covers the arithmetic, the comparisons
// (1 or 0, NaN compares false except !=) and maximum/minimum (NaN
// propagates, as torch.maximum), broadcasting a column against a row.
func TestBinaryOpsMatchTheirDefinitions(t *testing.T) {
	nan := math.NaN()
	b2f := func(c bool) float64 {
		if c {
			return 1
		}
		return 0
	}
	ops := []struct {
		name string
		f    func(a, b *Tensor) *Tensor
		want func(a, b float64) float64
	}{
		{"Add", Add, func(a, b float64) float64 { return a + b }},
		{"Sub", Sub, func(a, b float64) float64 { return a - b }},
		{"Mul", Mul, func(a, b float64) float64 { return a * b }},
		{"Div", Div, func(a, b float64) float64 { return a / b }},
		{"Pow", Pow, math.Pow},
		{"Maximum", Maximum, func(a, b float64) float64 {
			if math.IsNaN(a) || math.IsNaN(b) {
				return nan
			}
			return math.Max(a, b)
		}},
		{"Minimum", Minimum, func(a, b float64) float64 {
			if math.IsNaN(a) || math.IsNaN(b) {
				return nan
			}
			return math.Min(a, b)
		}},
		{"Greater", Greater, func(a, b float64) float64 { return b2f(a > b) }},
		{"GreaterEqual", GreaterEqual, func(a, b float64) float64 { return b2f(a >= b) }},
		{"Less", Less, func(a, b float64) float64 { return b2f(a < b) }},
		{"LessEqual", LessEqual, func(a, b float64) float64 { return b2f(a <= b) }},
		{"Equal", Equal, func(a, b float64) float64 { return b2f(a == b) }},
		{"NotEqual", NotEqual, func(a, b float64) float64 { return b2f(a != b) }},
	}
	av := []float32{-2, 0, 0.5, 3, float32(nan)}
	bv := []float32{-2, 0.5, 3, 1.5}
	a, b := New(av, len(av), 1), New(bv, len(bv))
	for _, op := range ops {
		for layout, al := range layouts(a) {
			got := op.f(al, b)
			if !SameShape(got.Shape(), []int{len(av), len(bv)}) {
				t.Fatalf("%s: shape %v", op.name, got.Shape())
			}
			for i := range av {
				for j := range bv {
					want := op.want(float64(av[i]), float64(bv[j]))
					if g := got.At(i, j); !nearValue(g, want) {
						t.Errorf("%s(%v, %v) %s = %v, want %v", op.name, av[i], bv[j], layout, g, want)
					}
				}
			}
		}
	}
}

// TestMinArgminArgmaxVar checks the reductions the other tests leave out,
// along each dim, with and without keepdim, against loops.
func TestMinArgminArgmaxVar(t *testing.T) {
	x := New([]float32{
		3, -1, 4, 1,
		-5, 9, 2, 9,
		6, -5, 3, 5,
	}, 3, 4)
	for layout, xl := range layouts(x) {
		equalSlices(t, layout+" min dim0", Min(xl, []int{0}, false).ToSlice(), []float32{-5, -5, 2, 1})
		equalSlices(t, layout+" min all", Min(xl, nil, false).ToSlice(), []float32{-5})
		equalSlices(t, layout+" argmin dim0", Argmin(xl, 0, false).ToSlice(), []float32{1, 2, 1, 0})
		// Ties give the first index, as torch on CPU.
		equalSlices(t, layout+" argmin dim1", Argmin(xl, 1, false).ToSlice(), []float32{1, 0, 1})
		equalSlices(t, layout+" argmax dim1", Argmax(xl, -1, false).ToSlice(), []float32{2, 1, 0})
		if k := Argmax(xl, 0, true); !SameShape(k.Shape(), []int{1, 4}) {
			t.Fatalf("argmax keepdim shape %v", k.Shape())
		}
		for _, unbiased := range []bool{false, true} {
			v := Var(xl, []int{1}, unbiased, true)
			if !SameShape(v.Shape(), []int{3, 1}) {
				t.Fatalf("var keepdim shape %v", v.Shape())
			}
			for i := 0; i < 3; i++ {
				var mean, sq float64
				for j := 0; j < 4; j++ {
					mean += float64(x.At(i, j)) / 4
				}
				for j := 0; j < 4; j++ {
					d := float64(x.At(i, j)) - mean
					sq += d * d
				}
				den := 4.0
				if unbiased {
					den = 3
				}
				if got := v.At(i, 0); !nearValue(got, sq/den) {
					t.Errorf("%s var row %d unbiased=%v = %v, want %v", layout, i, unbiased, got, sq/den)
				}
			}
		}
	}
}

// Broadcasts (a weight times a value per filter, a gradient plus a value
// per small plane, activations times a style per plane) go through
// cpu.BinaryRows; every
// element must be the one float32 operation on the broadcast operands, in
// every layout, with outer dimensions that do not coalesce.
func TestBinaryRowBroadcasts(t *testing.T) {
	rng := NewRNG(21)
	cases := []struct{ a, b []int }{
		{[]int{40, 30, 3, 3}, []int{40, 30, 1, 1}}, // the demodulation's weight gradient
		{[]int{4, 64, 4, 4}, []int{1, 64, 1, 1}},   // a bias over 4x4 planes
		{[]int{3, 5, 7}, []int{3, 1, 7}},           // one row for every middle index
		{[]int{2, 3, 70, 9}, []int{2, 3, 70, 9}},   // same shapes, short inner rows once transposed
		{[]int{6, 1}, []int{1, 5}},                 // an outer product
		{[]int{2, 16, 16, 16}, []int{2, 16, 1, 1}}, // a style per plane: rows for the vector kernel
	}
	ops := []struct {
		name string
		f    func(a, b *Tensor) *Tensor
		want func(a, b float32) float32
	}{
		{"Add", Add, func(a, b float32) float32 { return a + b }},
		{"Mul", Mul, func(a, b float32) float32 { return a * b }},
		{"Div", Div, func(a, b float32) float32 { return a / b }},
	}
	for _, c := range cases {
		a, b := rng.Normal(c.a...), rng.Normal(c.b...)
		shape := mustBroadcast("test", c.a, c.b)
		for _, op := range ops {
			for la, al := range layouts(a) {
				for lb, bl := range map[string]*Tensor{"contiguous": b, "transposed": transposedLayout(b)} {
					got := op.f(al, bl)
					ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
					idx := make([]int, len(shape))
					for i := range got.Numel() {
						rest := i
						for d := len(shape) - 1; d >= 0; d-- {
							idx[d] = rest % shape[d]
							rest /= shape[d]
						}
						want := op.want(ab.At(idx...), bb.At(idx...))
						if g := got.At(idx...); math.Float32bits(g) != math.Float32bits(want) {
							t.Fatalf("%s %v %v (%s, %s) at %v: %v, want %v", op.name, c.a, c.b, la, lb, idx, g, want)
						}
					}
				}
			}
		}
	}
}
