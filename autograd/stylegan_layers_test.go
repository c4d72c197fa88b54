package autograd

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

func TestNormalize2ndMomentGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "nc", f: un(func(x *Var) *Var { return Normalize2ndMoment(x, 1, 1e-8) }), shapes: [][]int{{3, 5}}, second: true},
		{name: "nchw", f: un(func(x *Var) *Var { return Normalize2ndMoment(x, 1, 1e-8) }), shapes: [][]int{{2, 3, 2, 3}}, second: true},
		{name: "last_dim", f: un(func(x *Var) *Var { return Normalize2ndMoment(x, -1, 1e-4) }), shapes: [][]int{{4, 7}}, second: true},
	})
}

func TestNormalize2ndMomentForward(t *testing.T) {
	x := tensor.New([]float32{3, 4, 0, 2}, 2, 2)
	got := Normalize2ndMoment(Const(x), 1, 0).Value.ToSlice()
	// rows: rms(3,4) = √12.5, rms(0,2) = √2.
	want := []float64{3 / math.Sqrt(12.5), 4 / math.Sqrt(12.5), 0, 2 / math.Sqrt(2)}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// naiveMinibatchStd is the layer written as loops in float64.
func naiveMinibatchStd(x *tensor.Tensor, groupSize, f int) []float64 {
	s := x.Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	g := min(groupSize, n)
	m, cf := n/g, c/f
	out := make([]float64, n*(c+f)*h*w)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				out[(i*(c+f)+ch)*h*w+p] = float64(x.At(i, ch, p/w, p%w))
			}
		}
	}
	for j := 0; j < m; j++ { // group j holds samples j, j+m, j+2m, ...
		for k := 0; k < f; k++ {
			var acc float64
			for ch := k * cf; ch < (k+1)*cf; ch++ {
				for p := 0; p < h*w; p++ {
					var mean, sq float64
					for q := 0; q < g; q++ {
						mean += float64(x.At(q*m+j, ch, p/w, p%w))
					}
					mean /= float64(g)
					for q := 0; q < g; q++ {
						d := float64(x.At(q*m+j, ch, p/w, p%w)) - mean
						sq += d * d
					}
					acc += math.Sqrt(sq/float64(g) + 1e-8)
				}
			}
			acc /= float64(cf * h * w)
			for q := 0; q < g; q++ {
				for p := 0; p < h*w; p++ {
					out[((q*m+j)*(c+f)+c+k)*h*w+p] = acc
				}
			}
		}
	}
	return out
}

func TestMinibatchStdForward(t *testing.T) {
	for _, c := range []struct {
		shape []int
		g, f  int
	}{
		{[]int{4, 6, 3, 3}, 2, 1}, {[]int{6, 6, 2, 2}, 2, 2}, {[]int{6, 4, 2, 3}, 3, 2}, {[]int{4, 3, 2, 2}, 8, 1},
	} {
		x := tensor.NewRNG(41).Normal(c.shape...)
		got := MinibatchStd(Const(x), c.g, c.f).Value
		want := naiveMinibatchStd(x, c.g, c.f)
		if got.Size(1) != c.shape[1]+c.f {
			t.Fatalf("%v: output %v", c, got.Shape())
		}
		for i, v := range got.ToSlice() {
			if math.Abs(float64(v)-want[i]) > 1e-5 {
				t.Fatalf("%v: y[%d] = %v, want %v", c, i, v, want[i])
			}
		}
	}
}

func TestMinibatchStdGradients(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "g3_f2", f: un(func(x *Var) *Var { return MinibatchStd(x, 3, 2) }), shapes: [][]int{{6, 4, 3, 2}}, second: true},
		{name: "g4_group_larger_than_batch", f: un(func(x *Var) *Var { return MinibatchStd(x, 8, 1) }), shapes: [][]int{{4, 3, 2, 2}}, second: true},
		// The layer followed by a nonlinearity: second derivatives through
		// the std path that R1 uses.
		{name: "g4_squared", f: un(func(x *Var) *Var { return Square(MinibatchStd(x, 4, 1)) }), shapes: [][]int{{4, 2, 3, 3}}, second: true},
	})
}

// With G = 2 the std is |a − b|/2 + O(1e-8): a kink where paired samples are
// equal, so the pairs are drawn at least 0.2 apart for finite differences.
func TestMinibatchStdGroupOf2Gradients(t *testing.T) {
	rng := tensor.NewRNG(42)
	a := rng.Normal(2, 2, 2, 3)
	d := tensor.MapFunc(rng.Normal(2, 2, 2, 3), func(v float32) float32 {
		if v >= 0 {
			return v + 0.2
		}
		return v - 0.2
	})
	x := tensor.New(append(a.ToSlice(), tensor.Add(a, d).ToSlice()...), 4, 2, 2, 3)
	f := un(func(x *Var) *Var { return MinibatchStd(x, 2, 1) })
	if err := CheckGrad(f, []*tensor.Tensor{x}, CheckOptions{}); err != nil {
		t.Fatalf("first order: %v", err)
	}
	if err := CheckGradGrad(f, []*tensor.Tensor{x}, CheckOptions{}); err != nil {
		t.Fatalf("second order: %v", err)
	}
}

func TestStyleganLayerPanicsNameTheArgument(t *testing.T) {
	x := Const(tensor.Ones(4, 6, 2, 2))
	expectPanic(t, "groupSize", func() { MinibatchStd(x, 0, 1) })
	expectPanic(t, "group size", func() { MinibatchStd(x, 3, 1) })
	expectPanic(t, "numChannels", func() { MinibatchStd(x, 2, 4) })
	expectPanic(t, "x must be", func() { MinibatchStd(Const(tensor.Ones(4, 6)), 2, 1) })
	expectPanic(t, "mat1", func() { ContraLoss(Const(tensor.Ones(3, 4)), Const(tensor.Ones(3, 5)), 0.5, 0, false) })
}
