package cpu

import "math"

// MaxPool2dRef takes the maximum of each window of x into y, the padding
// being -inf as in PyTorch's max_pool2d (so a window's maximum is over its
// in-bounds inputs; CountIncludePad plays no part). A NaN input wins its
// windows, as it does in PyTorch.
func MaxPool2dRef(g PoolGeom, x, y []float32) {
	g.reduceWindows(x, y, func(xp []float32, y0, y1, x0, x1 int, _ float32) float32 {
		m := float32(math.Inf(-1))
		for iy := y0; iy < y1; iy++ {
			for _, v := range xp[iy*g.W+x0 : iy*g.W+x1] {
				if v > m || v != v {
					m = v
				}
				if m != m {
					return m
				}
			}
		}
		return m
	})
}
