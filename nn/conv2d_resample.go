package nn

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Resample describes conv2d_resample's arguments besides x and w.
type Resample struct {
	Filter     *tensor.Tensor // FIR filter (from tensor.SetupFilter); nil means no filter (identity)
	Up, Down   int            // 0 or 1: none
	Pad        [4]int         // [x0, x1, y0, y1], relative to the upsampled image
	Groups     int            // 0 or 1: none
	FlipWeight bool           // true: correlation (what conv2d computes); false: true convolution
	FlipFilter bool
}

func (r Resample) norm() Resample {
	r.Up, r.Down, r.Groups = max(r.Up, 1), max(r.Down, 1), max(r.Groups, 1)
	return r
}

func filterSize(f *tensor.Tensor) (fw, fh int) {
	if f == nil {
		return 1, 1
	}
	switch f.Dim() {
	case 1:
		return f.Size(0), f.Size(0)
	case 2:
		return f.Size(1), f.Size(0)
	}
	panic(fmt.Sprintf("nn.Conv2dResample: Filter must be 1-D or 2-D, got shape %v", f.Shape()))
}

// identityFilter stands in for a nil filter where upfirdn2d needs one.
func identityFilter(f *tensor.Tensor) *tensor.Tensor {
	if f != nil {
		return f
	}
	return tensor.Ones(1, 1)
}

// conv2dWrapped is a plain or transposed conv2d, flipping the kernel first
// when the caller asked for true convolution.
func conv2dWrapped(x, w *autograd.Var, stride, padY, padX, groups int, transpose, flipWeight bool) *autograd.Var {
	if !flipWeight {
		w = autograd.Flip(w, 2, 3)
	}
	if transpose {
		return autograd.ConvTranspose2d(x, w, nil, tensor.ConvTranspose2dParams{StrideH: stride, StrideW: stride, PadH: padY, PadW: padX, Groups: groups})
	}
	return autograd.Conv2d(x, w, nil, tensor.Conv2dParams{StrideH: stride, StrideW: stride, PadH: padY, PadW: padX, Groups: groups})
}

// Conv2dResample is StyleGAN2's conv2d_resample: a 2-D convolution of x
// [N,Cin,H,W] with w [Cout,Cin/groups,kh,kw] combined with FIR up- or
// down-sampling, taking the reference's fast paths (1x1 down: filter then
// conv; 1x1 up: conv then filter; down: filter then strided conv; up:
// transposed strided conv then filter; otherwise plain conv2d). The FIR steps
// run on tensor.Upfirdn2d (kernels/cpu/upfirdn2d_ref.go), the convolutions on
// tensor.Conv2d / ConvTranspose2d (kernels/cpu/conv_ref.go).
func Conv2dResample(x, w *autograd.Var, r Resample) *autograd.Var {
	r = r.norm()
	ws := w.Shape()
	if len(ws) != 4 {
		panic(fmt.Sprintf("nn.Conv2dResample: weight must be [Cout,Cin/groups,kh,kw], got %v", ws))
	}
	if x.Dim() != 4 || x.Size(1) != ws[1]*r.Groups {
		panic(fmt.Sprintf("nn.Conv2dResample: x %v does not match weight %v with %d groups", x.Shape(), ws, r.Groups))
	}
	outC, inPerGroup, kh, kw := ws[0], ws[1], ws[2], ws[3]
	fw, fh := filterSize(r.Filter)
	px0, px1, py0, py1 := r.Pad[0], r.Pad[1], r.Pad[2], r.Pad[3]
	if r.Up > 1 {
		px0 += (fw + r.Up - 1) / 2
		px1 += (fw - r.Up) / 2
		py0 += (fh + r.Up - 1) / 2
		py1 += (fh - r.Up) / 2
	}
	if r.Down > 1 {
		px0 += (fw - r.Down + 1) / 2
		px1 += (fw - r.Down) / 2
		py0 += (fh - r.Down + 1) / 2
		py1 += (fh - r.Down) / 2
	}
	fir := func(x *autograd.Var, up, down int, pad [4]int, gain float32) *autograd.Var {
		return autograd.Upfirdn2d(x, identityFilter(r.Filter), tensor.Upfirdn2dParams{UpX: up, UpY: up, DownX: down, DownY: down, Pad: pad, FlipFilter: r.FlipFilter, Gain: gain})
	}
	padOnly := func(x *autograd.Var, pad [4]int) *autograd.Var { // the reference passes no filter here
		return autograd.Upfirdn2d(x, tensor.Ones(1, 1), tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, Pad: pad, Gain: 1})
	}
	upGain := float32(r.Up * r.Up)
	switch {
	case kw == 1 && kh == 1 && r.Down > 1 && r.Up == 1:
		x = fir(x, 1, r.Down, [4]int{px0, px1, py0, py1}, 1)
		return conv2dWrapped(x, w, 1, 0, 0, r.Groups, false, r.FlipWeight)
	case kw == 1 && kh == 1 && r.Up > 1 && r.Down == 1:
		x = conv2dWrapped(x, w, 1, 0, 0, r.Groups, false, r.FlipWeight)
		return fir(x, r.Up, 1, [4]int{px0, px1, py0, py1}, upGain)
	case r.Down > 1 && r.Up == 1:
		x = fir(x, 1, 1, [4]int{px0, px1, py0, py1}, 1)
		return conv2dWrapped(x, w, r.Down, 0, 0, r.Groups, false, r.FlipWeight)
	case r.Up > 1:
		// Transposed conv wants [Cin, Cout/groups, kh, kw]: regroup the weight.
		if r.Groups == 1 {
			w = autograd.Transpose(w, 0, 1)
		} else {
			w = autograd.Reshape(w, r.Groups, outC/r.Groups, inPerGroup, kh, kw)
			w = autograd.Transpose(w, 1, 2)
			w = autograd.Reshape(w, r.Groups*inPerGroup, outC/r.Groups, kh, kw)
		}
		px0 -= kw - 1
		px1 -= kw - r.Up
		py0 -= kh - 1
		py1 -= kh - r.Up
		pxt := max(min(-px0, -px1), 0)
		pyt := max(min(-py0, -py1), 0)
		x = conv2dWrapped(x, w, r.Up, pyt, pxt, r.Groups, true, !r.FlipWeight)
		x = fir(x, 1, 1, [4]int{px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt}, upGain)
		if r.Down > 1 {
			x = fir(x, 1, r.Down, [4]int{}, 1)
		}
		return x
	case px0 == px1 && py0 == py1 && px0 >= 0 && py0 >= 0:
		return conv2dWrapped(x, w, 1, py0, px0, r.Groups, false, r.FlipWeight)
	}
	// General case (no resampling, uneven or negative padding): pad with
	// upfirdn2d, then a valid convolution.
	x = padOnly(x, [4]int{px0, px1, py0, py1})
	return conv2dWrapped(x, w, 1, 0, 0, r.Groups, false, r.FlipWeight)
}
