package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/lafite-go/lafite/tensor"
)

var biasActNames = []string{"linear", "relu", "lrelu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish"}

// biasActInputs draws x [shape] and b [shape[dim]] such that s = x + b stays
// 0.1 away from the kinks (s = 0 and act(s)·gain = ±clamp), where finite
// differences would straddle a jump of the derivative.
func biasActInputs(p tensor.BiasActParams, shape []int, seed uint64) (x, b *tensor.Tensor) {
	rng := tensor.NewRNG(seed)
	d := tensor.NormDim(p.Dim, len(shape))
	b = tensor.MulScalar(rng.Normal(shape[d]), 0.5)
	s := tensor.MulScalar(rng.Normal(shape...), 1.5).ToSlice()
	noClamp := p
	noClamp.Clamp = -1
	nearKink := func(v float32) bool {
		a := tensor.BiasAct(tensor.New([]float32{v}, 1), nil, noClamp).Item()
		if math.Abs(float64(v)) < 0.1 {
			return true
		}
		return p.Clamp >= 0 && math.Abs(math.Abs(float64(a))-float64(p.Clamp)) < 0.1
	}
	for i := range s {
		for nearKink(s[i]) {
			s[i] += 0.23
		}
	}
	st := tensor.New(s, shape...)
	bs := make([]int, len(shape))
	for i := range bs {
		bs[i] = 1
	}
	bs[d] = shape[d]
	return tensor.Sub(st, b.Reshape(bs...)), b
}

func biasActCases() []tensor.BiasActParams {
	var ps []tensor.BiasActParams
	for _, act := range biasActNames {
		p := tensor.DefaultBiasAct(act)
		ps = append(ps, p)
		q := p // non-default alpha, gain, clamp and bias axis
		q.Alpha, q.Gain, q.Clamp, q.Dim = 0.3, 1.7, 0.9, -1
		ps = append(ps, q)
	}
	return ps
}

func TestBiasActGradients(t *testing.T) {
	shape := []int{3, 5, 2, 3}
	for _, p := range biasActCases() {
		t.Run(fmt.Sprintf("%s_clamp%v_dim%d", p.Act, p.Clamp, p.Dim), func(t *testing.T) {
			x, b := biasActInputs(p, shape, 21)
			f := func(xs []*Var) *Var { return BiasAct(xs[0], xs[1], p) }
			if err := CheckGrad(f, []*tensor.Tensor{x, b}, CheckOptions{}); err != nil {
				t.Fatalf("first order: %v", err)
			}
			if err := CheckGradGrad(f, []*tensor.Tensor{x, b}, CheckOptions{}); err != nil {
				t.Fatalf("second order: %v", err)
			}
			nobias := func(xs []*Var) *Var { return BiasAct(xs[0], nil, p) }
			xb := tensor.Add(x, b.Reshape(biasShape(shape, p.Dim)...))
			if err := CheckGradGrad(nobias, []*tensor.Tensor{xb}, CheckOptions{}); err != nil {
				t.Fatalf("second order without bias: %v", err)
			}
		})
	}
}

// TestBiasActThirdOrder differentiates the first-order gradient (a function of
// x, b and the cotangent) twice: the gradient op's own backward must be right.
func TestBiasActThirdOrder(t *testing.T) {
	shape := []int{4, 3, 5}
	for _, act := range []string{"lrelu", "tanh", "swish", "selu"} {
		p := tensor.DefaultBiasAct(act)
		p.Clamp = 1.1
		x, b := biasActInputs(p, shape, 22)
		cot := tensor.NewRNG(23).Normal(shape...)
		firstOrder := func(xs []*Var) *Var {
			y := BiasAct(xs[0], xs[1], p)
			g := Grad([]*Var{y}, []*Var{xs[0], xs[1]}, []*Var{xs[2]}, true)
			return Add(Square(g[0]), Unsqueeze(Unsqueeze(g[1], 0), 2))
		}
		if err := CheckGradGrad(firstOrder, []*tensor.Tensor{x, b, cot}, CheckOptions{}); err != nil {
			t.Fatalf("%s: third order: %v", act, err)
		}
	}
}

func TestBiasActOnScalarLikeShapes(t *testing.T) {
	// A 1-D input with the bias along its only axis: db is dx itself.
	p := tensor.DefaultBiasAct("tanh")
	p.Dim = 0
	x, b := biasActInputs(p, []int{7}, 24)
	f := func(xs []*Var) *Var { return BiasAct(xs[0], xs[1], p) }
	if err := CheckGradGrad(f, []*tensor.Tensor{x, b}, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
}
