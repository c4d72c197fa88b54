package tensor

// Ops without a GPU kernel yet: GPU inputs are copied to the host, computed
// there and the result copied back (see viaHost; counted by CUDAFallbacks).
// None of them sits on a StyleGAN2/Lafite training step's hot path.

func cudaAvgPool2dBackward(gy *Tensor, inShape []int, kh, kw, sh, sw, ph, pw int, countIncludePad bool) *Tensor {
	return viaHost("AvgPool2dBackward", func(h []*Tensor) *Tensor {
		return AvgPool2dBackward(h[0], inShape, kh, kw, sh, sw, ph, pw, countIncludePad)
	}, gy)
}

// cudaResize2d and cudaResize2dAdjoint serve bilinear resizing (bicubic has
// interpolate.cu: cuda_interpolate.go).
func cudaResize2d(op string, table tableFunc, x *Tensor, outH, outW int) *Tensor {
	return viaHost(op, func(h []*Tensor) *Tensor { return resize2d(op, table, h[0], outH, outW) }, x)
}

func cudaResize2dAdjoint(op string, table tableFunc, g *Tensor, inH, inW int) *Tensor {
	return viaHost(op, func(h []*Tensor) *Tensor { return resize2dAdjoint(op, table, h[0], inH, inW) }, g)
}

func cudaSetupFilter(f *Tensor, normalize, flip bool, gain float32, separable *bool) *Tensor {
	return viaHost("SetupFilter", func(h []*Tensor) *Tensor {
		return SetupFilter(h[0], normalize, flip, gain, separable)
	}, f)
}
