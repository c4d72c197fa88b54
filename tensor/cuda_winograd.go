package tensor

import (
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// 3x3 convolutions on the GPU by Winograd's minimal filtering (winograd.cu):
// the weight, input and output transforms around batched GEMMs of sgemm.cu.
// Stride 1 as F(m x m, 3x3): 2.25x (m = 2) or 4x (m = 4, the default) fewer
// multiply-adds than the direct kernels; stride 2 by phases as F(4x4, 2x2):
// 1.44x fewer.

// winoWorkspaceBytes (a variable for tests) bounds the transformed input and
// the GEMM operand on the output side of one pass (each (m+r-1)^2 floats per
// tile and channel, r the filter size); larger batches run in chunks of
// images.
var winoWorkspaceBytes int64 = 256 << 20

// winoEpilogue is what wino_output_f32 applies to the convolution; nil
// tensors are absent terms.
type winoEpilogue struct {
	inScale, outScale, bias, noise, gain, z *Tensor
	noiseNStride                            int
	beta                                    float32
}

// winoPath is how a convolution runs: on the direct kernels (winoDirect),
// F(2x2, 3x3), F(4x4, 3x3), or a stride-2 3x3 conv by phases with
// F(4x4, 2x2).
type winoPath int

const (
	winoDirect winoPath = iota
	winoF2
	winoF4
	winoPhase
)

// winogradPath says how the conv of geometry g (a forward, or the conv
// whose input or weight gradient is wanted) with in and out channels and
// outPixels output pixels over all images runs: 3x3, no dilation, one group,
// stride 1 (F(4x4, 3x3) unless LAFITE_CUDA_WINOGRAD says 2 or 0) or stride 2
// with equal paddings (by phases; off with LAFITE_CUDA_WINOGRAD=0), large
// enough to fill the GEMMs — or any such conv when tests force a Winograd
// tile (SetCUDAConvTile(cuda.ConvWinograd2 or 4); stride 2 takes the phases
// under either).
func winogradPath(g cpu.ConvGeom, in, out, outPixels int) winoPath {
	stride1, ok := winogradGeometry(g)
	if !ok {
		return winoDirect
	}
	tile := int(convTile.Load())
	switch {
	case tile == cuda.ConvWinograd2 || tile == cuda.ConvWinograd4:
	case tile == 0 && theGPU().winograd != 0 && cuda.WinogradWorthIt(in, out, outPixels):
		tile = theGPU().winograd
	default:
		return winoDirect
	}
	switch {
	case !stride1:
		return winoPhase
	case tile == cuda.ConvWinograd2:
		return winoF2
	}
	return winoF4
}

// winogradGeometry says whether a Winograd path can run the conv g: a 3x3
// conv without dilation or groups, of stride 1 or of stride 2 with equal
// paddings (by phases).
func winogradGeometry(g cpu.ConvGeom) (stride1, ok bool) {
	if g.KH != 3 || g.KW != 3 || g.DH != 1 || g.DW != 1 || g.Groups != 1 {
		return false, false
	}
	stride1 = g.SH == 1 && g.SW == 1
	return stride1, stride1 || (g.SH == 2 && g.SW == 2 && g.PH == g.PW)
}

// winoPass is one Winograd convolution cut into chunks of images, with its
// transform buffers: the transformed input (V) and the GEMM operand on the
// output side (M for a forward, E for a weight gradient).
type winoPass struct {
	params            func(n int) cuda.WinoParams // the conv of n images
	all               cuda.WinoParams             // of all n images
	n, per            int                         // images, and per chunk
	inImage, outImage int                         // elements per image of the real input and output
	v, out            *Storage                    // points * channels * chunk tiles each
}

func newWinoPass(n, inImage, outImage int, params func(n int) cuda.WinoParams) *winoPass {
	all := params(n)
	pts := all.Points()
	k, r := int(all.K), int(all.R)
	perImage := int64(pts) * 4 * int64(max(k, r)) * int64(all.TH) * int64(all.TW)
	chunks := max(1, int((int64(n)*perImage+winoWorkspaceBytes-1)/winoWorkspaceBytes))
	per := cuda.CeilDiv(n, chunks)
	tiles := per * int(all.TH) * int(all.TW)
	g := theGPU()
	return &winoPass{params: params, all: all, n: n, per: per, inImage: inImage, outImage: outImage,
		v: g.allocUntracked(pts * k * tiles), out: g.allocUntracked(pts * r * tiles)}
}

// stride1Pass is the stride-1 3x3 conv of n images of k channels h x w into
// r channels.
func stride1Pass(path winoPath, n, k, h, w, r, padH, padW int) *winoPass {
	m := 4
	if path == winoF2 {
		m = 2
	}
	p := cuda.NewWinoParams(n, k, h, w, r, padH, padW, m)
	return newWinoPass(n, k*h*w, r*int(p.OH)*int(p.OW), func(n int) cuda.WinoParams {
		return cuda.NewWinoParams(n, k, h, w, r, padH, padW, m)
	})
}

// phasePass is the stride-2 3x3 conv of n images of c channels h0 x w0 into
// o channels by phases, or with dgrad its input gradient.
func phasePass(n, c, h0, w0, o, pad int, dgrad bool) *winoPass {
	p := cuda.NewWinoPhaseParams(n, c, h0, w0, o, pad, false)
	in, out := c*h0*w0, o*int(p.OH)*int(p.OW)
	if dgrad {
		in, out = out, in
	}
	return newWinoPass(n, in, out, func(n int) cuda.WinoParams {
		return cuda.NewWinoPhaseParams(n, c, h0, w0, o, pad, dgrad)
	})
}

func (wp *winoPass) free() {
	g := theGPU()
	g.free(wp.v)
	g.free(wp.out)
}

func (wp *winoPass) entry(kind string) string { return "wino_" + kind + "_f32" }

// chunks calls f with each chunk's first image and parameters.
func (wp *winoPass) chunks(f func(n0 int, p cuda.WinoParams)) {
	for n0 := 0; n0 < wp.n; n0 += wp.per {
		f(n0, wp.params(min(wp.per, wp.n-n0)))
	}
}

// input transforms the chunk's images of x (scaled per image and channel by
// inScale when set) into V.
func (wp *winoPass) input(p cuda.WinoParams, n0 int, x, inScale *Tensor) {
	theGPU().launch("winograd.cu", wp.entry("input"), cuda.D1(cuda.CeilDiv(int(p.K)*int(p.Tiles), 256)), cuda.D1(256), 0,
		p, ptrAt(x, n0*wp.inImage), ptrAt(inScale, n0*int(p.K)), wp.v.ptr)
}

// weights transforms w into a new buffer U (free it after the pass).
func (wp *winoPass) weights(w *Tensor, dgrad bool) *Storage {
	g := theGPU()
	r, k := int(wp.all.R), int(wp.all.K)
	u := g.allocUntracked(wp.all.Points() * r * k)
	g.launch("winograd.cu", wp.entry("weight"), cuda.D1(cuda.CeilDiv(r*k, 256)), cuda.D1(256), 0,
		wp.all, b2i(dgrad), w.ptr(), u.ptr)
	return u
}

// forward runs the pass's GEMMs and output transform after weights (u),
// writing y with the epilogue e.
func (wp *winoPass) forward(x *Tensor, u *Storage, e winoEpilogue, y *Tensor) {
	g := theGPU()
	wp.chunks(func(n0 int, p cuda.WinoParams) {
		wp.input(p, n0, x, e.inScale)
		gp, plan := cuda.PlanWinogradGemm(p)
		g.sgemm(plan, gp, u.ptr, wp.v.ptr, wp.out.ptr)
		r := int(p.R)
		g.launch("winograd.cu", wp.entry("output"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, wp.out.ptr, ptrAt(e.outScale, n0*r), ptrOrNull(e.bias), ptrAt(e.noise, n0*e.noiseNStride), ptrOrNull(e.gain),
			int32(e.noiseNStride), e.beta, ptrAt(y, n0*wp.outImage), ptrAt(e.z, n0*wp.outImage))
	})
}

// wgrad runs the weight gradient's transforms and GEMMs (x the pass's
// input, dy its output's gradient) and writes dw.
func (wp *winoPass) wgrad(x, dy, dw *Tensor) {
	g := theGPU()
	r, k := int(wp.all.R), int(wp.all.K)
	z := g.allocUntracked(wp.all.Points() * r * k)
	defer g.free(z)
	wp.chunks(func(n0 int, p cuda.WinoParams) {
		wp.input(p, n0, x, nil)
		g.launch("winograd.cu", wp.entry("dy"), cuda.D1(cuda.CeilDiv(r*int(p.Tiles), 256)), cuda.D1(256), 0,
			p, ptrAt(dy, n0*wp.outImage), wp.out.ptr)
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		gp, plan := cuda.PlanWinogradWgradGemm(p, beta)
		g.sgemm(plan, gp, wp.out.ptr, wp.v.ptr, z.ptr)
	})
	g.launch("winograd.cu", wp.entry("wgrad"), cuda.D1(cuda.CeilDiv(r*k, 256)), cuda.D1(256), 0,
		wp.all, z.ptr, dw.ptr())
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// winogradConv writes into y the stride-1 3x3 conv of x ([N, K, H, W],
// contiguous) with padding (padH, padW) and R output channels. w is the
// forward's weight [R, K, 3, 3], or with dgrad the weight [K, R, 3, 3] of the
// conv whose input gradient this is (x is then dy).
func winogradConv(path winoPath, x, w *Tensor, dgrad bool, r, padH, padW int, e winoEpilogue, y *Tensor) {
	wp := stride1Pass(path, x.shape[0], x.shape[1], x.shape[2], x.shape[3], r, padH, padW)
	defer wp.free()
	u := wp.weights(w, dgrad)
	defer theGPU().free(u)
	wp.forward(x, u, e, y)
}

// winogradWgrad writes into dw ([R, K, 3, 3]) the weight gradient of the
// stride-1 3x3 conv of x ([N, K, H, W]) with padding (padH, padW), given dy
// ([N, R, OH, OW]), both contiguous: the adjoint of winogradConv, its GEMMs
// summing over the tiles (chunks of images accumulate into Z).
func winogradWgrad(path winoPath, x, dy *Tensor, padH, padW int, dw *Tensor) {
	wp := stride1Pass(path, x.shape[0], x.shape[1], x.shape[2], x.shape[3], dy.shape[1], padH, padW)
	defer wp.free()
	wp.wgrad(x, dy, dw)
}

// The stride-2 3x3 convs by phases, for the conv g (contiguous operands):
// the forward of x with w into y (plus bias), its input gradient dx from
// dy, and its weight gradient dw.
func winogradPhaseConv(g cpu.ConvGeom, x, w, bias, y *Tensor) {
	wp := phasePass(g.N, g.Cin, g.H, g.W, g.Cout, g.PH, false)
	defer wp.free()
	u := wp.weights(w, false)
	defer theGPU().free(u)
	wp.forward(x, u, winoEpilogue{bias: bias}, y)
}

func winogradPhaseDgrad(g cpu.ConvGeom, dy, w, dx *Tensor) {
	wp := phasePass(g.N, g.Cin, g.H, g.W, g.Cout, g.PH, true)
	defer wp.free()
	u := wp.weights(w, true)
	defer theGPU().free(u)
	wp.forward(dy, u, winoEpilogue{}, dx)
}

func winogradPhaseWgrad(g cpu.ConvGeom, x, dy, dw *Tensor) {
	wp := phasePass(g.N, g.Cin, g.H, g.W, g.Cout, g.PH, false)
	defer wp.free()
	wp.wgrad(x, dy, dw)
}
