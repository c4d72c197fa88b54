package cpu

// Upfirdn2dFast is the float32 production variant of Upfirdn2dRef for 2-D
// filters: the same polyphase index tables, but each output row gathers its
// contributing (input row, filter row) pairs once and the column taps are
// unrolled into per-column spans, so the inner loop is a short float32 dot
// product without table lookups per tap. Results differ from the float64
// reference only by float32 rounding.
func Upfirdn2dFast(y, x, f []float32, c Upfirdn2dConfig) {
	if c.Separable {
		Upfirdn2dRef(y, x, f, c)
		return
	}
	if fy, fx, ok := rankOneFactors(f, c.FilterH, c.FilterW); ok {
		upfirdn2dSeparable32(y, x, fy, fx, c)
		return
	}
	outH, outW := c.OutSize()
	if outH < 1 || outW < 1 {
		panic("cpu.Upfirdn2dFast: empty output; validate the configuration first")
	}
	rows := newUpfirdnAxis(c.InH, outH, c.UpY, c.DownY, c.PadY0, c.FilterH, c.FlipFilter)
	cols := newUpfirdnAxis(c.InW, outW, c.UpX, c.DownX, c.PadX0, c.FilterW, c.FlipFilter)
	// Per output column: the input columns and filter columns it reads, laid
	// out densely as (count, in..., tap...) so the loop walks one slice.
	type colSpan struct{ in, tap []int32 }
	spans := make([]colSpan, outW)
	for ox := range spans {
		for e := cols.start[ox]; e < cols.start[ox+1]; e++ {
			spans[ox].in = append(spans[ox].in, int32(cols.in[e]))
			spans[ox].tap = append(spans[ox].tap, int32(cols.tap[e]))
		}
	}
	gain := c.Gain
	inPlane, outPlane := c.InH*c.InW, outH*outW
	cost := len(rows.in) * len(cols.in) / max(outH, 1)
	ParallelFor(c.Planes, max(cost*outH, 1), func(lo, hi int) {
		// Filter rows pre-scaled by the gain.
		fs := make([]float32, len(f))
		for i, v := range f {
			fs[i] = v * gain
		}
		acc := make([]float32, outW)
		for p := lo; p < hi; p++ {
			xp, yp := x[p*inPlane:(p+1)*inPlane], y[p*outPlane:(p+1)*outPlane]
			for oy := 0; oy < outH; oy++ {
				clear(acc)
				for e := rows.start[oy]; e < rows.start[oy+1]; e++ {
					xr := xp[rows.in[e]*c.InW : (rows.in[e]+1)*c.InW]
					fr := fs[rows.tap[e]*c.FilterW : (rows.tap[e]+1)*c.FilterW]
					for ox := range acc {
						sp := &spans[ox]
						var s float32
						for k, i := range sp.in {
							s += xr[i] * fr[sp.tap[k]]
						}
						acc[ox] += s
					}
				}
				copy(yp[oy*outW:(oy+1)*outW], acc)
			}
		}
	})
}

func init() { Upfirdn2d = Upfirdn2dFast }

// rankOneFactors splits a 2-D filter that is an outer product fy ⊗ fx (as
// setup_filter makes of a 1-D kernel) exactly: every f[i][j]·f[p][q] equals
// f[i][q]·f[p][j] where (p,q) is the largest entry.
func rankOneFactors(f []float32, fh, fw int) (fy, fx []float32, ok bool) {
	p, q := 0, 0
	for i := 0; i < fh; i++ {
		for j := 0; j < fw; j++ {
			if abs32(f[i*fw+j]) > abs32(f[p*fw+q]) {
				p, q = i, j
			}
		}
	}
	pivot := f[p*fw+q]
	if pivot == 0 {
		return nil, nil, false
	}
	fy, fx = make([]float32, fh), make([]float32, fw)
	for i := range fy {
		fy[i] = f[i*fw+q] / pivot
	}
	copy(fx, f[p*fw:(p+1)*fw])
	for i := 0; i < fh; i++ {
		for j := 0; j < fw; j++ {
			if fy[i]*fx[j] != f[i*fw+j] {
				return nil, nil, false
			}
		}
	}
	return fy, fx, true
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// upfirdn2dSeparable32 runs the width pass into a [InH, outW] buffer, then
// the height pass, in float32. With up = down = 1 on an axis the taps of
// consecutive outputs are consecutive inputs, so that pass is a few axpy
// sweeps instead of a table walk.
func upfirdn2dSeparable32(y, x, fy, fx []float32, c Upfirdn2dConfig) {
	outH, outW := c.OutSize()
	rows := newUpfirdnAxis(c.InH, outH, c.UpY, c.DownY, c.PadY0, c.FilterH, c.FlipFilter)
	cols := newUpfirdnAxis(c.InW, outW, c.UpX, c.DownX, c.PadX0, c.FilterW, c.FlipFilter)
	inPlane, outPlane := c.InH*c.InW, outH*outW
	cost := (len(cols.in)*c.InH + len(rows.in)*outW) * 2
	ParallelFor(c.Planes, cost, func(lo, hi int) {
		tmp := make([]float32, c.InH*outW)
		fyg := make([]float32, len(fy))
		for i, v := range fy {
			fyg[i] = v * c.Gain
		}
		for p := lo; p < hi; p++ {
			xp, yp := x[p*inPlane:(p+1)*inPlane], y[p*outPlane:(p+1)*outPlane]
			for iy := 0; iy < c.InH; iy++ {
				filterLine(tmp[iy*outW:(iy+1)*outW], 1, xp[iy*c.InW:(iy+1)*c.InW], 1, cols, fx)
			}
			clear(yp)
			for oy := 0; oy < outH; oy++ {
				yr := yp[oy*outW : (oy+1)*outW]
				for e := rows.start[oy]; e < rows.start[oy+1]; e++ {
					w := fyg[rows.tap[e]]
					tr := tmp[rows.in[e]*outW : (rows.in[e]+1)*outW]
					for ox, v := range tr {
						yr[ox] += w * v
					}
				}
			}
		}
	})
}

// filterLine filters one line along the axis described by a.
func filterLine(dst []float32, _ int, src []float32, _ int, a upfirdnAxis, taps []float32) {
	for o := range dst {
		var s float32
		for e := a.start[o]; e < a.start[o+1]; e++ {
			s += src[a.in[e]] * taps[a.tap[e]]
		}
		dst[o] = s
	}
}
