package tensor

import (
	"fmt"

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
	src, sp, release := resizeSource(src)
	defer release()
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
	g.resizePass(entry, cuda.ResizeParams{Planes: int32(planes), InH: int32(h), InW: int32(w), OutH: int32(mid[0]), OutW: int32(mid[1]), Axis: first,
		SPlane: int32(sp), SH: int32(src.strides[nd-2]), SW: int32(src.strides[nd-1])}, src.ptr(), tmp.ptr)
	g.resizePass(entry, cuda.ResizeParams{Planes: int32(planes), InH: int32(mid[0]), InW: int32(mid[1]), OutH: int32(H), OutW: int32(W), Axis: second,
		SPlane: int32(mid[0] * mid[1]), SH: int32(mid[1]), SW: 1}, tmp.ptr, out.ptr())
}

// resizeSource returns t as a resize pass can read it, [planes, h, w]
// through strides with one stride across the planes (sp), copying it
// contiguous first where its leading dims have no such stride or its
// extent does not fit the kernels' 32-bit offsets; release frees the copy.
func resizeSource(t *Tensor) (src *Tensor, sp int, release func()) {
	if sp, ok := planeStride(t); ok && fitsInt32(t) {
		return t, sp, func() {}
	}
	nd := len(t.shape)
	c := t.Contiguous()
	return c, t.shape[nd-2] * t.shape[nd-1], func() {
		if c.storage != t.storage {
			theGPU().free(c.storage)
		}
	}
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

// cudaCropResizeBicubic resizes a window of x with the two passes of
// bicubicPasses, in the same order as InterpolateBicubic of the window (so
// the window's values are the ones it would give), but the first pass runs
// over x's whole extent across the window, so that the intermediate's size
// does not depend on the window; the second pass reads the window's part.
// The intermediate is allocated at the larger of its two orders' sizes
// (cropResizeTemp), so that the window's shape, which picks the order, does
// not change the allocation either.
func cudaCropResizeBicubic(x *Tensor, win CropWindow, outH, outW int) *Tensor {
	x = onGPU(x)
	nd := len(x.shape)
	inH, inW := x.shape[nd-2], x.shape[nd-1]
	out := emptyCUDA(append(cloneInts(x.shape[:nd-2]), outH, outW)...)
	if out.Numel() == 0 {
		return out
	}
	require32("CropResizeBicubic", x, out)
	planes := numel(x.shape[:nd-2])
	x, sp, release := resizeSource(x)
	defer release()
	g := theGPU()
	sh, sw := x.strides[nd-2], x.strides[nd-1]
	tmp := g.alloc(cropResizeTemp(planes, inH, inW, outH, outW))
	defer g.free(tmp)
	if win.H*outW <= outH*win.W { // W first, as InterpolateBicubic: tmp [planes, inH, outW]
		g.resizePass("resize_bicubic_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(inH), InW: int32(win.W), OutH: int32(inH), OutW: int32(outW),
			Axis: 1, SPlane: int32(sp), SH: int32(sh), SW: int32(sw)}, ptrAt(x, win.Left*sw), tmp.ptr)
		g.resizePass("resize_bicubic_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(win.H), InW: int32(outW), OutH: int32(outH), OutW: int32(outW),
			Axis: 0, SPlane: int32(inH * outW), SH: int32(outW), SW: 1}, tmp.ptr+cuda.DevicePtr(4*win.Top*outW), out.ptr())
		return out
	}
	// H first: tmp [planes, outH, inW]
	g.resizePass("resize_bicubic_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(win.H), InW: int32(inW), OutH: int32(outH), OutW: int32(inW),
		Axis: 0, SPlane: int32(sp), SH: int32(sh), SW: int32(sw)}, ptrAt(x, win.Top*sh), tmp.ptr)
	g.resizePass("resize_bicubic_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(outH), InW: int32(win.W), OutH: int32(outH), OutW: int32(outW),
		Axis: 1, SPlane: int32(outH * inW), SH: int32(inW), SW: 1}, tmp.ptr+cuda.DevicePtr(4*win.Left), out.ptr())
	return out
}

