package tensor

import (
	"sync/atomic"

	"fmt"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// StyleGAN2's fused ops on the GPU: bias_act.cu and upfirdn2d.cu.

// biasActCodes is bias_act.cu's activation numbering (the reference's).
var biasActCodes = map[string]int32{
	"linear": cuda.ActLinear, "relu": cuda.ActRelu, "lrelu": cuda.ActLrelu, "tanh": cuda.ActTanh,
	"sigmoid": cuda.ActSigmoid, "elu": cuda.ActElu, "selu": cuda.ActSelu, "softplus": cuda.ActSoftplus,
	"swish": cuda.ActSwish,
}

// biasActKernelParams validates like the host op and fills the kernel's
// parameters for x of n elements.
func biasActKernelParams(op string, x, b *Tensor, p BiasActParams, grad int32) cuda.BiasActParams {
	c := biasActConfig(op, x, b, p)
	require32(op, x)
	kp := cuda.BiasActParams{Act: biasActCodes[p.Act], Grad: grad, Alpha: c.Alpha, Gain: c.Gain, Clamp: c.Clamp,
		SizeX: int32(x.Numel()), SizeB: 1, StepB: 1}
	if b != nil {
		kp.SizeB, kp.StepB = int32(c.Channels), int32(max(c.Inner, 1))
	}
	return kp
}

func biasActLaunch(kp cuda.BiasActParams, x, b, xref, yref, dy, y cuda.DevicePtr) {
	g := theGPU()
	n := int64(kp.SizeX)
	if n == 0 {
		return
	}
	g.launch("bias_act.cu", "bias_act_f32", g.grid1((n+3)/4), cuda.D1(256), 0, kp, x, b, xref, yref, dy, y)
}

func cudaBiasAct(x, b *Tensor, p BiasActParams) *Tensor {
	x, b = onGPU(x), onGPU(b)
	kp := biasActKernelParams("tensor.BiasAct", x, b, p, 0)
	xc, fx := contiguousOnGPU(x)
	defer fx()
	bc, fb := contiguousOnGPU(b)
	defer fb()
	out := emptyCUDA(x.shape...)
	biasActLaunch(kp, xc.ptr(), ptrOrNull(bc), 0, 0, 0, out.ptr())
	return out
}

// cudaBiasActGrad is one pass of bias_act.cu's grad = 3 mode, which reads
// only dy, x and b and follows the host op's masks.
func cudaBiasActGrad(dy, x, b *Tensor, p BiasActParams) *Tensor {
	dy, x, b = onGPU(dy), onGPU(x), onGPU(b)
	kp := biasActKernelParams("tensor.BiasActGrad", x, b, p, 3)
	if !SameShape(dy.shape, x.shape) {
		panic(fmt.Sprintf("tensor.BiasActGrad: dy has shape %v, x has %v", dy.shape, x.shape))
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	bc, fb := contiguousOnGPU(b)
	defer fb()
	dyc, fdy := contiguousOnGPU(dy)
	defer fdy()
	out := emptyCUDA(x.shape...)
	biasActLaunch(kp, dyc.ptr(), ptrOrNull(bc), xc.ptr(), 0, 0, out.ptr())
	return out
}

func cudaUpfirdn2d(x, f *Tensor, p Upfirdn2dParams) *Tensor {
	x, f = onGPU(x), onGPU(f)
	c := upfirdn2dConfig("tensor.Upfirdn2d", x, f, p)
	oh, ow := c.OutSize()
	out := emptyCUDA(x.shape[0], x.shape[1], oh, ow)
	if out.Numel() == 0 {
		return out
	}
	xc, fx := contiguousOnGPU(x)
	defer fx()
	fc, ff := contiguousOnGPU(f)
	defer ff()
	require32("Upfirdn2d", xc, out)
	flip := int32(0)
	if c.FlipFilter {
		flip = 1
	}
	base := cuda.UpfirdnParams{Major: int32(c.Planes), InH: int32(c.InH), InW: int32(c.InW), Flip: flip}
	if !c.Separable {
		kp := base
		kp.OutH, kp.OutW = int32(oh), int32(ow)
		kp.UpX, kp.UpY, kp.DownX, kp.DownY = int32(c.UpX), int32(c.UpY), int32(c.DownX), int32(c.DownY)
		kp.PadX0, kp.PadX1, kp.PadY0, kp.PadY1 = int32(c.PadX0), int32(c.PadX1), int32(c.PadY0), int32(c.PadY1)
		kp.FH, kp.FW, kp.Gain = int32(c.FilterH), int32(c.FilterW), c.Gain
		upfirdnLaunch(kp, xc.ptr(), fc.ptr(), out.ptr())
		return out
	}
	// Separable: along width into [planes, InH, ow], then along height; the
	// 1-D filter is the [1, taps] and then the [taps, 1] filter.
	g := theGPU()
	tmp := g.alloc(c.Planes * c.InH * ow)
	defer g.free(tmp)
	w := base
	w.OutH, w.OutW = int32(c.InH), int32(ow)
	w.UpX, w.UpY, w.DownX, w.DownY = int32(c.UpX), 1, int32(c.DownX), 1
	w.PadX0, w.PadX1 = int32(c.PadX0), int32(c.PadX1)
	w.FH, w.FW, w.Gain = 1, int32(c.FilterW), c.Gain
	upfirdnLaunch(w, xc.ptr(), fc.ptr(), tmp.ptr)
	h := base
	h.InW = int32(ow)
	h.OutH, h.OutW = int32(oh), int32(ow)
	h.UpX, h.UpY, h.DownX, h.DownY = 1, int32(c.UpY), 1, int32(c.DownY)
	h.PadY0, h.PadY1 = int32(c.PadY0), int32(c.PadY1)
	h.FH, h.FW, h.Gain = int32(c.FilterH), 1, 1
	upfirdnLaunch(h, tmp.ptr, fc.ptr(), out.ptr())
	return out
}

// upfirdnTiled, when set, sends the 4x4 upfirdn2d cases to the shared-memory
// tile kernels instead of the row-streaming ones (tests: see
// SetCUDAUpfirdnTiled).
var upfirdnTiled atomic.Bool

// SetCUDAUpfirdnTiled makes the GPU's 4x4 upfirdn2d cases (up 2, down 2,
// filter) run on the shared-memory tile kernels rather than the row-streaming
// ones, so that checks cover both; it returns the previous setting.
// LAFITE_CUDA_UPFIRDN=tiled does the same for a whole process.
func SetCUDAUpfirdnTiled(on bool) bool { return upfirdnTiled.Swap(on) }

// upfirdnLaunch runs one upfirdn2d pass. Where a 4x4 case has both a
// row-streaming and a shared-tile kernel, the forced one runs
// (SetCUDAUpfirdnTiled, LAFITE_CUDA_UPFIRDN=tiled), else the autotuner's
// choice for the shape (streaming when it is off).
func upfirdnLaunch(kp cuda.UpfirdnParams, x, f, y cuda.DevicePtr) {
	g := theGPU()
	forced := g.upfirdnTiled || upfirdnTiled.Load()
	plans := []cuda.LaunchPlan{cuda.PlanUpfirdn2dKind(kp, g.props.MaxSharedOptin, g.props.SMs, forced)}
	if !forced {
		if t := cuda.PlanUpfirdn2dKind(kp, g.props.MaxSharedOptin, g.props.SMs, true); t.Entry != plans[0].Entry {
			plans = append(plans, t)
		}
	}
	names := make([]string, len(plans))
	for i, pl := range plans {
		names[i] = pl.Entry
	}
	shape := fmt.Sprintf("planes %d %dx%d -> %dx%d up %d,%d down %d,%d pad %d,%d,%d,%d filter %dx%d",
		kp.Major, kp.InH, kp.InW, kp.OutH, kp.OutW, kp.UpX, kp.UpY, kp.DownX, kp.DownY,
		kp.PadX0, kp.PadX1, kp.PadY0, kp.PadY1, kp.FH, kp.FW)
	i := g.choose("upfirdn2d", shape, names, 0, func(i int) { g.plan(plans[i], kp, x, f, y) }, rawCUDAView(y, []int{int(kp.Major), int(kp.OutH), int(kp.OutW)}, nil))
	g.plan(plans[i], kp, x, f, y)
}

// cudaDemod is Demod as modulate.cu's two kernels: wsq[o,i] = Σ_k w[o,i,k]²
// (the weight read once), then d[n,o] = rsqrt(Σ_i s[n,i]²·wsq[o,i] + eps).
func cudaDemod(weight, styles *Tensor, eps float32) *Tensor {
	weight, styles = onGPU(weight), onGPU(styles)
	n, o, in, kk := styles.Size(0), weight.Size(0), weight.Size(1), weight.Size(2)*weight.Size(3)
	require32("Demod", weight)
	out := emptyCUDA(n, o)
	if out.Numel() == 0 {
		return out
	}
	wc, fw := contiguousOnGPU(weight)
	defer fw()
	sc, fs := contiguousOnGPU(styles)
	defer fs()
	g := theGPU()
	wsq := g.allocUntracked(o * in)
	defer g.free(wsq)
	g.launch("modulate.cu", "modconv_wsq_f32", cuda.D1(cuda.CeilDiv(o*in, 256)), cuda.D1(256), 0,
		int32(o), int32(in), int32(kk), wc.ptr(), wsq.ptr)
	g.launch("modulate.cu", "modconv_demod_f32", cuda.D1(cuda.CeilDiv(n*o, 8)), cuda.D1(256), 0,
		int32(n), int32(o), int32(in), eps, sc.ptr(), wsq.ptr, out.ptr())
	return out
}

// cudaModulatedWeights is ModulatedWeights as one grid-stride pass
// (modconv_weight_f32): one write per output element; the weight, styles and
// d it reads are N times smaller and stay in L2.
func cudaModulatedWeights(weight, styles, d *Tensor) *Tensor {
	weight, styles, d = onGPU(weight), onGPU(styles), onGPU(d)
	n, o, in, kh, kw := styles.Size(0), weight.Size(0), weight.Size(1), weight.Size(2), weight.Size(3)
	require32("ModulatedWeights", weight)
	out := emptyCUDA(n, o, in, kh, kw)
	if out.Numel() == 0 {
		return out
	}
	wc, fw := contiguousOnGPU(weight)
	defer fw()
	sc, fs := contiguousOnGPU(styles)
	defer fs()
	dc, fd := contiguousOnGPU(d)
	defer fd()
	g := theGPU()
	g.launch("modulate.cu", "modconv_weight_f32", g.grid1(int64(out.Numel())), cuda.D1(256), 0,
		int32(n), int32(o), int32(in), int32(kh*kw), wc.ptr(), sc.ptr(), ptrOrNull(dc), out.ptr())
	return out
}
