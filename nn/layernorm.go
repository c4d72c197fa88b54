package nn

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// LayerNorm is torch.nn.LayerNorm over the trailing Shape dims:
// y = (x - mean)/√(biased var + Eps) · Weight + Bias.
type LayerNorm struct {
	Shape  []int         // the normalised trailing dims
	Eps    float32       // 1e-5 by default, as torch
	Weight *autograd.Var // Shape, ones at init; nil for no affine scale
	Bias   *autograd.Var // Shape, zeros at init; nil for no affine shift
}

// NewLayerNorm returns a layer with elementwise affine parameters (weight 1,
// bias 0) and eps 1e-5.
func NewLayerNorm(normalizedShape ...int) *LayerNorm {
	if len(normalizedShape) == 0 {
		panic("nn.NewLayerNorm: normalizedShape is empty")
	}
	return &LayerNorm{
		Shape:  append([]int(nil), normalizedShape...),
		Eps:    1e-5,
		Weight: NewParam(tensor.Ones(normalizedShape...)),
		Bias:   NewParam(tensor.Zeros(normalizedShape...)),
	}
}

// Forward normalises x [..., Shape...].
func (m *LayerNorm) Forward(x *autograd.Var) *autograd.Var {
	xs := x.Shape()
	if len(xs) < len(m.Shape) || !tensor.SameShape(xs[len(xs)-len(m.Shape):], m.Shape) {
		panic(fmt.Sprintf("nn.LayerNorm: input of shape %v does not end with the normalised shape %v", xs, m.Shape))
	}
	return autograd.LayerNorm(x, m.Weight, m.Bias, len(m.Shape), m.Eps)
}

// NamedParams lists "weight" and "bias" (those that are not nil).
func (m *LayerNorm) NamedParams(prefix string, out []Named) []Named {
	if m.Weight != nil {
		out = append(out, Named{Name: Join(prefix, "weight"), Var: m.Weight})
	}
	if m.Bias != nil {
		out = append(out, Named{Name: Join(prefix, "bias"), Var: m.Bias})
	}
	return out
}
