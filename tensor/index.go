package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// checkIndices panics, naming the argument, when an index is outside [0, n).
func checkIndices(op, arg string, idx []int, n, dim int) {
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("tensor.%s: %s[%d] = %d out of range [0, %d) along dim %d", op, arg, k, i, n, dim))
		}
	}
}

// splitAround returns the products of the dims before and after dim.
func splitAround(shape []int, dim int) (outer, inner int) {
	return numel(shape[:dim]), numel(shape[dim+1:])
}

// IndexSelect picks slices of x along dim: out[..., k, ...] = x[..., idx[k], ...].
// Indices may repeat and must lie in [0, x.Size(dim)).
func IndexSelect(x *Tensor, dim int, idx []int) *Tensor {
	return indexSelect("IndexSelect", "idx", x, dim, idx)
}

func indexSelect(op, arg string, x *Tensor, dim int, idx []int) *Tensor {
	if dispatchCUDA(op, x) {
		return cudaIndexSelect(op, arg, x, dim, idx)
	}
	dim = normDim(dim, len(x.shape))
	n := x.shape[dim]
	checkIndices(op, arg, idx, n, dim)
	shape := cloneInts(x.shape)
	shape[dim] = len(idx)
	out := Empty(shape...)
	outer, inner := splitAround(x.shape, dim)
	cpu.GatherRows(outer, n, inner, idx, out.storage.data, x.Contiguous().Data())
	return out
}

// checkIndexAdd validates IndexAdd's arguments and returns dim normalised.
func checkIndexAdd(shape []int, dim int, idx []int, src *Tensor) int {
	dim = normDim(dim, len(shape))
	want := cloneInts(shape)
	want[dim] = len(idx)
	if !SameShape(src.shape, want) {
		panic(fmt.Sprintf("tensor.IndexAdd: src has shape %v, want %v for shape %v and %d indices", src.shape, want, shape, len(idx)))
	}
	n := shape[dim]
	checkIndices("IndexAdd", "idx", idx, n, dim)
	return dim
}

// IndexAdd is the adjoint of IndexSelect: zeros of shape with
// out[..., idx[k], ...] += src[..., k, ...] (repeated indices accumulate).
func IndexAdd(shape []int, dim int, idx []int, src *Tensor) *Tensor {
	if dispatchCUDA("IndexAdd", src) {
		return cudaIndexAdd(shape, dim, idx, src)
	}
	dim = checkIndexAdd(shape, dim, idx, src)
	n := shape[dim]
	out := Zeros(shape...)
	outer, inner := splitAround(shape, dim)
	cpu.ScatterAddRows(outer, n, inner, idx, out.storage.data, src.Contiguous().Data())
	return out
}

// Embedding looks up rows of a [V, D] weight: out[p..., :] = weight[ids[p], :],
// with ids laid out row-major in idsShape; out has shape idsShape + [D].
func Embedding(weight *Tensor, ids []int, idsShape []int) *Tensor {
	if len(weight.shape) != 2 {
		panic(fmt.Sprintf("tensor.Embedding: weight has shape %v, want [vocab, dim]", weight.shape))
	}
	if numel(idsShape) != len(ids) {
		panic(fmt.Sprintf("tensor.Embedding: idsShape %v holds %d ids, ids has %d", idsShape, numel(idsShape), len(ids)))
	}
	rows := indexSelect("Embedding", "ids", weight, 0, ids)
	return rows.Reshape(append(cloneInts(idsShape), weight.shape[1])...)
}

