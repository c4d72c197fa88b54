package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Upfirdn2dParams configures Upfirdn2d. Up and down factors must be >= 1;
// Pad is [x0, x1, y0, y1] on the upsampled grid (negative values crop).
// FlipFilter false is true convolution with the filter, true is correlation.
type Upfirdn2dParams struct {
	UpX, UpY, DownX, DownY int
	Pad                    [4]int
	FlipFilter             bool
	Gain                   float32
}

// Upfirdn2dPadding expands the reference's padding argument: none means 0, one
// value p means [p, p, p, p], a pair [px, py] means [px, px, py, py], four
// values are [x0, x1, y0, y1].
func Upfirdn2dPadding(p ...int) [4]int {
	switch len(p) {
	case 0:
		return [4]int{}
	case 1:
		return [4]int{p[0], p[0], p[0], p[0]}
	case 2:
		return [4]int{p[0], p[0], p[1], p[1]}
	case 4:
		return [4]int{p[0], p[1], p[2], p[3]}
	}
	panic(fmt.Sprintf("tensor.Upfirdn2dPadding: padding %v must have 1, 2 or 4 values", p))
}

// FilterSize returns a FIR filter's width and height: a 1-D (separable)
// filter of n taps is n×n, a 2-D filter is [fh, fw].
func FilterSize(f *Tensor) (fw, fh int) {
	switch f.Dim() {
	case 1:
		return f.shape[0], f.shape[0]
	case 2:
		return f.shape[1], f.shape[0]
	}
	panic(fmt.Sprintf("tensor: FIR filter f must be 1-D (separable) or 2-D, has shape %v", f.shape))
}

// upfirdn2dConfig validates the arguments (panicking with the argument's
// name) and returns the kernel configuration.
func upfirdn2dConfig(op string, x, f *Tensor, p Upfirdn2dParams) cpu.Upfirdn2dConfig {
	if x.Dim() != 4 {
		panic(fmt.Sprintf("%s: x must be [N, C, H, W], has shape %v", op, x.shape))
	}
	if f == nil {
		panic(fmt.Sprintf("%s: filter f is nil (use a [1, 1] filter of ones for none)", op))
	}
	if f.Dim() != 1 && f.Dim() != 2 {
		panic(fmt.Sprintf("%s: filter f must be 1-D (separable) or 2-D, has shape %v", op, f.shape))
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"UpX", p.UpX}, {"UpY", p.UpY}, {"DownX", p.DownX}, {"DownY", p.DownY}} {
		if s.v < 1 {
			panic(fmt.Sprintf("%s: %s = %d must be >= 1", op, s.name, s.v))
		}
	}
	fw, fh := FilterSize(f)
	if fw < 1 || fh < 1 {
		panic(fmt.Sprintf("%s: filter f of shape %v is empty", op, f.shape))
	}
	c := cpu.Upfirdn2dConfig{
		Planes: x.shape[0] * x.shape[1], InH: x.shape[2], InW: x.shape[3],
		UpX: p.UpX, UpY: p.UpY, DownX: p.DownX, DownY: p.DownY,
		PadX0: p.Pad[0], PadX1: p.Pad[1], PadY0: p.Pad[2], PadY1: p.Pad[3],
		FilterH: fh, FilterW: fw, Separable: f.Dim() == 1, FlipFilter: p.FlipFilter, Gain: p.Gain,
	}
	pw, ph := c.InW*c.UpX+c.PadX0+c.PadX1, c.InH*c.UpY+c.PadY0+c.PadY1
	if pw < fw || ph < fh {
		panic(fmt.Sprintf("%s: filter f (%dx%d, h×w) is larger than the upsampled, padded input (%dx%d) of x %v with Up (%d, %d) and Pad %v: the output would be empty",
			op, fh, fw, ph, pw, x.shape, p.UpY, p.UpX, p.Pad))
	}
	return c
}

// Upfirdn2d upsamples x [N, C, H, W] by zero insertion, pads, applies the FIR
// filter f and downsamples, per channel: per axis
// y[o] = gain·Σ_k xu[o·down + k − p0]·f[taps−1−k] (f[k] when FlipFilter).
// A 1-D f is applied along width then height; a 2-D f is [fh, fw]. Kernel:
// cpu.Upfirdn2d (polyphase reference kernels/cpu/upfirdn2d_ref.go, float32
// variant kernels/cpu/upfirdn2d_fast.go).
func Upfirdn2d(x, f *Tensor, p Upfirdn2dParams) *Tensor {
	if dispatchCUDA("Upfirdn2d", x, f) {
		return cudaUpfirdn2d(x, f, p)
	}
	c := upfirdn2dConfig("tensor.Upfirdn2d", x, f, p)
	oh, ow := c.OutSize()
	out := Empty(x.shape[0], x.shape[1], oh, ow)
	cpu.Upfirdn2d(out.storage.data, x.Contiguous().Data(), f.Contiguous().Data(), c)
	return out
}

