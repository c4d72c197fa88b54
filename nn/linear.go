package nn

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Linear is torch.nn.Linear: y = x·Wᵀ + b over the last dim of x.
type Linear struct {
	Weight *autograd.Var // [out, in]
	Bias   *autograd.Var // [out]; nil for a layer without bias
}

// NewLinear initialises as PyTorch does (kaiming-uniform with a = √5, which is
// U(-1/√in, 1/√in), for the weight and the same range for the bias).
func NewLinear(in, out int, bias bool, rng *tensor.RNG) *Linear {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("nn.NewLinear: in %d and out %d must be positive", in, out))
	}
	bound := float32(1 / math.Sqrt(float64(in)))
	l := &Linear{Weight: NewParam(rng.Uniform(-bound, bound, out, in))}
	if bias {
		l.Bias = NewParam(rng.Uniform(-bound, bound, out))
	}
	return l
}

// Forward maps x [..., in] to [..., out].
func (l *Linear) Forward(x *autograd.Var) *autograd.Var { return linear(x, l.Weight, l.Bias) }

// NamedParams lists "weight" and, when present, "bias".
func (l *Linear) NamedParams(prefix string, out []Named) []Named {
	out = append(out, Named{Name: Join(prefix, "weight"), Var: l.Weight})
	if l.Bias != nil {
		out = append(out, Named{Name: Join(prefix, "bias"), Var: l.Bias})
	}
	return out
}

// linear is F.linear: x [..., in] · w[out, in]ᵀ + b[out]. Leading dims are
// folded into one so that the weight gradient is a single product instead of
// a batch of products summed afterwards, laid out as w (autograd.Linear).
func linear(x, w, b *autograd.Var) *autograd.Var {
	if w.Dim() != 2 {
		panic(fmt.Sprintf("nn.Linear: weight has shape %v, want [out, in]", w.Shape()))
	}
	out, in := w.Size(0), w.Size(1)
	if x.Dim() == 0 || x.Size(-1) != in {
		panic(fmt.Sprintf("nn.Linear: input of shape %v, want [..., %d]", x.Shape(), in))
	}
	if b != nil && !tensor.SameShape(b.Shape(), []int{out}) {
		panic(fmt.Sprintf("nn.Linear: bias has shape %v, want [%d]", b.Shape(), out))
	}
	shape := x.Shape()
	shape[len(shape)-1] = out
	y := autograd.Linear(autograd.Reshape(x, -1, in), w, 1)
	if b != nil {
		yb := autograd.Add(y, b)
		autograd.FreeNoGrad(y)
		y = yb
	}
	return autograd.Reshape(y, shape...)
}
