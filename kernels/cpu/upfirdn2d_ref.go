package cpu

// Upfirdn2dConfig describes one upfirdn2d call: Planes independent [InH, InW]
// images (N·C of an NCHW tensor), upsampling by zero insertion, padding
// [PadX0, PadX1, PadY0, PadY1] on the upsampled grid (negative crops), a FIR
// filter and downsampling. A separable filter is one 1-D filter of
// FilterW == FilterH taps applied along width then height; otherwise the
// filter is [FilterH, FilterW] row-major. FlipFilter false is true
// convolution, true is correlation.
type Upfirdn2dConfig struct {
	Planes, InH, InW           int
	UpX, UpY, DownX, DownY     int
	PadX0, PadX1, PadY0, PadY1 int
	FilterH, FilterW           int
	Separable, FlipFilter      bool
	Gain                       float32
}

// FloorDiv is Python's a // b for b > 0 (Go's / truncates toward zero).
func FloorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Upfirdn2dOutSize is (in·up + p0 + p1 − taps) // down + 1 for one axis; it is
// < 1 when the filter is larger than the padded, upsampled input.
func Upfirdn2dOutSize(in, up, down, p0, p1, taps int) int {
	return FloorDiv(in*up+p0+p1-taps, down) + 1
}

// OutSize returns the output's height and width.
func (c Upfirdn2dConfig) OutSize() (h, w int) {
	return Upfirdn2dOutSize(c.InH, c.UpY, c.DownY, c.PadY0, c.PadY1, c.FilterH),
		Upfirdn2dOutSize(c.InW, c.UpX, c.DownX, c.PadX0, c.PadX1, c.FilterW)
}

// upfirdnAxis lists, for each output position o of one axis, the input
// samples and filter taps that meet it: entries start[o]..start[o+1] of in and
// tap. This is the polyphase form: of the window o·down−p0+k (k < taps) on the
// upsampled grid only positions divisible by up hold input samples, so the
// zero-inserted buffer is never built.
type upfirdnAxis struct {
	start, in, tap []int
}

// shifted reports whether output o reads what output o-1 reads one input
// further on: as many entries, each at the next input with the same tap.
func (a *upfirdnAxis) shifted(o int) bool {
	e0, e1, p0 := a.start[o], a.start[o+1], a.start[o-1]
	if e1-e0 != e0-p0 {
		return false
	}
	for k := 0; k < e1-e0; k++ {
		if a.in[e0+k] != a.in[p0+k]+1 || a.tap[e0+k] != a.tap[p0+k] {
			return false
		}
	}
	return true
}

func newUpfirdnAxis(in, out, up, down, p0, taps int, flip bool) upfirdnAxis {
	a := upfirdnAxis{start: make([]int, out+1)}
	for o := 0; o < out; o++ {
		base := o*down - p0
		// First k with base+k ≡ 0 (mod up).
		k0 := ((-base)%up + up) % up
		for k := k0; k < taps; k += up {
			i := (base + k) / up
			if i < 0 || i >= in {
				continue
			}
			t := taps - 1 - k // true convolution reads the filter reversed
			if flip {
				t = k
			}
			a.in = append(a.in, i)
			a.tap = append(a.tap, t)
		}
		a.start[o+1] = len(a.in)
	}
	return a
}

