package tensor

import "fmt"

// CropWindow is a rectangle of the last two dims: rows Top..Top+H-1,
// columns Left..Left+W-1.
type CropWindow struct{ Top, Left, H, W int }

// CropResizeBicubic is InterpolateBicubic of the window win of x [..., Hx, Wx],
// to [..., outH, outW]: clip.TrainTransform's random crop and resize in one
// op. The result equals InterpolateBicubic(x.Narrow(-2, ...).Narrow(-1, ...))
// bit for bit on the CPU. Why an op of its own: on the GPU every buffer it
// and its adjoint allocate has a size fixed by x and the output, whatever
// the window, so that a training step with a fresh random crop each time
// allocates no device memory after the first (the crop-sized buffers of
// the composed form would each be new sizes to the caching allocator).
func CropResizeBicubic(x *Tensor, win CropWindow, outH, outW int) *Tensor {
	checkCropWindow("CropResizeBicubic", x.shape, win)
	checkResize("CropResizeBicubic", "x", x, "out", outH, outW)
	if dispatchCUDA("CropResizeBicubic", x) {
		return cudaCropResizeBicubic(x, win, outH, outW)
	}
	nd := len(x.shape)
	return InterpolateBicubic(x.Narrow(nd-2, win.Top, win.H).Narrow(nd-1, win.Left, win.W), outH, outW)
}

// CropResizeBicubicBackward is the adjoint of CropResizeBicubic: g
// [..., outH, outW] to [..., inH, inW], zero outside the window.
func CropResizeBicubicBackward(g *Tensor, inH, inW int, win CropWindow) *Tensor {
	checkResize("CropResizeBicubicBackward", "g", g, "in", inH, inW)
	shape := append(cloneInts(g.shape[:len(g.shape)-2]), inH, inW)
	checkCropWindow("CropResizeBicubicBackward", shape, win)
	if dispatchCUDA("CropResizeBicubicBackward", g) {
		return cudaCropResizeBicubicAdjoint(g, shape, win)
	}
	d := InterpolateBicubicBackward(g, win.H, win.W)
	return Pad(d, []int{win.Left, inW - win.Left - win.W, win.Top, inH - win.Top - win.H}, 0)
}

func checkCropWindow(op string, shape []int, win CropWindow) {
	nd := len(shape)
	if nd < 2 {
		panic(fmt.Sprintf("tensor.%s: shape %v needs at least 2 dims [..., H, W]", op, shape))
	}
	h, w := shape[nd-2], shape[nd-1]
	if win.H < 1 || win.W < 1 || win.Top < 0 || win.Left < 0 || win.Top+win.H > h || win.Left+win.W > w {
		panic(fmt.Sprintf("tensor.%s: window %+v is not a non-empty part of %d x %d", op, win, h, w))
	}
}
