package cpu

import "math"

// MaxPool2dRef takes the maximum of each window of x into y, the padding
// being -inf as in PyTorch's max_pool2d (so a window's maximum is over its
// in-bounds inputs; CountIncludePad plays no part). A NaN input wins its
// windows, as it does in PyTorch.
func MaxPool2dRef(g PoolGeom, x, y []float32) {
	ParallelFor(g.Planes, g.OH*g.OW*g.KH*g.KW, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := x[p*g.H*g.W : (p+1)*g.H*g.W]
			yp := y[p*g.OH*g.OW : (p+1)*g.OH*g.OW]
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					y0, y1, x0, x1, _ := g.window(oy, ox)
					m := float32(math.Inf(-1))
					for iy := y0; iy < y1; iy++ {
						for _, v := range xp[iy*g.W+x0 : iy*g.W+x1] {
							if v > m || v != v {
								m = v
							}
							if m != m {
								break
							}
						}
					}
					yp[oy*g.OW+ox] = m
				}
			}
		}
	})
}
