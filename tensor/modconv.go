package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// ModConv2dOptions are the optional operands of ModConv2d; nil means absent.
type ModConv2dOptions struct {
	Params        Conv2dParams
	InScale       *Tensor // [N, C]: x[n,c,·,·] is multiplied by InScale[n,c] (StyleGAN2's styles)
	OutScale      *Tensor // [N, O]: the convolution's [n,o,·,·] by OutScale[n,o] (demodulation)
	Noise         *Tensor // broadcastable to [N, 1, OH, OW]: added last
	NoiseStrength *Tensor // one element: Noise's factor (nil: 1)
	// KeepConv also returns conv(x·InScale, w), the value before OutScale
	// and Noise, which the gradient with respect to OutScale needs.
	KeepConv bool
}

// ModConv2d is the non-fused training path of StyleGAN2's modulated
// convolution as one op:
//
//	conv = Conv2d(x · InScale[:,:,None,None], w)
//	y    = conv · OutScale[:,:,None,None] + Noise · NoiseStrength
//
// with x [N,C,H,W] and w [O,C/groups,kh,kw] as for Conv2d (no bias). On the
// CUDA device it is one implicit-GEMM kernel (conv2d.cu's conv2d_modfwd_f32:
// the input scale applied as the input tiles are loaded, the output scale and
// the noise in the epilogue), so x·InScale and the unscaled convolution never
// reach memory unless KeepConv asks for the latter. On the CPU it is that
// sequence of ops (Mul, Conv2d, Mul, Mul, Add), bit-identical to running
// them one by one. conv is nil unless KeepConv (and then y itself when there
// is neither OutScale nor Noise).
func ModConv2d(x, w *Tensor, o ModConv2dOptions) (y, conv *Tensor) {
	const op = "ModConv2d"
	if dispatchCUDA(op, x, w, o.InScale, o.OutScale, o.Noise, o.NoiseStrength) {
		g := modConvGeom(x, w, o)
		return cudaModConv2d(x, w, o, g)
	}
	g := modConvGeom(x, w, o)
	xs := x
	if o.InScale != nil {
		xs = Mul(x, o.InScale.Reshape(g.N, g.Cin, 1, 1))
	}
	z := Conv2d(xs, w, nil, o.Params)
	y = z
	if o.OutScale != nil {
		y = Mul(z, o.OutScale.Reshape(g.N, g.Cout, 1, 1))
	}
	if o.Noise != nil {
		nz := o.Noise
		if o.NoiseStrength != nil {
			nz = Mul(nz, o.NoiseStrength)
		}
		y = Add(y, nz)
	}
	if o.KeepConv {
		conv = z
	}
	return y, conv
}

// modConvGeom validates ModConv2d's operands and returns the convolution's
// geometry.
func modConvGeom(x, w *Tensor, o ModConv2dOptions) cpu.ConvGeom {
	const op = "ModConv2d"
	g := convGeom(op, "x", x.shape, w.shape, o.Params)
	if o.InScale != nil {
		requireShape(op, "InScale", o.InScale.shape, []int{g.N, g.Cin})
	}
	if o.OutScale != nil {
		requireShape(op, "OutScale", o.OutScale.shape, []int{g.N, g.Cout})
	}
	if o.NoiseStrength != nil && o.NoiseStrength.Numel() != 1 {
		panic(fmt.Sprintf("tensor.%s: NoiseStrength must have one element, has shape %v", op, o.NoiseStrength.shape))
	}
	if o.NoiseStrength != nil && o.Noise == nil {
		panic(fmt.Sprintf("tensor.%s: NoiseStrength without Noise", op))
	}
	if o.Noise != nil {
		want := []int{g.N, 1, g.OH, g.OW}
		sh := o.Noise.shape
		if o.NoiseStrength != nil {
			if b, err := BroadcastShapes(sh, o.NoiseStrength.shape); err == nil {
				sh = b
			}
		}
		if b, err := BroadcastShapes(sh, want); err != nil || !SameShape(b, want) {
			panic(fmt.Sprintf("tensor.%s: Noise %v (times NoiseStrength) does not broadcast to [N, 1, OH, OW] = %v", op, o.Noise.shape, want))
		}
	}
	return g
}
