package cpu

// The direct loops below are the obviously-right definition of the three
// convolution kernels, in float64, one output element (or one scattered input
// contribution) at a time. They are far too slow for use; tests check the
// im2col+GEMM kernels and every faster variant against them.

// convTap returns the input index an output position reads through a tap, and
// whether it lies inside the (unpadded) input.
func convTap(o, stride, pad, tap, in int) (int, bool) {
	i := o*stride - pad + tap
	return i, i >= 0 && i < in
}

// Conv2dDirect computes y = conv2d(x, w) + bias (bias may be nil).
func Conv2dDirect(g ConvGeom, x, w, bias, y []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Cout; o++ {
			gi := o / og
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					var s float64
					if bias != nil {
						s = float64(bias[o])
					}
					for c := 0; c < cg; c++ {
						for ky := 0; ky < g.KH; ky++ {
							iy, okY := convTap(oy, g.SH, g.PH, ky*g.DH, g.H)
							for kx := 0; kx < g.KW; kx++ {
								ix, okX := convTap(ox, g.SW, g.PW, kx*g.DW, g.W)
								if !okY || !okX {
									continue
								}
								xv := x[((n*g.Cin+gi*cg+c)*g.H+iy)*g.W+ix]
								wv := w[((o*cg+c)*g.KH+ky)*g.KW+kx]
								s += float64(xv) * float64(wv)
							}
						}
					}
					y[((n*g.Cout+o)*g.OH+oy)*g.OW+ox] = float32(s)
				}
			}
		}
	}
}

// conv2dDirectVisit calls f(xIndex, wIndex, yIndex) for every multiply of the
// convolution, the shared skeleton of the two gradient loops.
func conv2dDirectVisit(g ConvGeom, f func(xi, wi, yi int)) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Cout; o++ {
			gi := o / og
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					yi := ((n*g.Cout+o)*g.OH+oy)*g.OW + ox
					for c := 0; c < cg; c++ {
						for ky := 0; ky < g.KH; ky++ {
							iy, okY := convTap(oy, g.SH, g.PH, ky*g.DH, g.H)
							for kx := 0; kx < g.KW; kx++ {
								ix, okX := convTap(ox, g.SW, g.PW, kx*g.DW, g.W)
								if okY && okX {
									f(((n*g.Cin+gi*cg+c)*g.H+iy)*g.W+ix, ((o*cg+c)*g.KH+ky)*g.KW+kx, yi)
								}
							}
						}
					}
				}
			}
		}
	}
}

// Conv2dInputGradDirect computes gx[i] = Σ gy[y]·w[t] over every multiply
// x[i]·w[t] that contributes to y.
func Conv2dInputGradDirect(g ConvGeom, gy, w, gx []float32) {
	acc := make([]float64, g.N*g.Cin*g.H*g.W)
	conv2dDirectVisit(g, func(xi, wi, yi int) { acc[xi] += float64(gy[yi]) * float64(w[wi]) })
	for i, v := range acc {
		gx[i] = float32(v)
	}
}

// Conv2dWeightGradDirect computes gw[t] = Σ gy[y]·x[i] over every multiply
// x[i]·w[t] that contributes to y.
func Conv2dWeightGradDirect(g ConvGeom, x, gy, gw []float32) {
	acc := make([]float64, g.Cout*(g.Cin/g.Groups)*g.KH*g.KW)
	conv2dDirectVisit(g, func(xi, wi, yi int) { acc[wi] += float64(gy[yi]) * float64(x[xi]) })
	for i, v := range acc {
		gw[i] = float32(v)
	}
}
