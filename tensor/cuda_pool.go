package tensor

import "github.com/lafite-go/lafite/kernels/cuda"

// Pooling on the GPU (pool.cu): one thread per output, the CPU's window
// and summation order, so the same values.

func cudaAvgPool2d(x *Tensor, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Tensor {
	return cudaPool("AvgPool2d", "avg_pool2d_f32", x, kh, kw, sh, sw, ph, pw, countIncludePad)
}

func cudaMaxPool2d(x *Tensor, kh, kw, sh, sw, ph, pw int) *Tensor {
	return cudaPool("MaxPool2d", "max_pool2d_f32", x, kh, kw, sh, sw, ph, pw, false)
}

func cudaPool(op, entry string, x *Tensor, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Tensor {
	g := poolGeom(op, "x", x.shape, kh, kw, sh, sw, ph, pw, countIncludePad)
	x = x.Contiguous()
	y := emptyCUDA(x.shape[0], x.shape[1], g.OH, g.OW)
	require32(op, x, y)
	inc := int32(0)
	if countIncludePad {
		inc = 1
	}
	p := cuda.PoolParams{Planes: int32(g.Planes), H: int32(g.H), W: int32(g.W), OH: int32(g.OH), OW: int32(g.OW),
		KH: int32(kh), KW: int32(kw), SH: int32(sh), SW: int32(sw), PH: int32(ph), PW: int32(pw), CountIncludePad: inc}
	gpu := theGPU()
	gpu.launch("pool.cu", entry, gpu.grid1(int64(y.Numel())), cuda.D1(256), 0, p, x.ptr(), y.ptr())
	return y
}
