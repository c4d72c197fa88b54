package tensor

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// Softmax and layer norm on the GPU: softmax.cu and layernorm.cu work on
// contiguous rows of the last dim; other dims are moved last first.

func cudaSoftmax(name string, x *Tensor, dim int, log int32) *Tensor {
	x = onGPU(x)
	perm, dim := dimLastPerm(name, x, dim)
	n := x.Dim()
	g := theGPU()
	src, fsrc := contiguousOnGPU(x.Permute(perm...))
	defer fsrc()
	out := emptyCUDA(src.shape...)
	cols := x.shape[dim]
	if out.Numel() > 0 {
		require32(name, src)
		rows := out.Numel() / cols
		if cols <= 1024 {
			g.launch("softmax.cu", "softmax_fwd_warp_f32", cuda.D1(cuda.CeilDiv(rows, 8)), cuda.D1(256), 0,
				int32(rows), int32(cols), log, src.ptr(), out.ptr())
		} else {
			g.launch("softmax.cu", "softmax_fwd_block_f32", cuda.D1(rows), cuda.D1(256), 0,
				int32(rows), int32(cols), log, src.ptr(), out.ptr())
		}
	}
	if dim == n-1 {
		return out
	}
	back := out.Permute(InversePermutation(perm)...).Contiguous()
	g.free(out.storage)
	return back
}

func cudaLayerNorm(x, w, b *Tensor, normDims int, eps float32) (y, mean, rstd *Tensor) {
	x, w, b = onGPU(x), onGPU(w), onGPU(b)
	n := x.Dim()
	if normDims < 1 || normDims > n {
		panic(fmt.Sprintf("tensor.LayerNorm: normDims %d out of range for x of shape %v", normDims, x.shape))
	}
	lead := n - normDims
	normShape := x.shape[lead:]
	for _, a := range []struct {
		name string
		t    *Tensor
	}{{"w", w}, {"b", b}} {
		if a.t != nil && !SameShape(a.t.shape, normShape) {
			panic(fmt.Sprintf("tensor.LayerNorm: %s has shape %v, want the normalised shape %v", a.name, a.t.shape, normShape))
		}
	}
	cols := numel(normShape)
	statShape := cloneInts(x.shape)
	for i := lead; i < n; i++ {
		statShape[i] = 1
	}
	y = emptyCUDA(x.shape...)
	if cols == 0 { // statistics of nothing, as torch: 0/0
		nan := float32(math.NaN())
		return y, FullOn(CUDA, nan, statShape...), FullOn(CUDA, nan, statShape...)
	}
	mean, rstd = emptyCUDA(statShape...), emptyCUDA(statShape...)
	rows := x.Numel() / cols
	if rows == 0 {
		return y, mean, rstd
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	wc, fw := contiguousOnGPU(w)
	defer fw()
	bc, fb := contiguousOnGPU(b)
	defer fb()
	require32("LayerNorm", xc)
	block := 256
	if cols < 1024 {
		block = 128
	}
	theGPU().launch("layernorm.cu", "layernorm_fwd_f32", cuda.D1(rows), cuda.D1(block), 0,
		int32(rows), int32(cols), eps, xc.ptr(), ptrOrNull(wc), ptrOrNull(bc), y.ptr(), mean.ptr(), rstd.ptr())
	return y, mean, rstd
}
