package tensor

import (
	"github.com/lafite-go/lafite/kernels/cuda"
)

// Bicubic resizing on the GPU: interpolate.cu, one launch per axis through a
// contiguous intermediate, in the order the host picks (the smaller
// intermediate first), so that both sum alike. The first pass reads its
// input through strides, so the crop view of clip.TrainTransform (Narrow of
// H and W) is not copied first.

func cudaBicubic(x *Tensor, outH, outW int) *Tensor {
	x = onGPU(x)
	checkResize("InterpolateBicubic", "x", x, "out", outH, outW)
	nd := len(x.shape)
	inH, inW := x.shape[nd-2], x.shape[nd-1]
	out := emptyCUDA(append(cloneInts(x.shape[:nd-2]), outH, outW)...)
	wFirst := inH*outW <= outH*inW // intermediate [planes, inH, outW]
	bicubicPasses("InterpolateBicubic", "resize_bicubic_f32", x, out, wFirst)
	return out
}

func cudaBicubicAdjoint(g *Tensor, inH, inW int) *Tensor {
	g = onGPU(g)
	checkResize("InterpolateBicubicBackward", "g", g, "in", inH, inW)
	nd := len(g.shape)
	outH, outW := g.shape[nd-2], g.shape[nd-1]
	out := emptyCUDA(append(cloneInts(g.shape[:nd-2]), inH, inW)...)
	wFirst := inH*outW > outH*inW // intermediate [planes, outH, inW]
	bicubicPasses("InterpolateBicubicBackward", "resize_bicubic_adj_f32", g, out, wFirst)
	return out
}

// bicubicPasses resizes src [..., h, w] into the contiguous out [..., H, W]
// with entry along W and along H, W first when wFirst.
func bicubicPasses(op, entry string, src, out *Tensor, wFirst bool) {
	nd := len(src.shape)
	if out.Numel() == 0 {
		return
	}
	h, w := src.shape[nd-2], src.shape[nd-1]
	H, W := out.shape[nd-2], out.shape[nd-1]
	planes := numel(src.shape[:nd-2])
	require32(op, src, out)
	sp, ok := planeStride(src)
	if !ok || !fitsInt32(src) { // leading dims that no one stride walks: gather them first
		c := src.Contiguous()
		defer theGPU().free(c.storage)
		src, sp = c, h*w
	}
	g := theGPU()
	// The intermediate [planes, rows, cols] is the smaller choice, so it fits
	// 32-bit indexing when src and out do.
	mid := []int{h, W}
	if !wFirst {
		mid = []int{H, w}
	}
	tmp := g.alloc(planes * mid[0] * mid[1])
	defer g.free(tmp)
	first, second := int32(1), int32(0)
	if !wFirst {
		first, second = 0, 1
	}
	p := cuda.ResizeParams{Planes: int32(planes), InH: int32(h), InW: int32(w), OutH: int32(mid[0]), OutW: int32(mid[1]), Axis: first,
		SPlane: int32(sp), SH: int32(src.strides[nd-2]), SW: int32(src.strides[nd-1])}
	g.launch("interpolate.cu", entry, g.grid1(int64(planes*mid[0]*mid[1])), cuda.D1(256), 0, p, src.ptr(), tmp.ptr)
	p = cuda.ResizeParams{Planes: int32(planes), InH: int32(mid[0]), InW: int32(mid[1]), OutH: int32(H), OutW: int32(W), Axis: second,
		SPlane: int32(mid[0] * mid[1]), SH: int32(mid[1]), SW: 1}
	g.launch("interpolate.cu", entry, g.grid1(int64(out.Numel())), cuda.D1(256), 0, p, tmp.ptr, out.ptr())
}

// planeStride returns the one stride that walks the leading dims of t (all
// but the last two) as planes, or false when their strides do not nest.
func planeStride(t *Tensor) (int, bool) {
	nd := len(t.shape)
	sh, sts := coalesce(t.shape[:nd-2], t.strides[:nd-2])
	if len(sh) != 1 {
		return 0, false
	}
	return sts[0][0], true
}

// fitsInt32 reports whether the kernels' int strides can address t.
func fitsInt32(t *Tensor) bool {
	for i, s := range t.strides {
		if d := int64(t.shape[i]-1) * int64(s); d >= 1<<31 || d <= -(1<<31) {
			return false
		}
	}
	return true
}
