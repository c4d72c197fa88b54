package tensor

import "fmt"

// The functions here return views that share storage with their input.

func (t *Tensor) view(shape, strides []int, offset int) *Tensor {
	return &Tensor{shape: shape, strides: strides, offset: offset, storage: t.storage}
}

// Reshape returns a tensor with the same elements in row-major order and a new
// shape; one dimension may be -1. It is a view when the strides allow it and a
// copy otherwise.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = inferShape(t.Numel(), shape)
	if st, ok := reshapeStrides(t.shape, t.strides, shape); ok {
		return t.view(shape, st, t.offset)
	}
	c := t.Clone()
	return c.view(shape, contiguousStrides(shape), 0)
}

func inferShape(n int, shape []int) []int {
	shape = cloneInts(shape)
	neg, known := -1, 1
	for i, s := range shape {
		if s == -1 {
			if neg >= 0 {
				panic(fmt.Sprintf("tensor.Reshape: more than one -1 in %v", shape))
			}
			neg = i
		} else {
			known *= s
		}
	}
	if neg >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("tensor.Reshape: cannot infer -1 in %v for %d elements", shape, n))
		}
		shape[neg] = n / known
	}
	if numel(shape) != n {
		panic(fmt.Sprintf("tensor.Reshape: shape %v does not hold %d elements", shape, n))
	}
	return shape
}

// reshapeStrides finds strides that view (shape, strides) as newShape, merging
// and splitting runs of dimensions that are laid out contiguously.
func reshapeStrides(shape, strides, newShape []int) ([]int, bool) {
	if numel(shape) == 0 {
		return contiguousStrides(newShape), true
	}
	// Drop size-1 dims: their strides are irrelevant.
	var os, ost []int
	for i, s := range shape {
		if s != 1 {
			os = append(os, s)
			ost = append(ost, strides[i])
		}
	}
	out := make([]int, len(newShape))
	oi, ni := 0, 0
	for ni < len(newShape) || oi < len(os) {
		if ni < len(newShape) && newShape[ni] == 1 {
			out[ni] = 1
			ni++
			continue
		}
		if oi >= len(os) || ni >= len(newShape) {
			return nil, false
		}
		// Group old dims [oi, oj) and new dims [ni, nj) with equal products.
		oj, nj := oi+1, ni+1
		op, np := os[oi], newShape[ni]
		for op != np {
			if op < np {
				if oj >= len(os) {
					return nil, false
				}
				op *= os[oj]
				oj++
			} else {
				if nj >= len(newShape) {
					return nil, false
				}
				np *= newShape[nj]
				nj++
			}
		}
		for k := oi; k < oj-1; k++ { // the old group must be contiguous in itself
			if ost[k] != ost[k+1]*os[k+1] {
				return nil, false
			}
		}
		st := ost[oj-1]
		for k := nj - 1; k >= ni; k-- {
			out[k] = st
			st *= newShape[k]
		}
		oi, ni = oj, nj
	}
	return out, true
}

// Permute reorders the dimensions: result dim i is input dim perm[i].
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != len(t.shape) {
		panic(fmt.Sprintf("tensor.Permute: %d axes for %d dims", len(perm), len(t.shape)))
	}
	seen := make([]bool, len(perm))
	sh, st := make([]int, len(perm)), make([]int, len(perm))
	for i, p := range perm {
		p = normDim(p, len(perm))
		if seen[p] {
			panic(fmt.Sprintf("tensor.Permute: repeated axis in %v", perm))
		}
		seen[p] = true
		sh[i], st[i] = t.shape[p], t.strides[p]
	}
	return t.view(sh, st, t.offset)
}

// Transpose swaps two dimensions.
func (t *Tensor) Transpose(a, b int) *Tensor {
	n := len(t.shape)
	a, b = normDim(a, n), normDim(b, n)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[b] = perm[b], perm[a]
	return t.Permute(perm...)
}

// InversePermutation returns q with q[perm[i]] = i.
func InversePermutation(perm []int) []int {
	q := make([]int, len(perm))
	for i, p := range perm {
		q[normDim(p, len(perm))] = i
	}
	return q
}

// Slice keeps indices start, start+step, ... < end along dim (step >= 1).
// start and end may be negative (counted from the end) and are clamped.
func (t *Tensor) Slice(dim, start, end, step int) *Tensor {
	dim = normDim(dim, len(t.shape))
	n := t.shape[dim]
	start, end = clampRange(start, n), clampRange(end, n)
	if step < 1 {
		panic(fmt.Sprintf("tensor.Slice: step %d must be >= 1", step))
	}
	cnt := 0
	if end > start {
		cnt = (end - start + step - 1) / step
	}
	sh, st := cloneInts(t.shape), cloneInts(t.strides)
	sh[dim] = cnt
	st[dim] *= step
	return t.view(sh, st, t.offset+start*t.strides[dim])
}

