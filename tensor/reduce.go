package tensor

import (
	"fmt"
	"sort"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// normDims sorts and de-duplicates dims; nil or empty means every dimension.
func normDims(dims []int, n int) []int {
	if len(dims) == 0 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all
	}
	seen := map[int]bool{}
	var out []int
	for _, d := range dims {
		d = normDim(d, n)
		if seen[d] {
			panic(fmt.Sprintf("tensor: repeated dimension %d in %v", d, dims))
		}
		seen[d] = true
		out = append(out, d)
	}
	sort.Ints(out)
	return out
}

// NormDims is normDims for other packages.
func NormDims(dims []int, n int) []int { return normDims(dims, n) }

// reduce moves the reduced dims last, makes rows contiguous and reduces them;
// sums whose layout cpu.SumMiddle or cpu.SumOuterInner read in place skip
// the copy.
func reduce(op cpu.ReduceOp, x *Tensor, dims []int, keepdim bool) *Tensor {
	if dispatchCUDA("reduce", x) {
		return cudaReduce(op, x, dims, keepdim)
	}
	n := len(x.shape)
	if n == 0 {
		if op == cpu.ReduceArgmax || op == cpu.ReduceArgmin {
			return Scalar(0)
		}
		return x.Clone()
	}
	dims = normDims(dims, n)
	red := map[int]bool{}
	for _, d := range dims {
		red[d] = true
	}
	var perm, keptShape []int
	for i := 0; i < n; i++ {
		if !red[i] {
			keptShape = append(keptShape, x.shape[i])
		}
	}
	if op == cpu.ReduceSum && x.IsContiguous() {
		if outer, mid, inner, midSummed, ok := sumAxes(x.shape, red); ok {
			out := Empty(keptShape...)
			if midSummed {
				cpu.SumMiddle(outer, mid, inner, out.storage.data, x.Data())
			} else {
				cpu.SumOuterInner(outer, mid, inner, out.storage.data, x.Data())
			}
			return keepDims(out, x, dims, keepdim)
		}
	}
	keptShape = keptShape[:0]
	cols := 1
	for i := 0; i < n; i++ {
		if !red[i] {
			perm = append(perm, i)
			keptShape = append(keptShape, x.shape[i])
		}
	}
	for _, d := range dims {
		perm = append(perm, d)
		cols *= x.shape[d]
	}
	src := x.Permute(perm...).Contiguous()
	rows := numel(keptShape)
	out := Empty(keptShape...)
	if cols == 0 && op != cpu.ReduceSum {
		panic("tensor: max/min/argmax over an empty dimension")
	}
	cpu.ReduceRows(op, rows, cols, out.storage.data, src.Data())
	return keepDims(out, x, dims, keepdim)
}

// sumAxes views a contiguous tensor of this shape, summed over the axes in
// red, as [outer, mid, inner] with either the middle axis summed (a sum over
// channels) or every other one (over batch and space), which cpu.SumMiddle
// and cpu.SumOuterInner read in place. ok is false for the other layouts,
// and for those whose summed axes are already innermost (no copy needed).
func sumAxes(shape []int, red map[int]bool) (outer, mid, inner int, midSummed, ok bool) {
	// Runs of adjacent axes of one kind, axes of size 1 left out.
	var sizes []int
	var summed []bool
	for i, n := range shape {
		if n == 1 {
			continue
		}
		if k := len(sizes); k > 0 && summed[k-1] == red[i] {
			sizes[k-1] *= n
			continue
		}
		sizes = append(sizes, n)
		summed = append(summed, red[i])
	}
	switch {
	case len(sizes) == 3:
		return sizes[0], sizes[1], sizes[2], summed[1], true
	case len(sizes) == 2 && summed[0]: // summed, kept: inner is 1
		return sizes[0], sizes[1], 1, false, true
	}
	return 0, 0, 0, false, false
}

// keepDims reshapes a reduction of x over dims to keep them as size 1 when
// keepdim.
func keepDims(out, x *Tensor, dims []int, keepdim bool) *Tensor {
	if !keepdim {
		return out
	}
	ks := cloneInts(x.shape)
	for _, d := range dims {
		ks[d] = 1
	}
	return out.Reshape(ks...)
}

// Sum adds over dims (all when empty).
func Sum(x *Tensor, dims []int, keepdim bool) *Tensor { return reduce(cpu.ReduceSum, x, dims, keepdim) }

// Mean averages over dims (all when empty).
func Mean(x *Tensor, dims []int, keepdim bool) *Tensor {
	cnt := 1
	for _, d := range normDims(dims, len(x.shape)) {
		cnt *= x.shape[d]
	}
	return MulScalar(Sum(x, dims, keepdim), 1/float32(cnt))
}

// Max takes the maximum over dims (all when empty).
func Max(x *Tensor, dims []int, keepdim bool) *Tensor { return reduce(cpu.ReduceMax, x, dims, keepdim) }

// Min takes the minimum over dims (all when empty).
func Min(x *Tensor, dims []int, keepdim bool) *Tensor { return reduce(cpu.ReduceMin, x, dims, keepdim) }

// Argmax returns the index (as float32) of the first maximum along dim.
func Argmax(x *Tensor, dim int, keepdim bool) *Tensor {
	return reduce(cpu.ReduceArgmax, x, []int{dim}, keepdim)
}

// Argmin returns the index (as float32) of the first minimum along dim.
func Argmin(x *Tensor, dim int, keepdim bool) *Tensor {
	return reduce(cpu.ReduceArgmin, x, []int{dim}, keepdim)
}

// Var is the variance over dims; unbiased divides by count-1 (Bessel).
func Var(x *Tensor, dims []int, unbiased, keepdim bool) *Tensor {
	cnt := 1
	for _, d := range normDims(dims, len(x.shape)) {
		cnt *= x.shape[d]
	}
	mu := Mean(x, dims, true)
	sq := Square(Sub(x, mu))
	den := float32(cnt)
	if unbiased {
		den = float32(cnt - 1)
	}
	return MulScalar(Sum(sq, dims, keepdim), 1/den)
}

// SumTo sums x down to shape, undoing NumPy broadcasting (shape must broadcast
// to x's shape).
func SumTo(x *Tensor, shape ...int) *Tensor {
	if SameShape(x.shape, shape) {
		return x
	}
	lead := len(x.shape) - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor.SumTo: cannot reduce %v to %v", x.shape, shape))
	}
	var dims []int
	for i := range x.shape {
		if i < lead {
			dims = append(dims, i)
		} else if shape[i-lead] == 1 && x.shape[i] != 1 {
			dims = append(dims, i)
		} else if shape[i-lead] != x.shape[i] {
			panic(fmt.Sprintf("tensor.SumTo: cannot reduce %v to %v", x.shape, shape))
		}
	}
	if len(dims) == 0 {
		return x.Reshape(shape...)
	}
	return Sum(x, dims, true).Reshape(shape...)
}
