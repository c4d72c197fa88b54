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
	// The intermediates are freed as soon as they are used when no graph is
	// recorded (FreeNoGrad).
	qs := MulScalar(q, float32(1/math.Sqrt(float64(d))))
	scores := Matmul(qs, Transpose(k, -1, -2))
	FreeNoGrad(qs)
	if mask != nil {
		if bs, err := tensor.BroadcastShapes(scores.Shape(), mask.Shape()); err != nil || !tensor.SameShape(bs, scores.Shape()) {
			panic(fmt.Sprintf("autograd.ScaledDotProductAttention: mask of shape %v does not broadcast to the scores %v", mask.Shape(), scores.Shape()))
		}
		masked := Add(scores, Const(mask))
		FreeNoGrad(scores)
		scores = masked
	}
	p := Softmax(scores, -1)
	FreeNoGrad(scores)
	out := Matmul(p, v)
	FreeNoGrad(p)
	return out
}
