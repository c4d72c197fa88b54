package tensor

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// Convolutions on the GPU: conv2d.cu's implicit-GEMM kernels on contiguous
// NCHW operands.

func convParams(g cpu.ConvGeom) cuda.ConvParams {
	return cuda.ConvParams{N: int32(g.N), C: int32(g.Cin), H: int32(g.H), W: int32(g.W),
		O: int32(g.Cout), KH: int32(g.KH), KW: int32(g.KW), Groups: int32(g.Groups), OH: int32(g.OH), OW: int32(g.OW),
		StrideH: int32(g.SH), StrideW: int32(g.SW), PadH: int32(g.PH), PadW: int32(g.PW), DilH: int32(g.DH), DilW: int32(g.DW)}
}

// contiguousOnGPU returns t or a contiguous copy and the function that frees
// the copy.
func contiguousOnGPU(t *Tensor) (*Tensor, func()) {
	if t == nil || t.IsContiguous() {
		return t, func() {}
	}
	c := t.Contiguous()
	return c, func() { theGPU().free(c.storage) }
}

func cudaConv2d(x, w, bias *Tensor, p Conv2dParams) *Tensor {
	x, w, bias = onGPU(x), onGPU(w), onGPU(bias)
	g := convGeom("Conv2d", "x", x.shape, w.shape, p)
	if bias != nil {
		requireShape("Conv2d", "bias", bias.shape, []int{g.Cout})
	}
	y := emptyCUDA(g.N, g.Cout, g.OH, g.OW)
	if y.Numel() == 0 {
		return y
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	wc, fw := contiguousOnGPU(w)
	defer fw()
	bc, fb := contiguousOnGPU(bias)
	defer fb()
	require32("Conv2d", xc, wc, y)
	runConv(cuda.ConvForward, g, g.Cin, g.Cout, g.N*g.OH*g.OW, y, func(a convAlgo) {
		switch a.path {
		case winoPhase:
			winogradPhaseConv(g, xc, wc, bc, y)
		case winoF2, winoF4:
			winogradConv(a.path, xc, wc, false, g.Cout, g.PH, g.PW, winoEpilogue{bias: bc}, y)
		default:
			gpu := theGPU()
			cp := convParams(g)
			plan, _ := planConv(cuda.ConvForward, cp, gpu.props.SMs, a.tile)
			gpu.plan(plan, cp, xc.ptr(), wc.ptr(), ptrOrNull(bc), y.ptr(), float32(0))
		}
	})
	return y
}

func cudaConv2dInputGrad(gy, w *Tensor, inShape []int, p Conv2dParams) *Tensor {
	gy, w = onGPU(gy), onGPU(w)
	g := convGeom("Conv2dInputGrad", "inShape", inShape, w.shape, p)
	requireShape("Conv2dInputGrad", "gy", gy.shape, []int{g.N, g.Cout, g.OH, g.OW})
	gx := emptyCUDA(inShape...)
	convDgrad(g, gy, w, gx)
	return gx
}

// convDgrad writes the input gradient of the convolution g into dx.
func convDgrad(g cpu.ConvGeom, dy, w, dx *Tensor) {
	if dx.Numel() == 0 {
		return
	}
	if dy.Numel() == 0 || w.Numel() == 0 {
		cudaFill(dx, 0)
		return
	}
	dyc, fdy := contiguousOnGPU(dy)
	defer fdy()
	wc, fw := contiguousOnGPU(w)
	defer fw()
	require32("Conv2dInputGrad", dyc, wc, dx)
	runConv(cuda.ConvInputGrad, g, g.Cout, g.Cin, g.N*g.H*g.W, dx, func(a convAlgo) {
		switch a.path {
		case winoPhase:
			winogradPhaseDgrad(g, dyc, wc, dx)
		case winoF2, winoF4:
			// The input gradient of a stride-1 3x3 conv is the conv of dy with
			// the rotated, transposed filter and padding 2 - pad.
			winogradConv(a.path, dyc, wc, true, g.Cin, 2-g.PH, 2-g.PW, winoEpilogue{}, dx)
		default:
			gpu := theGPU()
			cp := convParams(g)
			plan, _ := planConv(cuda.ConvInputGrad, cp, gpu.props.SMs, a.tile)
			gpu.plan(plan, cp, dyc.ptr(), wc.ptr(), dx.ptr(), float32(0))
		}
	})
}

func cudaConv2dWeightGrad(x, gy *Tensor, wShape []int, p Conv2dParams) *Tensor {
	x, gy = onGPU(x), onGPU(gy)
	g := convGeom("Conv2dWeightGrad", "x", x.shape, wShape, p)
	requireShape("Conv2dWeightGrad", "gy", gy.shape, []int{g.N, g.Cout, g.OH, g.OW})
	gw := emptyCUDA(wShape...)
	if gw.Numel() == 0 {
		return gw
	}
	if gy.Numel() == 0 {
		cudaFill(gw, 0)
		return gw
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	gyc, fgy := contiguousOnGPU(gy)
	defer fgy()
	require32("Conv2dWeightGrad", xc, gyc, gw)
	runConv(cuda.ConvWeightGrad, g, g.Cin, g.Cout, g.N*g.OH*g.OW, gw, func(a convAlgo) {
		switch a.path {
		case winoPhase:
			winogradPhaseWgrad(g, xc, gyc, gw)
		case winoF2, winoF4:
			winogradWgrad(a.path, xc, gyc, g.PH, g.PW, gw)
		default:
			cudaFill(gw, 0) // the kernel accumulates split-K partial sums atomically
			gpu := theGPU()
			cp := convParams(g)
			plan, kSplit := planConv(cuda.ConvWeightGrad, cp, gpu.props.SMs, a.tile)
			gpu.plan(plan, cp, kSplit, xc.ptr(), gyc.ptr(), gw.ptr())
		}
	})
	return gw
}

// cudaConvTranspose2d runs the transposed convolution as the input gradient
// of the convolution it is the adjoint of, then adds the bias.
func cudaConvTranspose2d(x, w, bias *Tensor, p ConvTranspose2dParams) *Tensor {
	x, w, bias = onGPU(x), onGPU(w), onGPU(bias)
	outShape := ConvTranspose2dShape(x.shape, w.shape, p)
	g := convGeom("ConvTranspose2d", "output", outShape, w.shape, p.Conv2d())
	y := emptyCUDA(outShape...)
	convDgrad(g, x, w, y)
	if bias == nil {
		return y
	}
	requireShape("ConvTranspose2d", "bias", bias.shape, []int{outShape[1]})
	yb := Add(y, bias.Reshape(1, outShape[1], 1, 1))
	theGPU().free(y.storage)
	return yb
}

// cudaModConv2d runs ModConv2d as conv2d_modfwd_f32: the input scale in the
// kernel's prologue, the output scale and the noise in its epilogue.
func cudaModConv2d(x, w *Tensor, o ModConv2dOptions, g cpu.ConvGeom) (y, conv *Tensor) {
	x, w = onGPU(x), onGPU(w)
	sIn, sOut, noise, gain := onGPU(o.InScale), onGPU(o.OutScale), onGPU(o.Noise), onGPU(o.NoiseStrength)
	y = emptyCUDA(g.N, g.Cout, g.OH, g.OW)
	keep := o.KeepConv && (sOut != nil || noise != nil)
	if keep {
		conv = emptyCUDA(g.N, g.Cout, g.OH, g.OW)
	} else if o.KeepConv {
		conv = y
	}
	if y.Numel() == 0 {
		return y, conv
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	wc, fw := contiguousOnGPU(w)
	defer fw()
	sic, fsi := contiguousOnGPU(sIn)
	defer fsi()
	soc, fso := contiguousOnGPU(sOut)
	defer fso()
	// The kernel reads noise as [N or 1, 1, OH, OW]; other broadcasts (along
	// H or W) are expanded here.
	var nStride int32
	if noise != nil {
		n4 := append(make([]int, 0, 4), noise.shape...)
		for len(n4) < 4 {
			n4 = append([]int{1}, n4...)
		}
		if n4[1] != 1 || n4[2] != g.OH || n4[3] != g.OW {
			e := noise.Reshape(n4...).Expand(g.N, 1, g.OH, g.OW).Contiguous()
			if e.storage != noise.storage {
				defer theGPU().free(e.storage)
			}
			noise, n4 = e, []int{g.N, 1, g.OH, g.OW}
		}
		if n4[0] > 1 {
			nStride = int32(g.OH * g.OW)
		}
	}
	nc, fn := contiguousOnGPU(noise)
	defer fn()
	require32("ModConv2d", xc, wc, y)
	var z *Tensor
	if keep {
		z = conv
	}
	runConv(cuda.ConvModForward, g, g.Cin, g.Cout, g.N*g.OH*g.OW, y, func(a convAlgo) {
		if a.path == winoF2 || a.path == winoF4 {
			winogradConv(a.path, xc, wc, false, g.Cout, g.PH, g.PW, winoEpilogue{inScale: sic, outScale: soc, noise: nc, gain: gain,
				z: z, noiseNStride: int(nStride)}, y)
			return
		}
		gpu := theGPU()
		cp := convParams(g)
		plan, _ := planConv(cuda.ConvModForward, cp, gpu.props.SMs, a.tile)
		gpu.plan(plan, cp, xc.ptr(), wc.ptr(), ptrOrNull(sic), ptrOrNull(soc), ptrOrNull(nc), ptrOrNull(gain), nStride, y.ptr(), ptrOrNull(z))
	})
	return y, conv
}

// convTile, when not 0, forces the conv kernels' output tile (tests: see
// SetCUDAConvTile); 0 lets cuda.PlanConv2d choose.
var convTile atomic.Int32

// SetCUDAConvTile forces the GPU conv kernels' output tile (cuda.ConvTile64
// or cuda.ConvTile128: the direct kernels everywhere), or with
// cuda.ConvWinograd2 or 4 that Winograd path wherever the geometry allows it
// (3x3, stride 1, no dilation, one group); 0 restores the planner's choice.
// Checks use it to run every kernel on small shapes. It returns the previous
// setting.
func SetCUDAConvTile(tile int) int { return int(convTile.Swap(int32(tile))) }

// planConv plans a direct conv kernel: with tile 64 or 128 (an autotuning
// candidate) that tile, otherwise the tile tests force or the planner's
// choice.
func planConv(kind int, p cuda.ConvParams, sms, tile int) (cuda.LaunchPlan, int32) {
	if tile == 0 {
		tile = int(convTile.Load())
	}
	if tile == cuda.ConvTile64 || tile == cuda.ConvTile128 {
		return cuda.PlanConv2dTile(kind, p, sms, tile)
	}
	return cuda.PlanConv2d(kind, p, sms)
}

// convAlgo is one way to run a convolution: a Winograd path, or the direct
// kernels with an output tile (0: the planner's choice).
type convAlgo struct {
	path winoPath
	tile int
}

func (a convAlgo) String() string {
	switch a.path {
	case winoF2:
		return "winograd2"
	case winoF4:
		return "winograd4"
	case winoPhase:
		return "winograd-phases"
	}
	switch a.tile {
	case cuda.ConvTile64:
		return "direct64"
	case cuda.ConvTile128:
		return "direct128"
	}
	// The planner's choice; listed as a candidate only for strided input
	// gradients, where it is conv2d_dgrad_phase128_f32.
	return "dgrad-phase-classes"
}

// convKindNames name the conv kinds in autotuning reports.
var convKindNames = [...]string{cuda.ConvForward: "conv forward", cuda.ConvInputGrad: "conv input grad",
	cuda.ConvWeightGrad: "conv weight grad", cuda.ConvModForward: "modconv forward"}

// convCandidates lists the ways the conv g of the given kind can run (in
// and out channels, outPixels output pixels over all images, as
// winogradPath takes them) and which one the rules pick. Forced settings
// leave only that one.
func convCandidates(kind int, g cpu.ConvGeom, in, out, outPixels int) (algos []convAlgo, fallback int) {
	rule := convAlgo{path: winogradPath(g, in, out, outPixels)}
	if kind == cuda.ConvModForward && rule.path == winoPhase {
		rule = convAlgo{} // the fused modulated conv has no phase path: the planner's direct tile
	}
	if convTile.Load() != 0 || theGPU().winogradForced {
		return []convAlgo{rule}, 0
	}
	if kind == cuda.ConvInputGrad && (g.SH > 1 || g.SW > 1) && g.DH == 1 && g.DW == 1 && !cuda.PhaseDgradOff() {
		algos = append(algos, convAlgo{}) // the planner's phase-class kernel
	}
	algos = append(algos, convAlgo{tile: cuda.ConvTile64}, convAlgo{tile: cuda.ConvTile128})
	// Winograd's GEMMs need some channels to pay for the transforms.
	if stride1, ok := winogradGeometry(g); ok && in >= 32 && out >= 32 {
		switch {
		case stride1:
			algos = append(algos, convAlgo{path: winoF2}, convAlgo{path: winoF4})
		case kind != cuda.ConvModForward:
			algos = append(algos, convAlgo{path: winoPhase})
		}
	}
	if rule.path == winoDirect {
		// The planner's direct choice is one of the listed tiles (or the
		// phase-class kernel, listed first).
		p, _ := planConv(kind, convParams(g), theGPU().props.SMs, 0)
		for i, a := range algos {
			if a.path == winoDirect {
				q, _ := planConv(kind, convParams(g), theGPU().props.SMs, a.tile)
				if q.Entry == p.Entry {
					return algos, i
				}
			}
		}
	}
	return algos, max(0, slices.Index(algos, rule))
}

// runConv runs the conv g of the given kind with run, by the algorithm the
// autotuner (or, with it off, the rules) picks; result is what run writes.
func runConv(kind int, g cpu.ConvGeom, in, out, outPixels int, result *Tensor, run func(convAlgo)) {
	algos, fallback := convCandidates(kind, g, in, out, outPixels)
	names := make([]string, len(algos))
	for i, a := range algos {
		names[i] = a.String()
	}
	shape := fmt.Sprintf("N%d C%d %dx%d -> O%d %dx%d k%dx%d s%d,%d p%d,%d d%d,%d g%d",
		g.N, g.Cin, g.H, g.W, g.Cout, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.Groups)
	i := theGPU().choose(convKindNames[kind], shape, names, fallback, func(i int) { run(algos[i]) }, result)
	run(algos[i])
}
