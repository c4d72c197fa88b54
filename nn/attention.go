package nn

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// MultiheadAttention is torch.nn.MultiheadAttention(E, H) with
// batch_first=False, used as self-attention: q, k, v = x·in_projᵀ + b split in
// that order, each head computes softmax(q·kᵀ/√(E/H) + mask)·v, heads are
// concatenated and passed through OutProj.
type MultiheadAttention struct {
	EmbedDim, NumHeads int
	InProjWeight       *autograd.Var // [3E, E]: rows of q, then k, then v
	InProjBias         *autograd.Var // [3E]; nil without bias
	OutProj            *Linear       // E -> E
}

// NewMultiheadAttention initialises as torch: in_proj_weight xavier-uniform,
// out_proj.weight kaiming-uniform (nn.Linear's default), biases zero.
func NewMultiheadAttention(embedDim, numHeads int, bias bool, rng *tensor.RNG) *MultiheadAttention {
	if numHeads < 1 || embedDim < 1 || embedDim%numHeads != 0 {
		panic(fmt.Sprintf("nn.NewMultiheadAttention: embedDim %d must be a positive multiple of numHeads %d", embedDim, numHeads))
	}
	bound := float32(math.Sqrt(6 / float64(embedDim+3*embedDim)))
	m := &MultiheadAttention{
		EmbedDim:     embedDim,
		NumHeads:     numHeads,
		InProjWeight: NewParam(rng.Uniform(-bound, bound, 3*embedDim, embedDim)),
		OutProj:      NewLinear(embedDim, embedDim, bias, rng),
	}
	if bias {
		m.InProjBias = NewParam(tensor.Zeros(3 * embedDim))
		m.OutProj.Bias = NewParam(tensor.Zeros(embedDim))
	}
	return m
}

// Forward runs self-attention on x [L, N, E]. mask is additive (-Inf hides a
// key), of shape [L, L] or, per batch element and head, [N·H, L, L] as torch
// orders it (index n·H + h); nil means none. Boolean masks and key padding
// masks are not supported: turn them into -Inf entries.
func (m *MultiheadAttention) Forward(x *autograd.Var, mask *tensor.Tensor) *autograd.Var {
	e, h := m.EmbedDim, m.NumHeads
	if x.Dim() != 3 || x.Size(2) != e {
		panic(fmt.Sprintf("nn.MultiheadAttention: input of shape %v, want [L, N, %d]", x.Shape(), e))
	}
	l, n, hd := x.Size(0), x.Size(1), e/h
	if mask != nil {
		switch {
		case tensor.SameShape(mask.Shape(), []int{l, l}):
		case tensor.SameShape(mask.Shape(), []int{n * h, l, l}):
			mask = mask.Reshape(n, h, l, l)
		default:
			panic(fmt.Sprintf("nn.MultiheadAttention: mask of shape %v, want [%d, %d] or [%d, %d, %d]", mask.Shape(), l, l, n*h, l, l))
		}
	}
	qkv := linear(x, m.InProjWeight, m.InProjBias) // [L, N, 3E]
	heads := func(i int) *autograd.Var {           // [N, H, L, hd]
		return autograd.Permute(autograd.Reshape(autograd.Narrow(qkv, 2, i*e, e), l, n, h, hd), 1, 2, 0, 3)
	}
	o := autograd.ScaledDotProductAttention(heads(0), heads(1), heads(2), mask)
	autograd.FreeNoGrad(qkv) // the heads were views of it
	om := autograd.Reshape(autograd.Permute(o, 2, 0, 1, 3), l, n, e)
	y := m.OutProj.Forward(om)
	autograd.FreeNoGrad(o, om)
	return y
}

// NamedParams lists in_proj_weight, in_proj_bias, out_proj.weight and
// out_proj.bias, torch's state-dict names.
func (m *MultiheadAttention) NamedParams(prefix string, out []Named) []Named {
	out = append(out, Named{Name: Join(prefix, "in_proj_weight"), Var: m.InProjWeight})
	if m.InProjBias != nil {
		out = append(out, Named{Name: Join(prefix, "in_proj_bias"), Var: m.InProjBias})
	}
	return m.OutProj.NamedParams(Join(prefix, "out_proj"), out)
}

// CausalMask is the [n, n] additive mask that lets position i attend to
// positions <= i only: 0 on and below the diagonal, -Inf above (CLIP's text
// transformer).
func CausalMask(n int) *tensor.Tensor {
	d := make([]float32, n*n)
	inf := float32(math.Inf(-1))
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d[i*n+j] = inf
		}
	}
	return tensor.New(d, n, n)
}
