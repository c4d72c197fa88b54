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

// norm validates r (0 and 1 both mean none for Up, Down and Groups) and
// returns it with those defaults filled in.
func (r Resample) norm(op string) Resample {
	for _, a := range []struct {
		name string
		v    int
	}{{"Up", r.Up}, {"Down", r.Down}, {"Groups", r.Groups}} {
		if a.v < 0 {
			panic(fmt.Sprintf("%s: Resample.%s = %d must be >= 0 (0 or 1: none)", op, a.name, a.v))
		}
	}
	if r.Filter != nil && r.Filter.Dim() != 1 && r.Filter.Dim() != 2 {
		panic(fmt.Sprintf("%s: Resample.Filter must be 1-D (separable) or 2-D, has shape %v", op, r.Filter.Shape()))
	}
	r.Up, r.Down, r.Groups = max(r.Up, 1), max(r.Down, 1), max(r.Groups, 1)
	return r
}

// OutSize is the output height and width of Conv2dResample for an input of
// h×w and a kh×kw kernel: per axis ⌊(n·up + p0 + p1 − k + 1) / down⌋, the
// size of the reference's generic path (upsample and pad, FIR filter,
// convolve, FIR filter and downsample), which every fast path keeps.
func (r Resample) OutSize(h, w, kh, kw int) (oh, ow int) {
	r = r.norm("nn.Resample.OutSize")
	axis := func(n, k, p0, p1 int) int {
		l := n*r.Up + p0 + p1 - k + 1
		if l < 0 { // floor division
			return (l - r.Down + 1) / r.Down
		}
		return l / r.Down
	}
	return axis(h, kh, r.Pad[2], r.Pad[3]), axis(w, kw, r.Pad[0], r.Pad[1])
}

// padding is the upfirdn2d padding [x0, x1, y0, y1] of the reference's
// conv2d_resample: the caller's Pad plus what upsample2d and downsample2d
// add for the filter, so that the filter's delay is compensated.
func (r Resample) padding(f *tensor.Tensor) [4]int {
	p := r.Pad
	add := func(q [4]int) {
		for i := range p {
			p[i] += q[i]
		}
	}
	if r.Up > 1 {
		add(tensor.Upsample2dParams(f, r.Up, nil, false, 1).Pad)
	}
	if r.Down > 1 {
		add(tensor.Downsample2dParams(f, r.Down, nil, false, 1).Pad)
	}
	return p
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

// Conv2dResample is StyleGAN2's conv2d_resample: with x [N,Cin,H,W] and w
// [Cout,Cin/groups,kh,kw], y = down_D(FIR(conv(FIR(pad(up_U(x))), w))) — x
// upsampled by zero insertion, padded, FIR-filtered, convolved, filtered and
// subsampled, of size OutSize. It takes the reference's fast paths (1x1 down:
// filter then conv; 1x1 up: conv then filter; down: filter then strided conv;
// up: transposed strided conv then filter; otherwise plain conv2d). The FIR
// steps run on tensor.Upfirdn2d (kernels/cpu/upfirdn2d_ref.go), the
// convolutions on tensor.Conv2d / ConvTranspose2d (kernels/cpu/conv_ref.go).
func Conv2dResample(x, w *autograd.Var, r Resample) *autograd.Var {
	const op = "nn.Conv2dResample"
	r = r.norm(op)
	ws := w.Shape()
	if len(ws) != 4 {
		panic(fmt.Sprintf("%s: weight w must be [Cout,Cin/groups,kh,kw], got %v", op, ws))
	}
	if x.Dim() != 4 || x.Size(1) != ws[1]*r.Groups {
		panic(fmt.Sprintf("%s: x %v does not match weight w %v with %d groups (x must be [N, %d, H, W])", op, x.Shape(), ws, r.Groups, ws[1]*r.Groups))
	}
	if ws[0]%r.Groups != 0 {
		panic(fmt.Sprintf("%s: weight w %v has %d output channels, not divisible by Groups %d", op, ws, ws[0], r.Groups))
	}
	outC, inPerGroup, kh, kw := ws[0], ws[1], ws[2], ws[3]
	if oh, ow := r.OutSize(x.Size(2), x.Size(3), kh, kw); oh < 1 || ow < 1 {
		panic(fmt.Sprintf("%s: output size %dx%d < 1: x %v is too small for weight w %v with Up %d, Down %d and Pad %v",
			op, oh, ow, x.Shape(), ws, r.Up, r.Down, r.Pad))
	}
	pad := r.padding(identityFilter(r.Filter))
	px0, px1, py0, py1 := pad[0], pad[1], pad[2], pad[3]
	fir := func(x *autograd.Var, up, down int, pad [4]int, gain float32) *autograd.Var {
		return autograd.Upfirdn2d(x, identityFilter(r.Filter), tensor.Upfirdn2dParams{UpX: up, UpY: up, DownX: down, DownY: down, Pad: pad, FlipFilter: r.FlipFilter, Gain: gain})
	}
	padOnly := func(x *autograd.Var, pad [4]int) *autograd.Var { // the reference passes no filter here
		return autograd.Upfirdn2d(x, tensor.Ones(1, 1), tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, Pad: pad, Gain: 1})
	}
	upGain := float32(r.Up * r.Up)
	// then applies step to t, an intermediate made here, and in inference
	// (NoGrad) hands t back to the buffer pool: every step makes a new tensor.
	then := func(t *autograd.Var, step func(*autograd.Var) *autograd.Var) *autograd.Var {
		y := step(t)
		autograd.FreeNoGrad(t)
		return y
	}
	switch {
	case kw == 1 && kh == 1 && r.Down > 1 && r.Up == 1:
		return then(fir(x, 1, r.Down, [4]int{px0, px1, py0, py1}, 1), func(t *autograd.Var) *autograd.Var {
			return conv2dWrapped(t, w, 1, 0, 0, r.Groups, false, r.FlipWeight)
		})
	case kw == 1 && kh == 1 && r.Up > 1 && r.Down == 1:
		return then(conv2dWrapped(x, w, 1, 0, 0, r.Groups, false, r.FlipWeight), func(t *autograd.Var) *autograd.Var {
			return fir(t, r.Up, 1, [4]int{px0, px1, py0, py1}, upGain)
		})
	case r.Down > 1 && r.Up == 1:
		return then(fir(x, 1, 1, [4]int{px0, px1, py0, py1}, 1), func(t *autograd.Var) *autograd.Var {
			return conv2dWrapped(t, w, r.Down, 0, 0, r.Groups, false, r.FlipWeight)
		})
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
		x = then(conv2dWrapped(x, w, r.Up, pyt, pxt, r.Groups, true, !r.FlipWeight), func(t *autograd.Var) *autograd.Var {
			return fir(t, 1, 1, [4]int{px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt}, upGain)
		})
		if r.Down > 1 {
			x = then(x, func(t *autograd.Var) *autograd.Var { return fir(t, 1, r.Down, [4]int{}, 1) })
		}
		return x
	case px0 == px1 && py0 == py1 && px0 >= 0 && py0 >= 0:
		return conv2dWrapped(x, w, 1, py0, px0, r.Groups, false, r.FlipWeight)
	}
	// General case (no resampling, uneven or negative padding): pad with
	// upfirdn2d, then a valid convolution.
	return then(padOnly(x, [4]int{px0, px1, py0, py1}), func(t *autograd.Var) *autograd.Var {
		return conv2dWrapped(t, w, 1, 0, 0, r.Groups, false, r.FlipWeight)
	})
}
