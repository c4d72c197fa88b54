package autograd

import (
	"github.com/lafite-go/lafite/tensor"
)

// keptShape is x's shape with the reduced dims set to 1.
func keptShape(shape []int, dims []int) []int {
	ks := append([]int(nil), shape...)
	for _, d := range tensor.NormDims(dims, len(shape)) {
		ks[d] = 1
	}
	return ks
}

// Sum adds over dims (all when empty).
func Sum(x *Var, dims []int, keepdim bool) *Var {
	shape := x.Shape()
	return record("sum", tensor.Sum(x.Value, dims, keepdim), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{BroadcastTo(Reshape(g, keptShape(shape, dims)...), shape...)}
	})
}

// SumAll adds every element into a 0-d Var.
func SumAll(x *Var) *Var { return Sum(x, nil, false) }

// Mean averages over dims (all when empty).
func Mean(x *Var, dims []int, keepdim bool) *Var {
	cnt := 1
	shape := x.Shape()
	for _, d := range tensor.NormDims(dims, len(shape)) {
		cnt *= shape[d]
	}
	return MulScalar(Sum(x, dims, keepdim), 1/float32(cnt))
}

// Max takes the maximum over dims; the gradient is shared equally among the
// elements that attain it.
func Max(x *Var, dims []int, keepdim bool) *Var {
	shape := x.Shape()
	return record("max", tensor.Max(x.Value, dims, keepdim), []*Var{x}, func(g *Var, _ []bool) []*Var {
		ks := keptShape(shape, dims)
		m := tensor.Max(x.Value, dims, true)
		mask := tensor.Equal(x.Value, m)
		cnt := tensor.Sum(mask, dims, true)
		w := Const(tensor.Div(mask, cnt))
		return []*Var{Mul(BroadcastTo(Reshape(g, ks...), shape...), w)}
	})
}

// Variance is the variance over dims: mean((x − mean(x))²), divided by count−1
// instead of count when unbiased.
func Variance(x *Var, dims []int, unbiased, keepdim bool) *Var {
	cnt := 1
	shape := x.Shape()
	for _, d := range tensor.NormDims(dims, len(shape)) {
		cnt *= shape[d]
	}
	den := float32(cnt)
	if unbiased {
		den = float32(cnt - 1)
	}
	c := Sub(x, Mean(x, dims, true))
	return MulScalar(Sum(Square(c), dims, keepdim), 1/den)
}

// SumTo sums x down to shape, undoing broadcasting.
func SumTo(x *Var, shape []int) *Var {
	if x.HasShape(shape...) {
		return x
	}
	xs := x.Shape()
	return record("sum_to", tensor.SumTo(x.Value, shape...), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{BroadcastTo(g, xs...)}
	})
}

// sumToFresh is SumTo(t, shape) for a t its caller (a backward rule) has
// just computed: when nothing is recorded and the sum is a new buffer, t's
// buffer, if allocated since mark (tensor.BufferMark), goes back to the pool
// at once rather than to the GC. The broadcast products of a modulated
// convolution's backward are the size of its activations.
func sumToFresh(t *Var, shape []int, mark uint64) *Var {
	s := SumTo(t, shape)
	if !GradEnabled() && s.Value.Buffer() != t.Value.Buffer() && t.Value.PooledSince(mark) {
		t.Value.Release()
	}
	return s
}

// BroadcastTo expands x to shape without copying.
func BroadcastTo(x *Var, shape ...int) *Var {
	if x.HasShape(shape...) {
		return x
	}
	xs := x.Shape()
	return record("broadcast_to", x.Value.BroadcastTo(shape...), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{SumTo(g, xs)}
	})
}
