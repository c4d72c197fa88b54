package lafite

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// TextStyles is Lafite's conditional StyleSpace: every modulated layer maps
// (w, h') to its styles with its own text branch. Up to 256x256 ("structure
// 2") it is s = affine([MLP(h'), w]) with MLP = FC f_dim -> (f_dim+512)/2 ->
// 512 (lrelu, lr 0.01) and the text half first; the names pre_0, pre_1 and
// affine_0 are the reference's.
//
// Above the generator's Change resolution ("structure 1") it is
// s = bias(h') + affine(w)·scale(h'), with bias and scale two-layer MLPs of
// h' (names bias_0/1, scale_0/1, affine: ours, the reference's names for this
// branch were not available to check against).
type TextStyles struct {
	Pre0, Pre1 *nn.FullyConnected
	Affine     *nn.FullyConnected
	// Structure 1 only.
	Bias0, Bias1, Scale0, Scale1 *nn.FullyConnected
}

const textHidden = 512

// NewTextStyles builds a branch producing out styles from w (wDim) and h' (fDim).
func NewTextStyles(fDim, wDim, out int, rng *tensor.RNG) *TextStyles {
	mid := (fDim + textHidden) / 2
	return &TextStyles{
		Pre0:   nn.NewFullyConnected(fDim, mid, true, "lrelu", 0.01, 0, rng),
		Pre1:   nn.NewFullyConnected(mid, textHidden, true, "lrelu", 0.01, 0, rng),
		Affine: nn.NewFullyConnected(textHidden+wDim, out, true, "linear", 1, 1, rng),
	}
}

// NewTextStylesAffine builds the structure-1 branch: s = bias(h') +
// affine(w)·scale(h'); scale starts near 1 and bias near 0.
func NewTextStylesAffine(fDim, wDim, out int, rng *tensor.RNG) *TextStyles {
	mid := (fDim + out) / 2
	return &TextStyles{
		Affine: nn.NewFullyConnected(wDim, out, true, "linear", 1, 1, rng),
		Bias0:  nn.NewFullyConnected(fDim, mid, true, "lrelu", 0.01, 0, rng),
		Bias1:  nn.NewFullyConnected(mid, out, true, "linear", 1, 0, rng),
		Scale0: nn.NewFullyConnected(fDim, mid, true, "lrelu", 0.01, 0, rng),
		Scale1: nn.NewFullyConnected(mid, out, true, "linear", 1, 1, rng),
	}
}

// NamedParams lists pre_0, pre_1, affine_0 (structure 2) or affine, bias_0/1,
// scale_0/1 (structure 1).
func (t *TextStyles) NamedParams(prefix string, out []nn.Named) []nn.Named {
	if t.Pre0 == nil {
		out = t.Affine.NamedParams(nn.Join(prefix, "affine"), out)
		out = t.Bias0.NamedParams(nn.Join(prefix, "bias_0"), out)
		out = t.Bias1.NamedParams(nn.Join(prefix, "bias_1"), out)
		out = t.Scale0.NamedParams(nn.Join(prefix, "scale_0"), out)
		return t.Scale1.NamedParams(nn.Join(prefix, "scale_1"), out)
	}
	out = t.Pre0.NamedParams(nn.Join(prefix, "pre_0"), out)
	out = t.Pre1.NamedParams(nn.Join(prefix, "pre_1"), out)
	return t.Affine.NamedParams(nn.Join(prefix, "affine_0"), out)
}

// Forward returns styles [N, out] for w [N, wDim] and h' [N, fDim].
func (t *TextStyles) Forward(w, fts *autograd.Var) *autograd.Var {
	if t.Pre0 == nil {
		bias := t.Bias1.Forward(t.Bias0.Forward(fts))
		scale := t.Scale1.Forward(t.Scale0.Forward(fts))
		return autograd.Add(bias, autograd.Mul(t.Affine.Forward(w), scale))
	}
	h := t.Pre1.Forward(t.Pre0.Forward(fts))
	return t.Affine.Forward(autograd.Concat([]*autograd.Var{h, w}, 1))
}