// cudaCropResizeBicubicAdjoint is the adjoint of cudaCropResizeBicubic in
// InterpolateBicubicBackward's order: the first pass fills the first rows
// (or columns) of each plane of an intermediate of fixed size, the second
// writes the window of the zeroed result [..., inH, inW].
func cudaCropResizeBicubicAdjoint(g *Tensor, shape []int, win CropWindow) *Tensor {
	g = onGPU(g)
	nd := len(shape)
	inH, inW := shape[nd-2], shape[nd-1]
	outH, outW := g.shape[nd-2], g.shape[nd-1]
	out := ZerosOn(CUDA, shape...)
	if out.Numel() == 0 || g.Numel() == 0 {
		return out
	}
	require32("CropResizeBicubicBackward", g, out)
	planes := numel(shape[:nd-2])
	g, sp, release := resizeSource(g)
	defer release()
	gs := theGPU()
	sh, sw := g.strides[nd-2], g.strides[nd-1]
	dst := out.ptr() + cuda.DevicePtr(4*(win.Top*inW+win.Left))
	tmp := gs.alloc(cropResizeTemp(planes, inH, inW, outH, outW))
	defer gs.free(tmp)
	mid := tmp.ptr
	if win.H*outW > outH*win.W { // W first: tmp [planes, outH, inW], its first win.W columns used
		gs.resizePass("resize_bicubic_adj_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(outH), InW: int32(outW), OutH: int32(outH), OutW: int32(win.W),
			Axis: 1, SPlane: int32(sp), SH: int32(sh), SW: int32(sw), DPlane: int32(outH * inW), DH: int32(inW)}, g.ptr(), mid)
		gs.resizePass("resize_bicubic_adj_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(outH), InW: int32(win.W), OutH: int32(win.H), OutW: int32(win.W),
			Axis: 0, SPlane: int32(outH * inW), SH: int32(inW), SW: 1, DPlane: int32(inH * inW), DH: int32(inW)}, mid, dst)
		return out
	}
	// H first: tmp [planes, inH, outW], its first win.H rows used
	gs.resizePass("resize_bicubic_adj_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(outH), InW: int32(outW), OutH: int32(win.H), OutW: int32(outW),
		Axis: 0, SPlane: int32(sp), SH: int32(sh), SW: int32(sw), DPlane: int32(inH * outW), DH: int32(outW)}, g.ptr(), mid)
	gs.resizePass("resize_bicubic_adj_f32", cuda.ResizeParams{Planes: int32(planes), InH: int32(win.H), InW: int32(outW), OutH: int32(win.H), OutW: int32(win.W),
		Axis: 1, SPlane: int32(inH * outW), SH: int32(outW), SW: 1, DPlane: int32(inH * inW), DH: int32(inW)}, mid, dst)
	return out
}

// cropResizeTemp is the intermediate of the crop-and-resize and its
// adjoint, in elements: [planes, inH, outW] or [planes, outH, inW], as the
// pass order needs, sized for either.
func cropResizeTemp(planes, inH, inW, outH, outW int) int {
	n := int64(planes) * max(int64(inH)*int64(outW), int64(outH)*int64(inW))
	if n >= 1<<31 {
		panic(fmt.Sprintf("tensor.CropResizeBicubic: its %d-element intermediate exceeds the CUDA kernels' 32-bit indexing", n))
	}
	return int(n)
}

// resizePass launches one axis pass of interpolate.cu; a destination
// stride left zero means a contiguous destination.
func (g *gpuState) resizePass(entry string, p cuda.ResizeParams, src, dst cuda.DevicePtr) {
	if p.DH == 0 {
		p.DPlane, p.DH = p.OutH*p.OutW, p.OutW
	}
	g.launch("interpolate.cu", entry, g.grid1(int64(p.Planes)*int64(p.OutH)*int64(p.OutW)), cuda.D1(256), 0, p, src, dst)
}
