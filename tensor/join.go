package tensor

import "fmt"

// Concat joins tensors along dim: out[..., off_k + i, ...] = ts[k][..., i, ...]
// with off_k the summed sizes of ts[:k]. Every other dimension must agree.
func Concat(ts []*Tensor, dim int) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Concat: ts is empty")
	}
	if dispatchCUDA("Concat", ts...) {
		return cudaConcat(ts, dim)
	}
	shape, dim := concatShape(ts, dim)
	out := Empty(shape...)
	off := 0
	for _, t := range ts {
		if n := t.shape[dim]; n > 0 {
			out.Narrow(dim, off, n).CopyFrom(t)
			off += n
		}
	}
	return out
}

// concatShape validates ts for Concat and returns the output shape and dim
// normalised.
func concatShape(ts []*Tensor, dim int) ([]int, int) {
	nd := len(ts[0].shape)
	if nd == 0 {
		panic("tensor.Concat: ts[0] is 0-d; concatenation needs at least one dimension")
	}
	dim = normDim(dim, nd)
	shape := cloneInts(ts[0].shape)
	shape[dim] = 0
	for k, t := range ts {
		if len(t.shape) != nd {
			panic(fmt.Sprintf("tensor.Concat: ts[%d] has shape %v, ts[0] has %v (dims differ)", k, t.shape, ts[0].shape))
		}
		for d, s := range t.shape {
			if d != dim && s != ts[0].shape[d] {
				panic(fmt.Sprintf("tensor.Concat: ts[%d] has shape %v, ts[0] has %v (only dim %d may differ)", k, t.shape, ts[0].shape, dim))
			}
		}
		shape[dim] += t.shape[dim]
	}
	return shape, dim
}

// Stack joins equally shaped tensors along a new dimension dim (in
// [-(Dim+1), Dim]): out[..., k, ...] = ts[k].
func Stack(ts []*Tensor, dim int) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Stack: ts is empty")
	}
	nd := len(ts[0].shape)
	if dim < 0 {
		dim += nd + 1
	}
	if dim < 0 || dim > nd {
		panic(fmt.Sprintf("tensor.Stack: dim %d out of range for %d-d tensors", dim, nd))
	}
	us := make([]*Tensor, len(ts))
	for k, t := range ts {
		if !SameShape(t.shape, ts[0].shape) {
			panic(fmt.Sprintf("tensor.Stack: ts[%d] has shape %v, ts[0] has %v", k, t.shape, ts[0].shape))
		}
		us[k] = t.Unsqueeze(dim)
	}
	return Concat(us, dim)
}

// Split cuts x along dim into consecutive pieces of the given sizes (which
// must sum to x's extent there). The pieces are views sharing x's storage.
func Split(x *Tensor, sizes []int, dim int) []*Tensor {
	dim = normDim(dim, len(x.shape))
	total := 0
	for k, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("tensor.Split: sizes[%d] = %d is negative", k, s))
		}
		total += s
	}
	if total != x.shape[dim] {
		panic(fmt.Sprintf("tensor.Split: sizes %v sum to %d, x has %d along dim %d", sizes, total, x.shape[dim], dim))
	}
	out := make([]*Tensor, len(sizes))
	off := 0
	for k, s := range sizes {
		out[k] = x.Narrow(dim, off, s)
		off += s
	}
	return out
}
