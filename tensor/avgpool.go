package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// poolGeom validates avg_pool2d arguments for an input of xShape (ceil_mode
// false) and returns the geometry.
func poolGeom(op, xArg string, xShape []int, kh, kw, sh, sw, ph, pw int, countIncludePad bool) cpu.PoolGeom {
	require4D(op, xArg, xShape)
	switch {
	case kh < 1 || kw < 1:
		panic(fmt.Sprintf("tensor.%s: kernel size must be positive, got (%d, %d)", op, kh, kw))
	case sh < 1 || sw < 1:
		panic(fmt.Sprintf("tensor.%s: stride must be positive, got (%d, %d)", op, sh, sw))
	case ph < 0 || pw < 0 || 2*ph > kh || 2*pw > kw:
		panic(fmt.Sprintf("tensor.%s: padding (%d, %d) must be in [0, kernel/2] for kernel (%d, %d)", op, ph, pw, kh, kw))
	}
	g := cpu.PoolGeom{Planes: xShape[0] * xShape[1], H: xShape[2], W: xShape[3],
		KH: kh, KW: kw, SH: sh, SW: sw, PH: ph, PW: pw, CountIncludePad: countIncludePad}
	g.OH, g.OW = (g.H+2*ph-kh)/sh+1, (g.W+2*pw-kw)/sw+1
	if g.H+2*ph < kh || g.W+2*pw < kw || g.OH < 1 || g.OW < 1 {
		panic(fmt.Sprintf("tensor.%s: output size < 1 for %s %v, kernel (%d, %d), padding (%d, %d)", op, xArg, xShape, kh, kw, ph, pw))
	}
	return g
}

// AvgPool2d is torch.nn.functional.avg_pool2d with ceil_mode false:
// y[n,c,i,j] = Σ_{window} x / count, where the window starts at (i·sh − ph,
// j·sw − pw) and count is kh·kw (countIncludePad) or the in-bounds count.
func AvgPool2d(x *Tensor, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Tensor {
	if dispatchCUDA("AvgPool2d", x) {
		return cudaAvgPool2d(x, kh, kw, sh, sw, ph, pw, countIncludePad)
	}
	g := poolGeom("AvgPool2d", "x", x.shape, kh, kw, sh, sw, ph, pw, countIncludePad)
	y := Empty(x.shape[0], x.shape[1], g.OH, g.OW)
	cpu.AvgPool2d(g, contiguousData(x), y.storage.data)
	return y
}

// AvgPool2dBackward is the gradient of ⟨AvgPool2d(x, …), gy⟩ with respect to x
// of shape inShape: each gy element spread evenly (gy/count) over its window.
func AvgPool2dBackward(gy *Tensor, inShape []int, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Tensor {
	if dispatchCUDA("AvgPool2dBackward", gy) {
		return cudaAvgPool2dBackward(gy, inShape, kh, kw, sh, sw, ph, pw, countIncludePad)
	}
	g := poolGeom("AvgPool2dBackward", "inShape", inShape, kh, kw, sh, sw, ph, pw, countIncludePad)
	requireShape("AvgPool2dBackward", "gy", gy.shape, []int{inShape[0], inShape[1], g.OH, g.OW})
	gx := Empty(inShape...)
	cpu.AvgPool2dBackward(g, contiguousData(gy), gx.storage.data)
	return gx
}
