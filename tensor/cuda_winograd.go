package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// Stride-1 3x3 convolutions on the GPU by Winograd F(m x m, 3x3)
// (winograd.cu): the weight, input and output transforms around (m+2)^2
// GEMMs of sgemm.cu; 2.25x (m = 2) or 4x (m = 4, the default) fewer
// multiply-adds than the direct kernels.

// winoWorkspaceBytes (a variable for tests) bounds the transformed input and GEMM output of one
// pass (each (m+2)^2 floats per tile and channel); larger batches run in
// chunks of images.
var winoWorkspaceBytes int64 = 256 << 20

// winoEpilogue is what wino_output_f32 applies to the convolution; nil
// tensors are absent terms.
type winoEpilogue struct {
	inScale, outScale, bias, noise, gain, z *Tensor
	noiseNStride                            int
	beta                                    float32
}

// winogradTile says whether the conv of geometry g (a forward, or the
// convolution of dy that an input gradient is) goes to the Winograd path, and
// with which output tile (0: the direct kernels): 3x3, stride 1, no dilation,
// one group, large enough to fill its GEMMs, F(4x4, 3x3) unless
// LAFITE_CUDA_WINOGRAD says 2 (F(2x2, 3x3)) or 0 (off) — or any such conv
// when tests force a tile (SetCUDAConvTile(cuda.ConvWinograd2 or 4)).
func winogradTile(g cpu.ConvGeom, in, out, outPixels int) int {
	if g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || g.Groups != 1 {
		return 0
	}
	switch t := int(convTile.Load()); t {
	case cuda.ConvWinograd2, cuda.ConvWinograd4:
		return t
	case 0:
		if m := theGPU().winograd; m != 0 && cuda.WinogradWorthIt(in, out, outPixels) {
			return m
		}
	}
	return 0
}

// winogradConv writes into y the stride-1 3x3 conv of x ([N, K, H, W],
// contiguous) with padding (padH, padW) and R output channels. w is the
// forward's weight [R, K, 3, 3], or with dgrad the weight [K, R, 3, 3] of the
// conv whose input gradient this is (x is then dy).
func winogradConv(m int, x, w *Tensor, dgrad bool, r, padH, padW int, e winoEpilogue, y *Tensor) {
	g := theGPU()
	n, k, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	all := cuda.NewWinoParams(n, k, h, wd, r, padH, padW, m)
	pts := all.Points()
	entry := func(kind string) string { return fmt.Sprintf("wino%d_%s_f32", m, kind) }
	u := g.allocUntracked(pts * r * k)
	defer g.free(u)
	g.launch("winograd.cu", entry("weight"), cuda.D1(cuda.CeilDiv(r*k, 256)), cuda.D1(256), 0,
		int32(r), int32(k), b2i(dgrad), w.ptr(), u.ptr)

	perImage := int64(pts) * 4 * int64(max(k, r)) * int64(all.TH) * int64(all.TW)
	chunks := max(1, int((int64(n)*perImage+winoWorkspaceBytes-1)/winoWorkspaceBytes))
	per := cuda.CeilDiv(n, chunks)
	tiles := per * int(all.TH) * int(all.TW)
	v := g.allocUntracked(pts * k * tiles)
	defer g.free(v)
	mm := g.allocUntracked(pts * r * tiles)
	defer g.free(mm)

	at := func(t *Tensor, elems int) cuda.DevicePtr {
		if t == nil {
			return 0
		}
		return t.ptr() + cuda.DevicePtr(4*int64(elems))
	}
	inImage, outImage := k*h*wd, r*int(all.OH)*int(all.OW)
	for n0 := 0; n0 < n; n0 += per {
		nc := min(per, n-n0)
		p := cuda.NewWinoParams(nc, k, h, wd, r, padH, padW, m)
		g.launch("winograd.cu", entry("input"), cuda.D1(cuda.CeilDiv(k*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, at(x, n0*inImage), at(e.inScale, n0*k), v.ptr)
		gp, plan := cuda.PlanWinogradGemm(p)
		g.plan(plan, gp, u.ptr, v.ptr, mm.ptr)
		g.launch("winograd.cu", entry("output"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, mm.ptr, at(e.outScale, n0*r), ptrOrNull(e.bias), at(e.noise, n0*e.noiseNStride), ptrOrNull(e.gain),
			int32(e.noiseNStride), e.beta, at(y, n0*outImage), at(e.z, n0*outImage))
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// winogradWgrad writes into dw ([R, K, 3, 3]) the weight gradient of the
// stride-1 3x3 conv of x ([N, K, H, W]) with padding (padH, padW), given dy
// ([N, R, OH, OW]), both contiguous: the adjoint of winogradConv, its
// (m+2)^2 GEMMs summing over the tiles (chunks of images accumulate into Z).
func winogradWgrad(m int, x, dy *Tensor, padH, padW int, dw *Tensor) {
	g := theGPU()
	n, k, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	r := dy.shape[1]
	all := cuda.NewWinoParams(n, k, h, wd, r, padH, padW, m)
	pts := all.Points()
	entry := func(kind string) string { return fmt.Sprintf("wino%d_%s_f32", m, kind) }
	z := g.allocUntracked(pts * r * k)
	defer g.free(z)
	perImage := int64(pts) * 4 * int64(max(k, r)) * int64(all.TH) * int64(all.TW)
	chunks := max(1, int((int64(n)*perImage+winoWorkspaceBytes-1)/winoWorkspaceBytes))
	per := cuda.CeilDiv(n, chunks)
	tiles := per * int(all.TH) * int(all.TW)
	v := g.allocUntracked(pts * k * tiles)
	defer g.free(v)
	e := g.allocUntracked(pts * r * tiles)
	defer g.free(e)
	inImage, outImage := k*h*wd, r*int(all.OH)*int(all.OW)
	for n0 := 0; n0 < n; n0 += per {
		nc := min(per, n-n0)
		p := cuda.NewWinoParams(nc, k, h, wd, r, padH, padW, m)
		g.launch("winograd.cu", entry("input"), cuda.D1(cuda.CeilDiv(k*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, x.ptr()+cuda.DevicePtr(4*int64(n0*inImage)), cuda.DevicePtr(0), v.ptr)
		g.launch("winograd.cu", entry("dy"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, dy.ptr()+cuda.DevicePtr(4*int64(n0*outImage)), e.ptr)
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		gp, plan := cuda.PlanWinogradWgradGemm(p, beta)
		g.plan(plan, gp, e.ptr, v.ptr, z.ptr)
	}
	g.launch("winograd.cu", entry("wgrad"), cuda.D1(cuda.CeilDiv(r*k, 256)), cuda.D1(256), 0,
		int32(r), int32(k), z.ptr, dw.ptr())
}