// gatherOffsets returns, for each element of an index tensor shaped
// idxShape (row-major), its storage offset in a tensor of (shape, strides,
// offset) whose coordinate along dim is replaced by the index value.
func gatherOffsets(op string, shape, strides []int, offset, dim int, idx, idxShape []int) []int {
	nd := len(shape)
	if len(idxShape) != nd {
		panic(fmt.Sprintf("tensor.%s: idxShape %v must have %d dims like x %v", op, idxShape, nd, shape))
	}
	if numel(idxShape) != len(idx) {
		panic(fmt.Sprintf("tensor.%s: idxShape %v holds %d indices, idx has %d", op, idxShape, numel(idxShape), len(idx)))
	}
	for d := range idxShape {
		if d != dim && idxShape[d] > shape[d] {
			panic(fmt.Sprintf("tensor.%s: idxShape %v exceeds x shape %v in dim %d", op, idxShape, shape, d))
		}
	}
	checkIndices(op, "idx", idx, shape[dim], dim)
	offs := make([]int, len(idx))
	if len(idx) == 0 {
		return offs
	}
	pos := make([]int, nd)
	base := offset
	for p, i := range idx {
		offs[p] = base + i*strides[dim]
		for d := nd - 1; d >= 0; d-- { // odometer over idxShape, skipping dim
			pos[d]++
			if d != dim {
				base += strides[d]
			}
			if pos[d] < idxShape[d] {
				break
			}
			if d != dim {
				base -= strides[d] * idxShape[d]
			}
			pos[d] = 0
		}
	}
	return offs
}

// Gather is torch.gather: out has shape idxShape and, for dim = 1,
// out[i, j, k] = x[i, idx[i, j, k], k] (idx row-major in idxShape, which must
// not exceed x's shape in the other dims).
func Gather(x *Tensor, dim int, idx []int, idxShape []int) *Tensor {
	if dispatchCUDA("Gather", x) {
		return cudaGather(x, dim, idx, idxShape)
	}
	dim = normDim(dim, len(x.shape))
	offs := gatherOffsets("Gather", x.shape, x.strides, x.offset, dim, idx, idxShape)
	out := Empty(idxShape...)
	cpu.Gather(out.storage.data, x.storage.data, offs)
	return out
}

// ScatterAdd is the adjoint of Gather: zeros of shape with, for dim = 1,
// out[i, idx[i, j, k], k] += src[i, j, k]; idx is shaped like src.
func ScatterAdd(shape []int, dim int, idx []int, src *Tensor) *Tensor {
	if dispatchCUDA("ScatterAdd", src) {
		return cudaScatterAdd(shape, dim, idx, src)
	}
	dim = normDim(dim, len(shape))
	out := Zeros(shape...)
	offs := gatherOffsets("ScatterAdd", shape, out.strides, 0, dim, idx, src.shape)
	cpu.ScatterAdd(out.storage.data, src.Contiguous().Data(), offs)
	return out
}

// Repeat is torch.Tensor.repeat: x (padded with leading size-1 dims to
// len(reps) dims) is tiled reps[d] times along each dim d:
// out[..., r·n_d + i, ...] = x[..., i, ...].
func Repeat(x *Tensor, reps ...int) *Tensor {
	nd := len(reps)
	if nd < len(x.shape) {
		panic(fmt.Sprintf("tensor.Repeat: %d reps for a %d-d x; reps needs at least one per dim", nd, len(x.shape)))
	}
	lead := nd - len(x.shape)
	// View x as [r0, n0, r1, n1, ...] with stride 0 on the repeat axes.
	sh := make([]int, 2*nd)
	st := make([]int, 2*nd)
	outShape := make([]int, nd)
	for d, r := range reps {
		if r < 0 {
			panic(fmt.Sprintf("tensor.Repeat: reps[%d] = %d is negative", d, r))
		}
		n, s := 1, 0
		if d >= lead {
			n, s = x.shape[d-lead], x.strides[d-lead]
		}
		sh[2*d], sh[2*d+1] = r, n
		st[2*d+1] = s
		outShape[d] = r * n
	}
	return x.view(sh, st, x.offset).Clone().Reshape(outShape...)
}

// Tile is torch.tile: like Repeat, but reps shorter than x's rank are padded
// with leading 1s.
func Tile(x *Tensor, reps ...int) *Tensor {
	if pad := len(x.shape) - len(reps); pad > 0 {
		reps = append(make([]int, pad), reps...)
		for i := 0; i < pad; i++ {
			reps[i] = 1
		}
	}
	return Repeat(x, reps...)
}
