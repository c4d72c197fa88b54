package tensor

import (
	"github.com/lafite-go/lafite/kernels/cuda"
)

// Gathers, scatters and copies on the GPU. IndexSelect and IndexAdd are
// embedding.cu's row gather and scatter-add over the indexed dim moved first;
// concatenation, padding and slice scatters are strided copies into views.

// uploadIndices copies host indices to a temporary GPU buffer of int32s.
func uploadIndices(op string, idx []int) *Storage {
	g := theGPU()
	v := make([]int32, len(idx))
	for i, k := range idx {
		v[i] = int32(k)
	}
	s := g.alloc(len(idx))
	if len(idx) > 0 {
		check(op, g.b.CopyHtoDI32(s.ptr, v))
	}
	return s
}

// dimFirst returns the permutation that moves dim to the front.
func dimFirst(n, dim int) []int {
	perm := []int{dim}
	for i := 0; i < n; i++ {
		if i != dim {
			perm = append(perm, i)
		}
	}
	return perm
}

func cudaIndexSelect(op, arg string, x *Tensor, dim int, idx []int) *Tensor {
	x = onGPU(x)
	dim = normDim(dim, len(x.shape))
	n := x.shape[dim]
	checkIndices(op, arg, idx, n, dim)
	shape := cloneInts(x.shape)
	shape[dim] = len(idx)
	outer, inner := splitAround(x.shape, dim)
	g := theGPU()
	if outer == 1 {
		out := emptyCUDA(shape...)
		xc, fx := contiguousOnGPU(x)
		defer fx()
		embeddingGather(len(idx), inner, n, idx, xc, out)
		return out
	}
	// Gather rows of x with dim moved first, then move it back.
	perm := dimFirst(len(x.shape), dim)
	xt := x.Permute(perm...).Contiguous()
	defer g.free(xt.storage)
	outT := emptyCUDA(append([]int{len(idx)}, xt.shape[1:]...)...)
	embeddingGather(len(idx), outer*inner, n, idx, xt, outT)
	out := outT.Permute(InversePermutation(perm)...).Contiguous()
	g.free(outT.storage)
	return out
}

// embeddingGather sets out[i, :] = table[idx[i], :] for rows of dim floats.
func embeddingGather(rows, dim, vocab int, idx []int, table, out *Tensor) {
	if rows*dim == 0 {
		return
	}
	require32("IndexSelect", table, out)
	g := theGPU()
	ix := uploadIndices("IndexSelect", idx)
	defer g.free(ix)
	g.launch("embedding.cu", "embedding_fwd_f32", g.grid1(int64(rows)*int64(dim)), cuda.D1(256), 0,
		int32(rows), int32(dim), int32(vocab), ix.ptr, table.ptr(), out.ptr())
}

// embeddingScatter adds src[i, :] into table[idx[i], :].
func embeddingScatter(rows, dim, vocab int, idx []int, src, table *Tensor) {
	if rows*dim == 0 {
		return
	}
	require32("IndexAdd", table, src)
	g := theGPU()
	ix := uploadIndices("IndexAdd", idx)
	defer g.free(ix)
	g.launch("embedding.cu", "embedding_bwd_f32", g.grid1(int64(rows)*int64(dim)), cuda.D1(256), 0,
		int32(rows), int32(dim), int32(vocab), ix.ptr, src.ptr(), table.ptr())
}

func cudaIndexAdd(shape []int, dim int, idx []int, src *Tensor) *Tensor {
	src = onGPU(src)
	dim = checkIndexAdd(shape, dim, idx, src)
	n := shape[dim]
	outer, inner := splitAround(shape, dim)
	g := theGPU()
	if outer == 1 {
		out := ZerosOn(CUDA, shape...)
		sc, fs := contiguousOnGPU(src)
		defer fs()
		embeddingScatter(len(idx), inner, n, idx, sc, out)
		return out
	}
	perm := dimFirst(len(shape), dim)
	st := src.Permute(perm...).Contiguous()
	defer g.free(st.storage)
	tshape := make([]int, len(perm))
	for i, p := range perm {
		tshape[i] = shape[p]
	}
	outT := ZerosOn(CUDA, tshape...)
	embeddingScatter(len(idx), outer*inner, n, idx, st, outT)
	out := outT.Permute(InversePermutation(perm)...).Contiguous()
	g.free(outT.storage)
	return out
}

func cudaGather(x *Tensor, dim int, idx []int, idxShape []int) *Tensor {
	return viaHost("Gather", func(h []*Tensor) *Tensor { return Gather(h[0], dim, idx, idxShape) }, x)
}

func cudaScatterAdd(shape []int, dim int, idx []int, src *Tensor) *Tensor {
	return viaHost("ScatterAdd", func(h []*Tensor) *Tensor { return ScatterAdd(shape, dim, idx, h[0]) }, src)
}

func cudaConcat(ts []*Tensor, dim int) *Tensor {
	shape, dim := concatShape(ts, dim)
	out := emptyCUDA(shape...)
	off := 0
	for _, t := range ts {
		if n := t.shape[dim]; n > 0 {
			copyInto(out.Narrow(dim, off, n), t)
			off += n
		}
	}
	return out
}

func cudaPad(x *Tensor, pads []int, value float32) *Tensor {
	x = onGPU(x)
	shape, before := padShape(x, pads)
	out := FullOn(CUDA, value, shape...)
	if src, dst, ok := padOverlap(x, out, before); ok {
		copyInto(dst, src)
	}
	return out
}

func cudaScatterSlice(src *Tensor, shape []int, dim, start, step int) *Tensor {
	out := ZerosOn(CUDA, shape...)
	dim = normDim(dim, len(shape))
	n := src.shape[dim]
	dst := out.Slice(dim, start, start+(n-1)*step+1, step)
	copyInto(dst, src.BroadcastTo(dst.shape...))
	return out
}
