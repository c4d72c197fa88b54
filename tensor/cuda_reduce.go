package tensor

import (
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// cudaReduce is reduce on the GPU: the reduce.cu kernels read x through its
// strides, so no permuted copy is made.
func cudaReduce(op cpu.ReduceOp, x *Tensor, dims []int, keepdim bool) *Tensor {
	var code int32
	switch op {
	case cpu.ReduceSum:
		code = cuda.RedSum
	case cpu.ReduceMax:
		code = cuda.RedMax
	case cpu.ReduceMin:
		code = cuda.RedMin
	default: // argmax, argmin
		return viaHost("Argmax/Argmin", func(h []*Tensor) *Tensor { return reduce(op, h[0], dims, keepdim) }, x)
	}
	n := len(x.shape)
	if n == 0 {
		return x.Clone()
	}
	dims = normDims(dims, n)
	red := map[int]bool{}
	for _, d := range dims {
		red[d] = true
	}
	var keptShape, keptStride, redShape, redStride []int
	cols := 1
	for i := 0; i < n; i++ {
		if red[i] {
			redShape = append(redShape, x.shape[i])
			redStride = append(redStride, x.strides[i])
			cols *= x.shape[i]
		} else {
			keptShape = append(keptShape, x.shape[i])
			keptStride = append(keptStride, x.strides[i])
		}
	}
	if cols == 0 && op != cpu.ReduceSum {
		panic("tensor: max/min/argmax over an empty dimension")
	}
	out := emptyCUDA(keptShape...)
	if rows := out.Numel(); rows > 0 {
		require32("reduce", x)
		reduceInto(code, x, keptShape, keptStride, redShape, redStride, out.ptr())
	}
	return keepDims(out, x, dims, keepdim)
}

// blockReduceMin is the reduction length from which a strided reduction
// whose innermost reduced dim is contiguous takes a block per output rather
// than a warp.
const blockReduceMin = 4096

// twoPassMin is the size from which one reduction over a contiguous range is
// split into 1024-element partial sums first, so that it runs wide.
const twoPassMin = 1 << 16

// reduceInto reduces x (kept dims outShape/outStride, reduced dims
// redShape/redStride, strides of x) into the contiguous y.
func reduceInto(code int32, x *Tensor, outShape, outStride, redShape, redStride []int, y cuda.DevicePtr) {
	g := theGPU()
	osh, ost := coalesce(outShape, outStride)
	rsh, rst := coalesce(redShape, redStride)
	nOut, nRed := numel(osh), numel(rsh)
	xp := x.ptr()
	// [rows, cols] laid out contiguously: the last-dim kernels.
	if len(rsh) == 1 && rst[0][0] == 1 && len(osh) == 1 && (nOut == 1 || ost[0][0] == nRed) {
		if nOut == 1 && nRed >= twoPassMin {
			reduceTwoPass(g, code, nRed, xp, y)
			return
		}
		if nRed >= 2048 || nOut == 1 {
			g.launch("reduce.cu", "reduce_lastdim_block_f32", cuda.D1(nOut), cuda.D1(256), 0,
				code, int32(nOut), int32(nRed), float32(1), xp, y)
			return
		}
		g.launch("reduce.cu", "reduce_lastdim_f32", cuda.D1(cuda.CeilDiv(nOut, 8)), cuda.D1(256), 0,
			code, int32(nOut), int32(nRed), float32(1), xp, y)
		return
	}
	if len(osh) > cuda.MaxDims || len(rsh) > cuda.MaxDims || (nOut < 2*max(g.props.SMs, 1) && nRed >= 8192) {
		// Too many dims for RedShape, or a few long reductions that one warp
		// or thread each would crawl through: reduce a contiguous copy with
		// the reduced dims last, where whole blocks share each row.
		xc := &Tensor{shape: append(cloneInts(outShape), redShape...), strides: append(cloneInts(outStride), redStride...),
			offset: x.offset, storage: x.storage}
		xc = xc.Contiguous()
		defer g.free(xc.storage)
		c := numel(redShape)
		reduceInto(code, xc, []int{numel(outShape)}, []int{c}, []int{c}, []int{1}, y)
		return
	}
	s, err := cuda.NewRedShape(osh, ost[0], rsh, rst[0])
	check("reduce", err)
	if rst[0][len(rst[0])-1] == 1 {
		// The innermost reduced dim is contiguous: a warp per output reads
		// it coalesced, or a block per output when it is long.
		if nRed >= blockReduceMin {
			g.launch("reduce.cu", "reduce_strided_block_f32", cuda.D1(nOut), cuda.D1(256), 0,
				code, s, float32(1), xp, y)
			return
		}
		g.launch("reduce.cu", "reduce_strided_warp_f32", cuda.D1(cuda.CeilDiv(nOut, 8)), cuda.D1(256), 0,
			code, s, float32(1), xp, y)
		return
	}
	g.launch("reduce.cu", "reduce_strided_thread_f32", cuda.D1(cuda.CeilDiv(nOut, 256)), cuda.D1(256), 0,
		code, s, float32(1), xp, y)
}

// reduceTwoPass reduces n contiguous floats at x into y[0]: 1024-element
// partials (one block each), then the partials.
func reduceTwoPass(g *gpuState, code int32, n int, x, y cuda.DevicePtr) {
	const chunk = 1024
	rows, rem := n/chunk, n%chunk
	parts := rows
	if rem > 0 {
		parts++
	}
	tmp := g.alloc(parts)
	defer g.free(tmp)
	g.launch("reduce.cu", "reduce_lastdim_block_f32", cuda.D1(rows), cuda.D1(256), 0,
		code, int32(rows), int32(chunk), float32(1), x, tmp.ptr)
	if rem > 0 {
		g.launch("reduce.cu", "reduce_lastdim_block_f32", cuda.D1(1), cuda.D1(256), 0,
			code, int32(1), int32(rem), float32(1), x+cuda.DevicePtr(4*int64(rows*chunk)), tmp.ptr+cuda.DevicePtr(4*int64(rows)))
	}
	g.launch("reduce.cu", "reduce_lastdim_block_f32", cuda.D1(1), cuda.D1(256), 0,
		code, int32(1), int32(parts), float32(1), tmp.ptr, y)
}
