package autograd

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// ScaledDotProductAttention is softmax(q·kᵀ/√d + mask)·v over the last two
// dims: q [..., L, d], k [..., S, d], v [..., S, dv], leading dims broadcast.
// mask is additive and broadcasts to [..., L, S]; -Inf entries exclude a key
// (a row must keep at least one finite entry). nil means no mask. q is scaled
// before the product, as torch's reference path does.
func ScaledDotProductAttention(q, k, v *Var, mask *tensor.Tensor) *Var {
	if q.Dim() < 2 || k.Dim() < 2 || v.Dim() < 2 {
		panic(fmt.Sprintf("autograd.ScaledDotProductAttention: q %v, k %v, v %v must have at least 2 dims", q.Shape(), k.Shape(), v.Shape()))
	}
	d := q.Size(-1)
	if k.Size(-1) != d {
		panic(fmt.Sprintf("autograd.ScaledDotProductAttention: k's feature size %d differs from q's %d", k.Size(-1), d))
	}
	if v.Size(-2) != k.Size(-2) {
		panic(fmt.Sprintf("autograd.ScaledDotProductAttention: v has %d positions, k has %d", v.Size(-2), k.Size(-2)))
	}
	scores := Matmul(MulScalar(q, float32(1/math.Sqrt(float64(d)))), Transpose(k, -1, -2))
	if mask != nil {
		if bs, err := tensor.BroadcastShapes(scores.Shape(), mask.Shape()); err != nil || !tensor.SameShape(bs, scores.Shape()) {
			panic(fmt.Sprintf("autograd.ScaledDotProductAttention: mask of shape %v does not broadcast to the scores %v", mask.Shape(), scores.Shape()))
		}
		scores = Add(scores, Const(mask))
	}
	return Matmul(Softmax(scores, -1), v)
}
