package tensor

import "github.com/lafite-go/lafite/kernels/cpu"

// MaxPool2d is torch.nn.functional.max_pool2d with ceil_mode false and no
// dilation: y[n,c,i,j] is the maximum of the window starting at (i·sh − ph,
// j·sw − pw), padding never chosen. Inference only: the Inception network
// of the FID has it, nothing trained here does.
func MaxPool2d(x *Tensor, kh, kw, sh, sw, ph, pw int) *Tensor {
	if dispatchCUDA("MaxPool2d", x) {
		return cudaMaxPool2d(x, kh, kw, sh, sw, ph, pw)
	}
	g := poolGeom("MaxPool2d", "x", x.shape, kh, kw, sh, sw, ph, pw, false)
	y := Empty(x.shape[0], x.shape[1], g.OH, g.OW)
	cpu.MaxPool2d(g, contiguousData(x), y.storage.data)
	return y
}