// Upfirdn2dRef computes y (Planes × outH × outW, see OutSize) from x (Planes ×
// InH × InW) and f: y[o] = gain · Σ_k xu[o·down + k − p0]·f[taps−1−k] per axis,
// xu the zero-inserted upsampled input. Sums accumulate in float64.
func Upfirdn2dRef(y, x, f []float32, c Upfirdn2dConfig) {
	outH, outW := c.OutSize()
	if outH < 1 || outW < 1 {
		panic("cpu.Upfirdn2dRef: empty output; validate the configuration first")
	}
	rows := newUpfirdnAxis(c.InH, outH, c.UpY, c.DownY, c.PadY0, c.FilterH, c.FlipFilter)
	cols := newUpfirdnAxis(c.InW, outW, c.UpX, c.DownX, c.PadX0, c.FilterW, c.FlipFilter)
	gain := float64(c.Gain)
	inPlane, outPlane := c.InH*c.InW, outH*outW
	cost := len(rows.in) * len(cols.in) // multiply-adds per plane
	if c.Separable {
		cost = len(cols.in)*c.InH + len(rows.in)*outW
	}
	ParallelFor(c.Planes, cost, func(lo, hi int) {
		if c.Separable {
			// Pass 1 filters every input row along width into tmp [InH, outW];
			// pass 2 filters tmp's columns along height.
			tmp := make([]float64, c.InH*outW)
			f64 := make([]float64, len(f))
			for i, v := range f {
				f64[i] = float64(v)
			}
			for p := lo; p < hi; p++ {
				xp, yp := x[p*inPlane:(p+1)*inPlane], y[p*outPlane:(p+1)*outPlane]
				for iy := 0; iy < c.InH; iy++ {
					xr, tr := xp[iy*c.InW:(iy+1)*c.InW], tmp[iy*outW:(iy+1)*outW]
					for ox := range tr {
						var acc float64
						for e := cols.start[ox]; e < cols.start[ox+1]; e++ {
							acc += float64(xr[cols.in[e]]) * f64[cols.tap[e]]
						}
						tr[ox] = acc
					}
				}
				for oy := 0; oy < outH; oy++ {
					yr := yp[oy*outW : (oy+1)*outW]
					for ox := range yr {
						var acc float64
						for e := rows.start[oy]; e < rows.start[oy+1]; e++ {
							acc += tmp[rows.in[e]*outW+ox] * f64[rows.tap[e]]
						}
						yr[ox] = float32(acc * gain)
					}
				}
			}
			return
		}
		acc := make([]float64, outW)
		fr := make([]float64, c.FilterW)
		cs, cin, ctap := cols.start, cols.in, cols.tap
		for p := lo; p < hi; p++ {
			xp, yp := x[p*inPlane:(p+1)*inPlane], y[p*outPlane:(p+1)*outPlane]
			for oy := 0; oy < outH; oy++ {
				clear(acc)
				for e := rows.start[oy]; e < rows.start[oy+1]; e++ {
					xr := xp[rows.in[e]*c.InW : (rows.in[e]+1)*c.InW]
					for k, v := range f[rows.tap[e]*c.FilterW : (rows.tap[e]+1)*c.FilterW] {
						fr[k] = float64(v)
					}
					for ox := range acc {
						var s float64
						for k := cs[ox]; k < cs[ox+1]; k++ {
							s += float64(xr[cin[k]]) * fr[ctap[k]]
						}
						acc[ox] += s
					}
				}
				yr := yp[oy*outW : (oy+1)*outW]
				for ox, v := range acc {
					yr[ox] = float32(v * gain)
				}
			}
		}
	})
}

// Upfirdn2dNaive is the textbook form, for tests: build the zero-inserted,
// padded (or cropped) image, slide the (flipped unless FlipFilter) filter over
// its valid positions, keep every down-th sample. Slow and obviously right.
func Upfirdn2dNaive(y, x, f []float32, c Upfirdn2dConfig) {
	outH, outW := c.OutSize()
	fh, fw := c.FilterH, c.FilterW
	f2 := make([]float64, fh*fw) // 2-D filter, flipped for true convolution
	for ky := 0; ky < fh; ky++ {
		for kx := 0; kx < fw; kx++ {
			var v float64
			if c.Separable {
				v = float64(f[ky]) * float64(f[kx])
			} else {
				v = float64(f[ky*fw+kx])
			}
			if c.FlipFilter {
				f2[ky*fw+kx] = v
			} else {
				f2[(fh-1-ky)*fw+(fw-1-kx)] = v
			}
		}
	}
	uh, uw := c.InH*c.UpY, c.InW*c.UpX
	ph, pw := uh+c.PadY0+c.PadY1, uw+c.PadX0+c.PadX1
	for p := 0; p < c.Planes; p++ {
		up := make([]float64, uh*uw)
		for iy := 0; iy < c.InH; iy++ {
			for ix := 0; ix < c.InW; ix++ {
				up[iy*c.UpY*uw+ix*c.UpX] = float64(x[p*c.InH*c.InW+iy*c.InW+ix])
			}
		}
		pad := make([]float64, ph*pw)
		for py := 0; py < ph; py++ {
			for px := 0; px < pw; px++ {
				sy, sx := py-c.PadY0, px-c.PadX0
				if sy >= 0 && sy < uh && sx >= 0 && sx < uw {
					pad[py*pw+px] = up[sy*uw+sx]
				}
			}
		}
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				var s float64
				for ky := 0; ky < fh; ky++ {
					for kx := 0; kx < fw; kx++ {
						s += pad[(oy*c.DownY+ky)*pw+ox*c.DownX+kx] * f2[ky*fw+kx]
					}
				}
				y[p*outH*outW+oy*outW+ox] = float32(s * float64(c.Gain))
			}
		}
	}
}

// Upfirdn2d is the dispatch point for upfirdn2d.
var Upfirdn2d = Upfirdn2dRef
