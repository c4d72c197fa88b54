package cpu

import "math"

// Faster pools for the Inception network of the FID, where the scalar
// references took a fifth of the time: each window's bounds are computed
// once per row and column instead of per output, and the max pool runs
// as two 1-D passes. The average sums each window in the reference's order
// (row by row, left to right, from zero), so both give the reference's
// bits.

// poolSpans gives, per output index along one axis, the clipped input
// range [lo, hi) and the padded window size.
func poolSpans(out, in, k, stride, pad int) (lo, hi, padded []int) {
	lo, hi, padded = make([]int, out), make([]int, out), make([]int, out)
	for o := range out {
		a := o*stride - pad
		b := min(a+k, in+pad)
		padded[o] = b - a
		lo[o], hi[o] = max(a, 0), min(b, in)
	}
	return lo, hi, padded
}

// avgPool2dSpans is AvgPool2dRef with the window bounds precomputed.
func avgPool2dSpans(g PoolGeom, x, y []float32) {
	ylo, yhi, ypad := poolSpans(g.OH, g.H, g.KH, g.SH, g.PH)
	xlo, xhi, xpad := poolSpans(g.OW, g.W, g.KW, g.SW, g.PW)
	// The columns whose windows lie inside the row, [inLo, inHi), of which
	// [inLo, quadEnd) go four at a time.
	inLo, inHi := g.OW, 0
	for ox := range g.OW {
		if a := ox*g.SW - g.PW; a >= 0 && a+g.KW <= g.W {
			inLo, inHi = min(inLo, ox), ox+1
		}
	}
	quadEnd := inLo + max(inHi-inLo, 0)/4*4
	ParallelFor(g.Planes, g.OH*g.OW*g.KH*g.KW, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp := x[p*g.H*g.W : (p+1)*g.H*g.W]
			yp := y[p*g.OH*g.OW : (p+1)*g.OH*g.OW]
			for oy := range g.OH {
				y0, y1 := ylo[oy], yhi[oy]
				yr := yp[oy*g.OW : (oy+1)*g.OW]
				// Unclipped columns four at a time: four sums in flight
				// instead of one chain of dependent adds, each still in
				// the reference's order.
				div := float32((y1 - y0) * g.KW)
				if g.CountIncludePad {
					div = float32(ypad[oy] * g.KW)
				}
				for ox := inLo; ox < quadEnd; ox += 4 {
					var s0, s1, s2, s3 float32
					for iy := y0; iy < y1; iy++ {
						r := xp[iy*g.W+ox*g.SW-g.PW:]
						r = r[:3*g.SW+g.KW]
						for k := range g.KW {
							s0 += r[k]
							s1 += r[g.SW+k]
							s2 += r[2*g.SW+k]
							s3 += r[3*g.SW+k]
						}
					}
					yr[ox], yr[ox+1], yr[ox+2], yr[ox+3] = s0/div, s1/div, s2/div, s3/div
				}
				for ox := 0; ox < g.OW; ox++ {
					if ox == inLo && quadEnd > inLo {
						ox = quadEnd - 1 // done four at a time
						continue
					}
					x0, x1 := xlo[ox], xhi[ox]
					var s float32
					for iy := y0; iy < y1; iy++ {
						for _, v := range xp[iy*g.W+x0 : iy*g.W+x1] {
							s += v
						}
					}
					div := float32((y1 - y0) * (x1 - x0))
					if g.CountIncludePad {
						div = float32(ypad[oy] * xpad[ox])
					}
					yr[ox] = s / div
				}
			}
		}
	})
}

// maxPool2dSeparable is MaxPool2dRef as a pass along each row (the maximum
// of every column window, per input row) then down the columns: a
// maximum is the same whatever the grouping, and a NaN in a window wins
// either way.
func maxPool2dSeparable(g PoolGeom, x, y []float32) {
	ylo, yhi, _ := poolSpans(g.OH, g.H, g.KH, g.SH, g.PH)
	xlo, xhi, _ := poolSpans(g.OW, g.W, g.KW, g.SW, g.PW)
	ParallelFor(g.Planes, g.H*g.OW*g.KW+g.OH*g.OW*g.KH, func(lo, hi int) {
		rows := make([]float32, g.H*g.OW) // the row pass of one plane
		for p := lo; p < hi; p++ {
			xp := x[p*g.H*g.W : (p+1)*g.H*g.W]
			yp := y[p*g.OH*g.OW : (p+1)*g.OH*g.OW]
			for iy := range g.H {
				xr, rr := xp[iy*g.W:(iy+1)*g.W], rows[iy*g.OW:(iy+1)*g.OW]
				for ox := range rr {
					if w := xr[xlo[ox]:xhi[ox]]; len(w) == 3 { // the FID network's windows, inline
						m := w[0]
						if w[1] > m || w[1] != w[1] {
							m = w[1]
						}
						if w[2] > m || w[2] != w[2] {
							m = w[2]
						}
						rr[ox] = m
					} else {
						rr[ox] = maxOf(w)
					}
				}
			}
			for oy := range g.OH {
				yr := yp[oy*g.OW : (oy+1)*g.OW]
				copy(yr, rows[ylo[oy]*g.OW:(ylo[oy]+1)*g.OW])
				for iy := ylo[oy] + 1; iy < yhi[oy]; iy++ {
					for ox, v := range rows[iy*g.OW : (iy+1)*g.OW] {
						if v > yr[ox] || v != v {
							yr[ox] = v
						}
					}
				}
			}
		}
	})
}

// maxOf is the largest of v, or NaN if v holds one; -inf when empty.
func maxOf(v []float32) float32 {
	m := float32(math.Inf(-1))
	for _, a := range v {
		if a > m {
			m = a
		} else if a != a {
			return a
		}
	}
	return m
}
