package tensor

import (
	"fmt"
	"math"
)

// SetupFilter prepares a FIR filter for Upfirdn2d as the reference's
// setup_filter: f (nil means [1]; 0-, 1- or 2-D) is separable by default when
// it is 1-D with at least 8 taps; a non-separable 1-D filter becomes its outer
// product f⊗f. Then f/Σf when normalize, reversed on every axis when flip,
// and ·gain^(ndim/2) (so a separable filter carries √gain per axis).
func SetupFilter(f *Tensor, normalize, flip bool, gain float32, separable *bool) *Tensor {
	if f != nil && dispatchCUDA("SetupFilter", f) {
		return cudaSetupFilter(f, normalize, flip, gain, separable)
	}
	if f == nil {
		f = Ones(1)
	}
	if f.Numel() == 0 {
		panic(fmt.Sprintf("tensor.SetupFilter: filter f of shape %v is empty", f.shape))
	}
	switch f.Dim() {
	case 0:
		f = f.Reshape(1)
	case 1, 2:
	default:
		panic(fmt.Sprintf("tensor.SetupFilter: filter f must be 0-, 1- or 2-D, has shape %v", f.shape))
	}
	sep := f.Dim() == 1 && f.Numel() >= 8
	if separable != nil {
		sep = *separable
	}
	if sep && f.Dim() != 1 {
		panic(fmt.Sprintf("tensor.SetupFilter: separable needs a 1-D filter f, has shape %v", f.shape))
	}
	if f.Dim() == 1 && !sep {
		n := f.shape[0]
		f = Mul(f.Reshape(n, 1), f.Reshape(1, n))
	}
	if normalize {
		f = Div(f, Sum(f, nil, false))
	}
	if flip {
		f = reverseAllAxes(f)
	}
	scale := gain // 2-D: gain^(2/2)
	if f.Dim() == 1 {
		scale = float32(math.Sqrt(float64(gain)))
	}
	return MulScalar(f, scale)
}

// SetupFilterTaps is SetupFilter with the defaults of the StyleGAN2 layers:
// normalised, not flipped, gain 1, separable from 8 taps.
func SetupFilterTaps(taps ...float32) *Tensor {
	return SetupFilter(New(taps, len(taps)), true, false, 1, nil)
}

// reverseAllAxes returns a contiguous copy of f (1-D or 2-D) reversed on each axis.
func reverseAllAxes(f *Tensor) *Tensor {
	src := f.ToSlice()
	out := Empty(f.shape...)
	d := out.storage.data
	for i, v := range src {
		d[len(src)-1-i] = v // reversing the row-major order reverses every axis
	}
	return out
}
