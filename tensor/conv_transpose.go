package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// ConvTranspose2dParams are the hyper-parameters of
// torch.nn.functional.conv_transpose2d, per axis. Zero values mean stride 1,
// padding 0, output_padding 0, dilation 1, groups 1.
type ConvTranspose2dParams struct {
	StrideH, StrideW     int
	PadH, PadW           int
	OutPadH, OutPadW     int
	DilationH, DilationW int
	Groups               int
}

// Conv2d returns the parameters of the convolution this transposed
// convolution is the input-gradient of (output_padding only sizes the result).
func (p ConvTranspose2dParams) Conv2d() Conv2dParams {
	return Conv2dParams{StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW,
		DilationH: p.DilationH, DilationW: p.DilationW, Groups: p.Groups}.normalized()
}

// ConvTranspose2dShape returns the output shape of ConvTranspose2d for an
// input of xShape and a weight of wShape, panicking on impossible arguments.
func ConvTranspose2dShape(xShape, wShape []int, p ConvTranspose2dParams) []int {
	const op = "ConvTranspose2d"
	cp := p.Conv2d()
	cp.validate(op)
	require4D(op, "x", xShape)
	require4D(op, "weight", wShape)
	if p.OutPadH < 0 || p.OutPadW < 0 {
		panic(fmt.Sprintf("tensor.%s: output_padding must be non-negative, got (%d, %d)", op, p.OutPadH, p.OutPadW))
	}
	// PyTorch also allows output_padding < dilation; such rows are never read
	// by the matching convolution, which this implementation does not model.
	if p.OutPadH >= cp.StrideH || p.OutPadW >= cp.StrideW {
		panic(fmt.Sprintf("tensor.%s: output_padding (%d, %d) must be smaller than stride (%d, %d)",
			op, p.OutPadH, p.OutPadW, cp.StrideH, cp.StrideW))
	}
	if wShape[0] != xShape[1] {
		panic(fmt.Sprintf("tensor.%s: weight %v expects %d x channels (weight.shape[0]), got %d", op, wShape, wShape[0], xShape[1]))
	}
	if xShape[1]%cp.Groups != 0 {
		panic(fmt.Sprintf("tensor.%s: x channels %d not divisible by groups %d", op, xShape[1], cp.Groups))
	}
	size := func(in, k, s, pad, d, op int) int { return (in-1)*s - 2*pad + d*(k-1) + 1 + op }
	oh := size(xShape[2], wShape[2], cp.StrideH, cp.PadH, cp.DilationH, p.OutPadH)
	ow := size(xShape[3], wShape[3], cp.StrideW, cp.PadW, cp.DilationW, p.OutPadW)
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("tensor.%s: output size (%d, %d) < 1 for x %v, weight %v, %+v", op, oh, ow, xShape, wShape, p))
	}
	return []int{xShape[0], wShape[1] * cp.Groups, oh, ow}
}

// ConvTranspose2d is torch.nn.functional.conv_transpose2d: the adjoint of
// Conv2d with the same weight, y = Conv2dInputGrad(x, w) + bias, with x
// [N, Cin, H, W], w [Cin, Cout/groups, kh, kw], bias [Cout] or nil and
// output size (in−1)·stride − 2·pad + dil·(k−1) + 1 + output_padding.
func ConvTranspose2d(x, w, bias *Tensor, p ConvTranspose2dParams) *Tensor {
	if dispatchCUDA("ConvTranspose2d", x, w, bias) {
		return cudaConvTranspose2d(x, w, bias, p)
	}
	outShape := ConvTranspose2dShape(x.shape, w.shape, p)
	g := convGeom("ConvTranspose2d", "output", outShape, w.shape, p.Conv2d())
	y := Empty(outShape...)
	cpu.Conv2dInputGrad(g, contiguousData(x), contiguousData(w), y.storage.data)
	if bias != nil {
		requireShape("ConvTranspose2d", "bias", bias.shape, []int{outShape[1]})
		b := contiguousData(bias)
		plane := outShape[2] * outShape[3]
		yd := y.storage.data
		for nc := 0; nc < outShape[0]*outShape[1]; nc++ {
			bv := b[nc%outShape[1]]
			row := yd[nc*plane : (nc+1)*plane]
			for i := range row {
				row[i] += bv
			}
		}
	}
	return y
}