func clampRange(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

// Narrow is Slice with step 1 and a length.
func (t *Tensor) Narrow(dim, start, length int) *Tensor {
	return t.Slice(dim, start, start+length, 1)
}

// Select indexes dim at i and drops that dimension.
func (t *Tensor) Select(dim, i int) *Tensor {
	dim = normDim(dim, len(t.shape))
	if i < 0 {
		i += t.shape[dim]
	}
	if i < 0 || i >= t.shape[dim] {
		panic(fmt.Sprintf("tensor.Select: index %d out of range for size %d", i, t.shape[dim]))
	}
	sh := append(cloneInts(t.shape[:dim]), t.shape[dim+1:]...)
	st := append(cloneInts(t.strides[:dim]), t.strides[dim+1:]...)
	return t.view(sh, st, t.offset+i*t.strides[dim])
}

// BroadcastTo expands size-1 (or missing leading) dimensions to shape with
// stride 0, without copying.
func (t *Tensor) BroadcastTo(shape ...int) *Tensor {
	if len(shape) < len(t.shape) {
		panic(fmt.Sprintf("tensor.BroadcastTo: cannot broadcast %v to %v", t.shape, shape))
	}
	lead := len(shape) - len(t.shape)
	dims := make([]int, 2*len(shape)) // the view's shape and strides, one allocation
	sh, st := dims[:len(shape):len(shape)], dims[len(shape):]
	copy(sh, shape)
	for i := range shape {
		if i < lead {
			continue
		}
		s := t.shape[i-lead]
		switch {
		case s == shape[i]:
			st[i] = t.strides[i-lead]
		case s == 1:
			st[i] = 0
		default:
			panic(fmt.Sprintf("tensor.BroadcastTo: cannot broadcast %v to %v", t.shape, shape))
		}
	}
	return t.view(sh, st, t.offset)
}

// Expand is BroadcastTo where -1 keeps the existing size.
func (t *Tensor) Expand(shape ...int) *Tensor {
	shape = cloneInts(shape)
	lead := len(shape) - len(t.shape)
	for i, s := range shape {
		if s == -1 {
			if i < lead {
				panic("tensor.Expand: -1 for a new leading dimension")
			}
			shape[i] = t.shape[i-lead]
		}
	}
	return t.BroadcastTo(shape...)
}

// Unsqueeze inserts a size-1 dimension at dim (dim may equal Dim()).
func (t *Tensor) Unsqueeze(dim int) *Tensor {
	n := len(t.shape)
	if dim < 0 {
		dim += n + 1
	}
	if dim < 0 || dim > n {
		panic(fmt.Sprintf("tensor.Unsqueeze: dim %d out of range for %d dims", dim, n))
	}
	st := 1
	if dim < n {
		st = t.strides[dim] * t.shape[dim]
	}
	sh := append(append(cloneInts(t.shape[:dim]), 1), t.shape[dim:]...)
	sts := append(append(cloneInts(t.strides[:dim]), st), t.strides[dim:]...)
	return t.view(sh, sts, t.offset)
}

// Squeeze removes the given size-1 dimension.
func (t *Tensor) Squeeze(dim int) *Tensor {
	dim = normDim(dim, len(t.shape))
	if t.shape[dim] != 1 {
		panic(fmt.Sprintf("tensor.Squeeze: dim %d has size %d", dim, t.shape[dim]))
	}
	return t.Select(dim, 0)
}

// Flatten merges dims [start, end] (inclusive) into one.
func (t *Tensor) Flatten(start, end int) *Tensor {
	n := len(t.shape)
	if n == 0 {
		return t.Reshape(1)
	}
	start, end = normDim(start, n), normDim(end, n)
	sh := cloneInts(t.shape[:start])
	sh = append(sh, numel(t.shape[start:end+1]))
	sh = append(sh, t.shape[end+1:]...)
	return t.Reshape(sh...)
}

// ScatterSlice returns zeros of shape with src written at indices start,
// start+step, ... along dim: the adjoint of Slice.
func ScatterSlice(src *Tensor, shape []int, dim, start, step int) *Tensor {
	if dispatchCUDA("ScatterSlice", src) {
		return cudaScatterSlice(src, shape, dim, start, step)
	}
	out := Zeros(shape...)
	dim = normDim(dim, len(shape))
	n := src.shape[dim]
	out.Slice(dim, start, start+(n-1)*step+1, step).CopyFrom(src)
	return out
}
