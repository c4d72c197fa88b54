package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Resizing of the last two dims (H, W of NCHW; any leading dims are batch) as
// F.interpolate(..., align_corners=False) without antialias. Both modes are
// separable linear maps: one per-axis table (cpu.BilinearTable /
// cpu.BicubicTable) applied along W and along H.

// InterpolateBilinear resizes x [..., H, W] to [..., outH, outW]:
// out[y, x] = Σ wy(y,i)·wx(x,j)·in[i, j] with the 2-tap linear weights at
// source coordinate max((dst+0.5)·in/out − 0.5, 0).
func InterpolateBilinear(x *Tensor, outH, outW int) *Tensor {
	return resize2d("InterpolateBilinear", cpu.BilinearTable, x, outH, outW)
}

// InterpolateBicubic resizes x [..., H, W] to [..., outH, outW] with the
// 4-tap Keys kernel (A = −0.75) at source coordinate (dst+0.5)·in/out − 0.5,
// border samples replicated.
func InterpolateBicubic(x *Tensor, outH, outW int) *Tensor {
	if dispatchCUDA("InterpolateBicubic", x) {
		return cudaBicubic(x, outH, outW)
	}
	return resize2d("InterpolateBicubic", cpu.BicubicTable, x, outH, outW)
}

// InterpolateBilinearBackward is the adjoint of InterpolateBilinear: it maps
// g [..., outH, outW] to [..., inH, inW] with the transposed weights.
func InterpolateBilinearBackward(g *Tensor, inH, inW int) *Tensor {
	return resize2dAdjoint("InterpolateBilinearBackward", cpu.BilinearTable, g, inH, inW)
}

// InterpolateBicubicBackward is the adjoint of InterpolateBicubic.
func InterpolateBicubicBackward(g *Tensor, inH, inW int) *Tensor {
	if dispatchCUDA("InterpolateBicubicBackward", g) {
		return cudaBicubicAdjoint(g, inH, inW)
	}
	return resize2dAdjoint("InterpolateBicubicBackward", cpu.BicubicTable, g, inH, inW)
}

type tableFunc func(in, out int) cpu.InterpTable

func checkResize(op, tname string, t *Tensor, aname string, h, w int) {
	if len(t.shape) < 2 {
		panic(fmt.Sprintf("tensor.%s: %s has shape %v; need at least 2 dims [..., H, W]", op, tname, t.shape))
	}
	if t.shape[len(t.shape)-2] < 1 || t.shape[len(t.shape)-1] < 1 {
		panic(fmt.Sprintf("tensor.%s: %s has empty spatial dims %v", op, tname, t.shape))
	}
	if h < 1 || w < 1 {
		panic(fmt.Sprintf("tensor.%s: %sH, %sW = %d, %d must be >= 1", op, aname, aname, h, w))
	}
}

// resize2d applies the H and W tables in the order that keeps the
// intermediate (and so the work) smaller.
func resize2d(op string, table tableFunc, x *Tensor, outH, outW int) *Tensor {
	if dispatchCUDA(op, x) {
		return cudaResize2d(op, table, x, outH, outW)
	}
	checkResize(op, "x", x, "out", outH, outW)
	nd := len(x.shape)
	inH, inW := x.shape[nd-2], x.shape[nd-1]
	planes := numel(x.shape[:nd-2])
	th, tw := table(inH, outH), table(inW, outW)
	src := x.Contiguous().Data()
	out := Empty(append(cloneInts(x.shape[:nd-2]), outH, outW)...)
	if inH*outW <= outH*inW { // W first: intermediate [planes, inH, outW]
		tmp := allocBuffer(planes*inH*outW, false)
		cpu.ResampleAxis(planes*inH, 1, tw, tmp, src)
		cpu.ResampleAxis(planes, outW, th, out.storage.data, tmp)
		freeBuffer(tmp)
	} else { // H first: intermediate [planes, outH, inW]
		tmp := allocBuffer(planes*outH*inW, false)
		cpu.ResampleAxis(planes, inW, th, tmp, src)
		cpu.ResampleAxis(planes*outH, 1, tw, out.storage.data, tmp)
		freeBuffer(tmp)
	}
	return out
}

// resize2dAdjoint applies the transposed tables, again smaller-intermediate first.
func resize2dAdjoint(op string, table tableFunc, g *Tensor, inH, inW int) *Tensor {
	if dispatchCUDA(op, g) {
		return cudaResize2dAdjoint(op, table, g, inH, inW)
	}
	checkResize(op, "g", g, "in", inH, inW)
	nd := len(g.shape)
	outH, outW := g.shape[nd-2], g.shape[nd-1]
	planes := numel(g.shape[:nd-2])
	th, tw := table(inH, outH), table(inW, outW)
	src := g.Contiguous().Data()
	out := Empty(append(cloneInts(g.shape[:nd-2]), inH, inW)...)
	if inH*outW <= outH*inW { // H first: intermediate [planes, inH, outW]
		tmp := allocBuffer(planes*inH*outW, false)
		cpu.ResampleAxisAdjoint(planes, outW, th, tmp, src)
		cpu.ResampleAxisAdjoint(planes*inH, 1, tw, out.storage.data, tmp)
		freeBuffer(tmp)
	} else { // W first: intermediate [planes, outH, inW]
		tmp := allocBuffer(planes*outH*inW, false)
		cpu.ResampleAxisAdjoint(planes*outH, 1, tw, tmp, src)
		cpu.ResampleAxisAdjoint(planes, inW, th, out.storage.data, tmp)
		freeBuffer(tmp)
	}
	return out
}
