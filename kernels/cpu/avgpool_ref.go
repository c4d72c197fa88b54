package cpu

// PoolGeom describes a 2-D pooling over Planes contiguous [H, W] planes (N·C
// of an NCHW tensor) into [OH, OW] planes. Window (oy, ox) covers rows
// oy·SH − PH … oy·SH − PH + KH − 1 (likewise columns).
type PoolGeom struct {
	Planes, H, W, OH, OW   int
	KH, KW, SH, SW, PH, PW int
	// CountIncludePad divides by the window size clipped to the padded input
	// (PyTorch's count_include_pad) rather than by the in-bounds count.
	CountIncludePad bool
}

// window returns the in-bounds rows [y0, y1), columns [x0, x1) of window
// (oy, ox) and the divisor, following PyTorch's avg_pool2d.
func (g PoolGeom) window(oy, ox int) (y0, y1, x0, x1 int, div float32) {
	y0, x0 = oy*g.SH-g.PH, ox*g.SW-g.PW
	y1, x1 = min(y0+g.KH, g.H+g.PH), min(x0+g.KW, g.W+g.PW)
	padded := (y1 - y0) * (x1 - x0)
	y0, x0 = max(y0, 0), max(x0, 0)
	y1, x1 = min(y1, g.H), min(x1, g.W)
	if g.CountIncludePad {
		return y0, y1, x0, x1, float32(padded)
	}
	return y0, y1, x0, x1, float32((y1 - y0) * (x1 - x0))
}

// reduceWindows sets each output of y to reduce over its window of x
// (the in-bounds rows [y0, y1) and columns [x0, x1) of a plane, and the
// average's divisor): the references' one loop.
func (g PoolGeom) reduceWindows(x, y []float32, reduce func(xp []float32, y0, y1, x0, x1 int, div float32) float32) {
	ParallelFor(g.Planes, g.OH*g.OW*g.KH*g.KW, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := x[p*g.H*g.W : (p+1)*g.H*g.W]
			yp := y[p*g.OH*g.OW : (p+1)*g.OH*g.OW]
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					y0, y1, x0, x1, div := g.window(oy, ox)
					yp[oy*g.OW+ox] = reduce(xp, y0, y1, x0, x1, div)
				}
			}
		}
	})
}

// AvgPool2dRef averages each window of x into y.
func AvgPool2dRef(g PoolGeom, x, y []float32) {
	g.reduceWindows(x, y, func(xp []float32, y0, y1, x0, x1 int, div float32) float32 {
		var s float32
		for iy := y0; iy < y1; iy++ {
			for _, v := range xp[iy*g.W+x0 : iy*g.W+x1] {
				s += v
			}
		}
		return s / div
	})
}

// AvgPool2dBackwardRef is the adjoint of AvgPool2dRef: every gy element is
// spread evenly (gy/divisor) over its window's in-bounds inputs. gx is
// overwritten.
func AvgPool2dBackwardRef(g PoolGeom, gy, gx []float32) {
	ParallelFor(g.Planes, g.OH*g.OW*g.KH*g.KW, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := gx[p*g.H*g.W : (p+1)*g.H*g.W]
			yp := gy[p*g.OH*g.OW : (p+1)*g.OH*g.OW]
			clear(xp)
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					y0, y1, x0, x1, div := g.window(oy, ox)
					v := yp[oy*g.OW+ox] / div
					for iy := y0; iy < y1; iy++ {
						row := xp[iy*g.W+x0 : iy*g.W+x1]
						for i := range row {
							row[i] += v
						}
					}
				}
			}
		}
	})
}

// AvgPool2d and AvgPool2dBackward are the dispatch points of the pooling
// kernels.
var (
	AvgPool2d         = avgPool2dSpans
	AvgPool2dBackward = AvgPool2dBackwardRef
	MaxPool2d         = maxPool2dSeparable
)