// Upfirdn2dOutSize returns the output height and width of Upfirdn2d.
func Upfirdn2dOutSize(x, f *Tensor, p Upfirdn2dParams) (h, w int) {
	return upfirdn2dConfig("tensor.Upfirdn2dOutSize", x, f, p).OutSize()
}

// Adjoint returns the parameters of the transpose of Upfirdn2d(·, f, p) for an
// input of height inH and width inW: up and down swapped, the flip negated,
// the same gain, and per axis the padding [taps − p0 − 1,
// in·up − out·down + p0 − up + 1], so that its output is [inH, inW] again.
// Since the gradient is the same operation, every order of it works.
func (p Upfirdn2dParams) Adjoint(f *Tensor, inH, inW int) Upfirdn2dParams {
	fw, fh := FilterSize(f)
	outH := cpu.Upfirdn2dOutSize(inH, p.UpY, p.DownY, p.Pad[2], p.Pad[3], fh)
	outW := cpu.Upfirdn2dOutSize(inW, p.UpX, p.DownX, p.Pad[0], p.Pad[1], fw)
	return Upfirdn2dParams{
		UpX: p.DownX, UpY: p.DownY, DownX: p.UpX, DownY: p.UpY,
		Pad: [4]int{
			fw - p.Pad[0] - 1, inW*p.UpX - outW*p.DownX + p.Pad[0] - p.UpX + 1,
			fh - p.Pad[2] - 1, inH*p.UpY - outH*p.DownY + p.Pad[2] - p.UpY + 1,
		},
		FlipFilter: !p.FlipFilter,
		Gain:       p.Gain,
	}
}

// Filter2dParams are the Upfirdn2d parameters of Filter2d: the user padding
// plus [fw/2, (fw−1)/2, fh/2, (fh−1)/2], so that pad 0 keeps the size.
func Filter2dParams(f *Tensor, pad []int, flip bool, gain float32) Upfirdn2dParams {
	fw, fh := FilterSize(f)
	p := Upfirdn2dPadding(pad...)
	return Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, FlipFilter: flip, Gain: gain,
		Pad: [4]int{p[0] + cpu.FloorDiv(fw, 2), p[1] + cpu.FloorDiv(fw-1, 2), p[2] + cpu.FloorDiv(fh, 2), p[3] + cpu.FloorDiv(fh-1, 2)}}
}

// Upsample2dParams are the Upfirdn2d parameters of Upsample2d: the user
// padding plus [(fw+up−1)//2, (fw−up)//2, …] and gain·up² (zero insertion
// leaves 1/up² of the energy).
func Upsample2dParams(f *Tensor, up int, pad []int, flip bool, gain float32) Upfirdn2dParams {
	if up < 1 {
		panic(fmt.Sprintf("tensor.Upsample2d: up = %d must be >= 1", up))
	}
	fw, fh := FilterSize(f)
	p := Upfirdn2dPadding(pad...)
	return Upfirdn2dParams{UpX: up, UpY: up, DownX: 1, DownY: 1, FlipFilter: flip, Gain: gain * float32(up*up),
		Pad: [4]int{
			p[0] + cpu.FloorDiv(fw+up-1, 2), p[1] + cpu.FloorDiv(fw-up, 2),
			p[2] + cpu.FloorDiv(fh+up-1, 2), p[3] + cpu.FloorDiv(fh-up, 2),
		}}
}

// Downsample2dParams are the Upfirdn2d parameters of Downsample2d: the user
// padding plus [(fw−down+1)//2, (fw−down)//2, …].
func Downsample2dParams(f *Tensor, down int, pad []int, flip bool, gain float32) Upfirdn2dParams {
	if down < 1 {
		panic(fmt.Sprintf("tensor.Downsample2d: down = %d must be >= 1", down))
	}
	fw, fh := FilterSize(f)
	p := Upfirdn2dPadding(pad...)
	return Upfirdn2dParams{UpX: 1, UpY: 1, DownX: down, DownY: down, FlipFilter: flip, Gain: gain,
		Pad: [4]int{
			p[0] + cpu.FloorDiv(fw-down+1, 2), p[1] + cpu.FloorDiv(fw-down, 2),
			p[2] + cpu.FloorDiv(fh-down+1, 2), p[3] + cpu.FloorDiv(fh-down, 2),
		}}
}

// Filter2d filters x with f keeping its size (for pad 0): Upfirdn2d with
// Filter2dParams.
func Filter2d(x, f *Tensor, pad []int, flip bool, gain float32) *Tensor {
	return Upfirdn2d(x, f, Filter2dParams(f, pad, flip, gain))
}

// Upsample2d upsamples x by up with the FIR filter f: size ·up for pad 0.
func Upsample2d(x, f *Tensor, up int, pad []int, flip bool, gain float32) *Tensor {
	return Upfirdn2d(x, f, Upsample2dParams(f, up, pad, flip, gain))
}

// Downsample2d filters x with f and keeps every down-th sample.
func Downsample2d(x, f *Tensor, down int, pad []int, flip bool, gain float32) *Tensor {
	return Upfirdn2d(x, f, Downsample2dParams(f, down, pad, flip, gain))
}
