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

// winoWorkspaceBytes (a variable for tests) bounds the transformed input and
// the GEMM operand on the output side of one pass (each (m+2)^2 floats per
// tile and channel); larger batches run in chunks of images.
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

// winoPass is one Winograd convolution's geometry, cut into chunks of
// images, and its transform buffers: the transformed input (V) and the GEMM
// operand on the output side (M for a forward, E for a weight gradient).
type winoPass struct {
	m, n, k, h, w, r, padH, padW int
	all                          cuda.WinoParams
	per                          int      // images per chunk
	v, out                       *Storage // (m+2)^2 * channels * chunk tiles each
}

func newWinoPass(m, n, k, h, w, r, padH, padW int) *winoPass {
	all := cuda.NewWinoParams(n, k, h, w, r, padH, padW, m)
	pts := all.Points()
	perImage := int64(pts) * 4 * int64(max(k, r)) * int64(all.TH) * int64(all.TW)
	chunks := max(1, int((int64(n)*perImage+winoWorkspaceBytes-1)/winoWorkspaceBytes))
	per := cuda.CeilDiv(n, chunks)
	tiles := per * int(all.TH) * int(all.TW)
	g := theGPU()
	return &winoPass{m: m, n: n, k: k, h: h, w: w, r: r, padH: padH, padW: padW, all: all, per: per,
		v: g.allocUntracked(pts * k * tiles), out: g.allocUntracked(pts * r * tiles)}
}

func (wp *winoPass) free() {
	g := theGPU()
	g.free(wp.v)
	g.free(wp.out)
}

func (wp *winoPass) entry(kind string) string { return fmt.Sprintf("wino%d_%s_f32", wp.m, kind) }

// chunks calls f with each chunk's first image and parameters.
func (wp *winoPass) chunks(f func(n0 int, p cuda.WinoParams)) {
	for n0 := 0; n0 < wp.n; n0 += wp.per {
		f(n0, cuda.NewWinoParams(min(wp.per, wp.n-n0), wp.k, wp.h, wp.w, wp.r, wp.padH, wp.padW, wp.m))
	}
}

// input transforms the chunk's images of x (scaled per image and channel by
// inScale when set) into V.
func (wp *winoPass) input(p cuda.WinoParams, n0 int, x, inScale *Tensor) {
	theGPU().launch("winograd.cu", wp.entry("input"), cuda.D1(cuda.CeilDiv(wp.k*int(p.Tiles), 256)), cuda.D1(256), 0,
		p, ptrAt(x, n0*wp.k*wp.h*wp.w), ptrAt(inScale, n0*wp.k), wp.v.ptr)
}

// ptrAt is t's device address plus elems elements, or null for a nil t.
func ptrAt(t *Tensor, elems int) cuda.DevicePtr {
	if t == nil {
		return 0
	}
	return t.ptr() + cuda.DevicePtr(4*int64(elems))
}

// winogradConv writes into y the stride-1 3x3 conv of x ([N, K, H, W],
// contiguous) with padding (padH, padW) and R output channels. w is the
// forward's weight [R, K, 3, 3], or with dgrad the weight [K, R, 3, 3] of the
// conv whose input gradient this is (x is then dy).
func winogradConv(m int, x, w *Tensor, dgrad bool, r, padH, padW int, e winoEpilogue, y *Tensor) {
	g := theGPU()
	wp := newWinoPass(m, x.shape[0], x.shape[1], x.shape[2], x.shape[3], r, padH, padW)
	defer wp.free()
	u := g.allocUntracked(wp.all.Points() * r * wp.k)
	defer g.free(u)
	g.launch("winograd.cu", wp.entry("weight"), cuda.D1(cuda.CeilDiv(r*wp.k, 256)), cuda.D1(256), 0,
		int32(r), int32(wp.k), b2i(dgrad), w.ptr(), u.ptr)
	outImage := r * int(wp.all.OH) * int(wp.all.OW)
	wp.chunks(func(n0 int, p cuda.WinoParams) {
		wp.input(p, n0, x, e.inScale)
		gp, plan := cuda.PlanWinogradGemm(p)
		g.plan(plan, gp, u.ptr, wp.v.ptr, wp.out.ptr)
		g.launch("winograd.cu", wp.entry("output"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, wp.out.ptr, ptrAt(e.outScale, n0*r), ptrOrNull(e.bias), ptrAt(e.noise, n0*e.noiseNStride), ptrOrNull(e.gain),
			int32(e.noiseNStride), e.beta, ptrAt(y, n0*outImage), ptrAt(e.z, n0*outImage))
	})
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
	r := dy.shape[1]
	wp := newWinoPass(m, x.shape[0], x.shape[1], x.shape[2], x.shape[3], r, padH, padW)
	defer wp.free()
	z := g.allocUntracked(wp.all.Points() * r * wp.k)
	defer g.free(z)
	outImage := r * int(wp.all.OH) * int(wp.all.OW)
	wp.chunks(func(n0 int, p cuda.WinoParams) {
		wp.input(p, n0, x, nil)
		g.launch("winograd.cu", wp.entry("dy"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, ptrAt(dy, n0*outImage), wp.out.ptr)
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		gp, plan := cuda.PlanWinogradWgradGemm(p, beta)
		g.plan(plan, gp, wp.out.ptr, wp.v.ptr, z.ptr)
	})
	g.launch("winograd.cu", wp.entry("wgrad"), cuda.D1(cuda.CeilDiv(r*wp.k, 256)), cuda.D1(256), 0,
		int32(r), int32(wp.k), z.ptr, dw.ptr())
}
