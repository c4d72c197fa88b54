package tensor

import (
	"math"
	"testing"
)

// naiveBiasAct composes the reference's steps from plain tensor ops.
func naiveBiasAct(x, b *Tensor, p BiasActParams) *Tensor {
	s := x
	if b != nil {
		shape := make([]int, x.Dim())
		for i := range shape {
			shape[i] = 1
		}
		shape[normDim(p.Dim, x.Dim())] = b.Numel()
		s = Add(x, b.Reshape(shape...))
	}
	var a *Tensor
	switch p.Act {
	case "linear":
		a = s
	case "relu":
		a = Relu(s)
	case "lrelu":
		a = LeakyRelu(s, p.Alpha)
	case "tanh":
		a = Tanh(s)
	case "sigmoid":
		a = Sigmoid(s)
	case "softplus":
		a = Softplus(s)
	case "swish":
		a = Mul(s, Sigmoid(s))
	case "elu":
		a = MapFunc(s, func(v float32) float32 {
			if v > 0 {
				return v
			}
			return float32(math.Expm1(float64(v)))
		})
	case "selu":
		a = MapFunc(s, func(v float32) float32 {
			if v > 0 {
				return float32(1.0507009873554805 * float64(v))
			}
			return float32(1.0507009873554805 * 1.6732632423543772 * math.Expm1(float64(v)))
		})
	}
	a = MulScalar(a, p.Gain)
	if p.Clamp >= 0 {
		a = Clamp(a, -p.Clamp, p.Clamp)
	}
	return a
}

var allBiasActs = []string{"linear", "relu", "lrelu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish"}

func TestBiasActMatchesComposition(t *testing.T) {
	rng := NewRNG(3)
	x := MulScalar(rng.Normal(3, 5, 2, 3), 2)
	for _, act := range allBiasActs {
		for _, dim := range []int{1, -1, 0} {
			for _, clamp := range []float32{-1, 0.7} {
				p := DefaultBiasAct(act)
				p.Dim, p.Clamp = dim, clamp
				b := rng.Normal(x.Size(dim))
				closeSlices(t, act, BiasAct(x, b, p).ToSlice(), naiveBiasAct(x, b, p).ToSlice(), 1e-6)
				closeSlices(t, act+" nobias", BiasAct(x, nil, p).ToSlice(), naiveBiasAct(x, nil, p).ToSlice(), 1e-6)
			}
		}
	}
	// A strided (transposed) input is read through its view.
	p := DefaultBiasAct("lrelu")
	xt := x.Transpose(0, 1)
	b := rng.Normal(5)
	p.Dim = 0
	closeSlices(t, "strided", BiasAct(xt, b, p).ToSlice(), naiveBiasAct(xt, b, p).ToSlice(), 1e-6)
}

func TestDefaultBiasAct(t *testing.T) {
	p := DefaultBiasAct("lrelu")
	if p.Alpha != 0.2 || p.Gain != float32(math.Sqrt2) || p.Clamp >= 0 || p.Dim != 1 {
		t.Fatalf("DefaultBiasAct(lrelu) = %+v", p)
	}
	for act, gain := range map[string]float32{"linear": 1, "relu": math.Sqrt2, "swish": math.Sqrt2, "tanh": 1, "softplus": 1} {
		if g := DefaultActGain(act); g != gain {
			t.Errorf("DefaultActGain(%s) = %v, want %v", act, g, gain)
		}
	}
}

// The piecewise-linear activations round as the reference's sequence of
// float32 ops (add, slope, gain, clamp), so they match it bit for bit.
func TestBiasActPiecewiseLinearIsExact(t *testing.T) {
	x := MulScalar(NewRNG(5).Normal(4, 6, 3), 3)
	b := NewRNG(6).Normal(6)
	for _, act := range []string{"linear", "relu", "lrelu"} {
		for _, clamp := range []float32{-1, 1.3} {
			p := DefaultBiasAct(act)
			p.Alpha, p.Gain, p.Clamp = 0.3, 1.7, clamp
			equalSlices(t, act, BiasAct(x, b, p).ToSlice(), naiveBiasAct(x, b, p).ToSlice())
		}
	}
}

func TestBiasActGradMasks(t *testing.T) {
	// lrelu slope from x + b > 0; the clamp passes its gradient inclusively.
	x := New([]float32{-1, 0.25, 2, 0.5}, 1, 4)
	p := DefaultBiasAct("lrelu")
	p.Gain, p.Clamp = 2, 1
	dx := BiasActGrad(Ones(1, 4), x, nil, p).ToSlice()
	// v = act·2 = [-0.4, 0.5, 4 (clamped), 1 (== c, passes)].
	equalSlices(t, "dx", dx, []float32{0.4, 2, 0, 2})
}

func TestBiasActPanicsNameTheArgument(t *testing.T) {
	x := Ones(2, 3)
	expectPanic(t, "Act", func() { DefaultBiasAct("gelu") })
	expectPanic(t, "Act", func() { BiasAct(x, nil, BiasActParams{Act: "nope"}) })
	expectPanic(t, "bias b", func() { BiasAct(x, Ones(2), DefaultBiasAct("relu")) })
	p := DefaultBiasAct("relu")
	p.Dim = 2
	expectPanic(t, "Dim", func() { BiasAct(x, Ones(3), p) })
	BiasAct(x, nil, p) // without a bias Dim is unused
	expectPanic(t, "dy", func() { BiasActGrad(Ones(3, 2), x, nil, DefaultBiasAct("relu")) })
}
