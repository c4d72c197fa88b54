package autograd

import "github.com/lafite-go/lafite/tensor"

// Resizing of the last two dims (NCHW) as F.interpolate(align_corners=False).
// Each op is linear: its gradient is the adjoint op, recorded with the forward
// resize as ITS gradient, so gradients of any order work.

// InterpolateBilinear resizes x [..., H, W] to [..., outH, outW] bilinearly.
func InterpolateBilinear(x *Var, outH, outW int) *Var {
	out := tensor.InterpolateBilinear(x.Value, outH, outW) // validates x
	h, w := x.Size(-2), x.Size(-1)
	return record("interpolate_bilinear", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{InterpolateBilinearBackward(g, h, w)}
	})
}

// InterpolateBilinearBackward is the adjoint of InterpolateBilinear, mapping
// g [..., outH, outW] back to [..., inH, inW].
func InterpolateBilinearBackward(g *Var, inH, inW int) *Var {
	out := tensor.InterpolateBilinearBackward(g.Value, inH, inW) // validates g
	oh, ow := g.Size(-2), g.Size(-1)
	return record("interpolate_bilinear_backward", out, []*Var{g}, func(gg *Var, _ []bool) []*Var {
		return []*Var{InterpolateBilinear(gg, oh, ow)}
	})
}

// InterpolateBicubic resizes x [..., H, W] to [..., outH, outW] with the
// Keys cubic kernel (A = −0.75), as PyTorch's bicubic mode.
func InterpolateBicubic(x *Var, outH, outW int) *Var {
	out := tensor.InterpolateBicubic(x.Value, outH, outW) // validates x
	h, w := x.Size(-2), x.Size(-1)
	return record("interpolate_bicubic", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{InterpolateBicubicBackward(g, h, w)}
	})
}

// InterpolateBicubicBackward is the adjoint of InterpolateBicubic.
func InterpolateBicubicBackward(g *Var, inH, inW int) *Var {
	out := tensor.InterpolateBicubicBackward(g.Value, inH, inW) // validates g
	oh, ow := g.Size(-2), g.Size(-1)
	return record("interpolate_bicubic_backward", out, []*Var{g}, func(gg *Var, _ []bool) []*Var {
		return []*Var{InterpolateBicubic(gg, oh, ow)}
	})
}

// CropResizeBicubic is InterpolateBicubic of the window win of x [..., H, W]
// (tensor.CropResizeBicubic: the same values as Narrow twice, then
// InterpolateBicubic, with buffers of window-independent sizes on the GPU).
func CropResizeBicubic(x *Var, win tensor.CropWindow, outH, outW int) *Var {
	out := tensor.CropResizeBicubic(x.Value, win, outH, outW) // validates x and win
	h, w := x.Size(-2), x.Size(-1)
	return record("crop_resize_bicubic", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{CropResizeBicubicBackward(g, h, w, win)}
	})
}

// CropResizeBicubicBackward is the adjoint of CropResizeBicubic, mapping g
// [..., outH, outW] to [..., inH, inW], zero outside the window.
func CropResizeBicubicBackward(g *Var, inH, inW int, win tensor.CropWindow) *Var {
	out := tensor.CropResizeBicubicBackward(g.Value, inH, inW, win) // validates g and win
	oh, ow := g.Size(-2), g.Size(-1)
	return record("crop_resize_bicubic_backward", out, []*Var{g}, func(gg *Var, _ []bool) []*Var {
		return []*Var{CropResizeBicubic(gg, win, oh, ow)}
	})
}
