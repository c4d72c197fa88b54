package autograd

import "github.com/lafite-go/lafite/tensor"

// Upfirdn2d is the differentiable tensor.Upfirdn2d (upsample, pad, FIR
// filter, downsample) w.r.t. x; the filter f is a constant. Its gradient is
// Upfirdn2d of the output gradient with the adjoint parameters (up and down
// swapped, flip negated), the same op, so every order works. Kernel:
// cpu.Upfirdn2d (kernels/cpu/upfirdn2d_ref.go).
func Upfirdn2d(x *Var, f *tensor.Tensor, p tensor.Upfirdn2dParams) *Var {
	xs := x.Shape()
	y := tensor.Upfirdn2d(x.Value, f, p)
	return record("upfirdn2d", y, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Upfirdn2d(g, f, p.Adjoint(f, xs[2], xs[3]))}
	})
}

// Filter2d is the differentiable tensor.Filter2d (size-preserving FIR filter).
func Filter2d(x *Var, f *tensor.Tensor, pad []int, flip bool, gain float32) *Var {
	return Upfirdn2d(x, f, tensor.Filter2dParams(f, pad, flip, gain))
}

// Upsample2d is the differentiable tensor.Upsample2d (zero insertion, then the
// FIR filter with gain·up²).
func Upsample2d(x *Var, f *tensor.Tensor, up int, pad []int, flip bool, gain float32) *Var {
	return Upfirdn2d(x, f, tensor.Upsample2dParams(f, up, pad, flip, gain))
}

// Downsample2d is the differentiable tensor.Downsample2d (FIR filter, then
// every down-th sample).
func Downsample2d(x *Var, f *tensor.Tensor, down int, pad []int, flip bool, gain float32) *Var {
	return Upfirdn2d(x, f, tensor.Downsample2dParams(f, down, pad, flip, gain))
}
