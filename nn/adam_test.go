package nn

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Two Adam steps on f(w) = Σ w² compared with the update written out by hand.
func TestAdamMatchesClosedForm(t *testing.T) {
	w0 := []float32{1, -2, 0.5}
	p := autograd.Param(tensor.New(w0, 3))
	opt := NewAdam([]*autograd.Var{p}, 0.1, 0.9, 0.99, 1e-8)
	want := make([]float64, 3)
	m, v := make([]float64, 3), make([]float64, 3)
	for i := range want {
		want[i] = float64(w0[i])
	}
	for step := 1; step <= 2; step++ {
		opt.ZeroGrad()
		autograd.SumAll(autograd.Square(p)).Backward()
		opt.Update()
		for i := range want {
			g := 2 * want[i]
			m[i] = 0.9*m[i] + 0.1*g
			v[i] = 0.99*v[i] + 0.01*g*g
			mh := m[i] / (1 - math.Pow(0.9, float64(step)))
			vh := v[i] / (1 - math.Pow(0.99, float64(step)))
			want[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	for i, got := range p.Value.ToSlice() {
		if math.Abs(float64(got)-want[i]) > 1e-5 {
			t.Fatalf("w[%d] = %v, want %v", i, got, want[i])
		}
	}
}

func TestAdamIgnoresNaNGradients(t *testing.T) {
	p := autograd.Param(tensor.New([]float32{1, 1}, 2))
	opt := NewAdam([]*autograd.Var{p}, 0.1, 0, 0.99, 1e-8)
	p.Grad = tensor.New([]float32{float32(math.NaN()), 1}, 2)
	opt.Update()
	w := p.Value.ToSlice()
	if w[0] != 1 || math.IsNaN(float64(w[1])) || w[1] >= 1 {
		t.Fatalf("after a NaN gradient: %v", w)
	}
}

func TestLazyRegularizationScaling(t *testing.T) {
	lr, b1, b2 := LazyRegularization(0.0025, 0, 0.99, 16)
	c := 16.0 / 17.0
	if math.Abs(float64(lr)-0.0025*c) > 1e-9 || b1 != 0 || math.Abs(float64(b2)-math.Pow(0.99, c)) > 1e-7 {
		t.Fatalf("lazy regularization: %v %v %v", lr, b1, b2)
	}
}
