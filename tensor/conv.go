package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Conv2dParams are the hyper-parameters of torch.nn.functional.conv2d, per
// axis. Zero values mean the defaults: stride 1, padding 0, dilation 1,
// groups 1.
type Conv2dParams struct {
	StrideH, StrideW     int
	PadH, PadW           int
	DilationH, DilationW int
	Groups               int
}

// normalized replaces zero (unset) fields by their defaults.
func (p Conv2dParams) normalized() Conv2dParams {
	one := func(v *int) {
		if *v == 0 {
			*v = 1
		}
	}
	one(&p.StrideH)
	one(&p.StrideW)
	one(&p.DilationH)
	one(&p.DilationW)
	one(&p.Groups)
	return p
}

func (p Conv2dParams) validate(op string) {
	switch {
	case p.StrideH < 1 || p.StrideW < 1:
		panic(fmt.Sprintf("tensor.%s: stride must be positive, got (%d, %d)", op, p.StrideH, p.StrideW))
	case p.PadH < 0 || p.PadW < 0:
		panic(fmt.Sprintf("tensor.%s: padding must be non-negative, got (%d, %d)", op, p.PadH, p.PadW))
	case p.DilationH < 1 || p.DilationW < 1:
		panic(fmt.Sprintf("tensor.%s: dilation must be positive, got (%d, %d)", op, p.DilationH, p.DilationW))
	case p.Groups < 1:
		panic(fmt.Sprintf("tensor.%s: groups must be positive, got %d", op, p.Groups))
	}
}

// convOutSize is the number of window positions along one axis.
func convOutSize(in, k, stride, pad, dil int) int {
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

func require4D(op, arg string, shape []int) {
	if len(shape) != 4 {
		panic(fmt.Sprintf("tensor.%s: %s must be 4-D, got shape %v", op, arg, shape))
	}
}

// convGeom validates the shapes of a convolution of an input of xShape with
// a weight of wShape and returns its geometry (output size included).
func convGeom(op, xArg string, xShape, wShape []int, p Conv2dParams) cpu.ConvGeom {
	p = p.normalized()
	p.validate(op)
	require4D(op, xArg, xShape)
	require4D(op, "weight", wShape)
	g := cpu.ConvGeom{N: xShape[0], Cin: xShape[1], H: xShape[2], W: xShape[3], Cout: wShape[0],
		KH: wShape[2], KW: wShape[3], SH: p.StrideH, SW: p.StrideW, PH: p.PadH, PW: p.PadW,
		DH: p.DilationH, DW: p.DilationW, Groups: p.Groups}
	if g.Cin%g.Groups != 0 {
		panic(fmt.Sprintf("tensor.%s: %s channels %d not divisible by groups %d", op, xArg, g.Cin, g.Groups))
	}
	if g.Cout%g.Groups != 0 {
		panic(fmt.Sprintf("tensor.%s: weight output channels %d not divisible by groups %d", op, g.Cout, g.Groups))
	}
	if wShape[1]*g.Groups != g.Cin {
		panic(fmt.Sprintf("tensor.%s: weight %v expects %d %s channels (weight.shape[1]·groups), got %d",
			op, wShape, wShape[1]*g.Groups, xArg, g.Cin))
	}
	if g.KH < 1 || g.KW < 1 {
		panic(fmt.Sprintf("tensor.%s: weight kernel size must be positive, got %v", op, wShape))
	}
	g.OH = convOutSize(g.H, g.KH, g.SH, g.PH, g.DH)
	g.OW = convOutSize(g.W, g.KW, g.SW, g.PW, g.DW)
	if g.OH < 1 || g.OW < 1 {
		panic(fmt.Sprintf("tensor.%s: output size (%d, %d) < 1 for %s %v, weight %v, %+v",
			op, g.OH, g.OW, xArg, xShape, wShape, p))
	}
	return g
}

func requireShape(op, arg string, got, want []int) {
	if !SameShape(got, want) {
		panic(fmt.Sprintf("tensor.%s: %s has shape %v, want %v", op, arg, got, want))
	}
}

// contiguousData returns the elements of a contiguous copy of t (t itself if already so).
func contiguousData(t *Tensor) []float32 { return t.Contiguous().Data() }

// Conv2d is torch.nn.functional.conv2d (cross-correlation):
// y[n,o,i,j] = bias[o] + Σ_{c,ky,kx} x[n, g(o)·Cin/G + c, i·s − p + ky·d, j·s − p + kx·d] · w[o,c,ky,kx],
// with x [N, Cin, H, W], w [Cout, Cin/groups, kh, kw], bias [Cout] or nil.
func Conv2d(x, w, bias *Tensor, p Conv2dParams) *Tensor {
	if dispatchCUDA("Conv2d", x, w, bias) {
		return cudaConv2d(x, w, bias, p)
	}
	g := convGeom("Conv2d", "x", x.shape, w.shape, p)
	var b []float32
	if bias != nil {
		requireShape("Conv2d", "bias", bias.shape, []int{g.Cout})
		b = contiguousData(bias)
	}
	y := Empty(g.N, g.Cout, g.OH, g.OW)
	cpu.Conv2dForward(g, contiguousData(x), contiguousData(w), b, y.storage.data)
	return y
}

// Conv2dInputGrad is the gradient of ⟨Conv2d(x, w), gy⟩ with respect to x of
// shape inShape: the transposed convolution of gy by w.
func Conv2dInputGrad(gy, w *Tensor, inShape []int, p Conv2dParams) *Tensor {
	if dispatchCUDA("Conv2dInputGrad", gy, w) {
		return cudaConv2dInputGrad(gy, w, inShape, p)
	}
	g := convGeom("Conv2dInputGrad", "inShape", inShape, w.shape, p)
	requireShape("Conv2dInputGrad", "gy", gy.shape, []int{g.N, g.Cout, g.OH, g.OW})
	gx := Empty(inShape...)
	cpu.Conv2dInputGrad(g, contiguousData(gy), contiguousData(w), gx.storage.data)
	return gx
}

// Conv2dWeightGrad is the gradient of ⟨Conv2d(x, w), gy⟩ with respect to w of
// shape wShape: gw[o,c,ky,kx] = Σ_{n,i,j} gy[n,o,i,j] · x[n, g(o)·Cin/G + c, i·s − p + ky·d, j·s − p + kx·d].
func Conv2dWeightGrad(x, gy *Tensor, wShape []int, p Conv2dParams) *Tensor {
	if dispatchCUDA("Conv2dWeightGrad", x, gy) {
		return cudaConv2dWeightGrad(x, gy, wShape, p)
	}
	g := convGeom("Conv2dWeightGrad", "x", x.shape, wShape, p)
	requireShape("Conv2dWeightGrad", "gy", gy.shape, []int{g.N, g.Cout, g.OH, g.OW})
	gw := Empty(wShape...)
	cpu.Conv2dWeightGrad(g, contiguousData(x), contiguousData(gy), gw.storage.data)
	return gw
}
