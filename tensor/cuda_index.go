package tensor

import (
	"fmt"

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
	dim = normDim(dim, len(shape))
	want := cloneInts(shape)
	want[dim] = len(idx)
	if !SameShape(src.shape, want) {
		panic(fmt.Sprintf("tensor.IndexAdd: src has shape %v, want %v for shape %v and %d indices", src.shape, want, shape, len(idx)))
	}
	n := shape[dim]
	checkIndices("IndexAdd", "idx", idx, n, dim)
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
	nd := len(x.shape)
	if len(pads)%2 != 0 || len(pads)/2 > nd {
		panic(fmt.Sprintf("tensor.Pad: pads %v must hold (before, after) pairs for at most %d dims", pads, nd))
	}
	shape := cloneInts(x.shape)
	before := make([]int, nd)
	for p := 0; p < len(pads)/2; p++ {
		d := nd - 1 - p
		before[d] = pads[2*p]
		shape[d] += pads[2*p] + pads[2*p+1]
		if shape[d] < 0 {
			panic(fmt.Sprintf("tensor.Pad: pads %v shrink dim %d of x (size %d) below zero", pads, d, x.shape[d]))
		}
	}
	out := FullOn(CUDA, value, shape...)
	src, dst := x, out
	for d := 0; d < nd; d++ {
		lo := max(before[d], 0)
		hi := min(before[d]+x.shape[d], shape[d])
		if hi <= lo {
			return out
		}
		dst = dst.Narrow(d, lo, hi-lo)
		src = src.Narrow(d, lo-before[d], hi-lo)
	}
	copyInto(dst, src)
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
