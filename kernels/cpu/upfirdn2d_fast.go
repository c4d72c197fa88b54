package cpu

import (
	"math"
	"sync"
)

// upfirdn2dFast is Upfirdn2dRef's computation for separable filters, the
// StyleGAN2 case: a 1-D filter, or a 2-D one that is an outer product u⊗v
// (setup_filter makes [1,3,3,1] 2-D; it is exactly rank one). Each plane is
// filtered along width (polyphase, into a float32 row buffer) and then along
// height as whole-row multiply-adds, which vectorise. Sums run in float32 over
// at most taps/up terms per axis; everything else goes to the reference.
func upfirdn2dFast(y, x, f []float32, c Upfirdn2dConfig) {
	u, v, ok := separableTaps(f, c)
	if !ok {
		Upfirdn2dRef(y, x, f, c)
		return
	}
	outH, outW := c.OutSize()
	if outH < 1 || outW < 1 {
		Upfirdn2dRef(y, x, f, c) // panics with the reference's message
		return
	}
	j := upfirdnJobs.Get().(*upfirdnJob)
	j.c, j.x, j.y, j.outH, j.outW = c, x, y, outH, outW
	j.rows.fill(c.InH, outH, c.UpY, c.DownY, c.PadY0, c.FilterH, c.FlipFilter)
	j.cols.fill(c.InW, outW, c.UpX, c.DownX, c.PadX0, c.FilterW, c.FlipFilter)
	// Gain folds into the vertical taps.
	j.u = j.u[:0]
	for _, t := range u {
		j.u = append(j.u, t*float64(c.Gain))
	}
	j.v = append(j.v[:0], v...)
	j.plain, j.pairs = plainRun{}, pairRun{}
	if usePlainRuns {
		j.plain = j.cols.plainRun()
		if j.plain.hi == j.plain.lo {
			j.pairs = j.cols.pairRun()
		}
	}
	// Vertical rows joined into one call: each one's run of shifted
	// successors (see runRange), found once for all the planes.
	j.joinEnd = j.joinEnd[:0]
	for oy := 0; oy < outH; oy++ {
		end := oy + 1
		if joinFirRows && outW%firRows4Block == 0 && j.rows.start[oy+1]-j.rows.start[oy] == 4 {
			for end < outH && j.rows.shifted(end) {
				end++
			}
		}
		j.joinEnd = append(j.joinEnd, end)
	}
	cost := len(j.cols.in)*c.InH + len(j.rows.in)*outW
	parallelRange(c.Planes, cost, j)
	j.x, j.y = nil, nil
	upfirdnJobs.Put(j)
}

// separableTaps returns the vertical and horizontal taps (u for rows, v for
// columns) of a separable or exactly rank-one filter.
func separableTaps(f []float32, c Upfirdn2dConfig) (u, v []float64, ok bool) {
	if c.Separable {
		t := make([]float64, len(f))
		for i, w := range f {
			t[i] = float64(w)
		}
		return t, t, true
	}
	fh, fw := c.FilterH, c.FilterW
	if len(f) < fh*fw || fh*fw == 0 {
		return nil, nil, false
	}
	// Factor through the largest entry: u = column j*, v = row i* / f[i*,j*].
	bi, bj, best := 0, 0, 0.0
	for i := 0; i < fh; i++ {
		for j := 0; j < fw; j++ {
			if a := math.Abs(float64(f[i*fw+j])); a > best {
				bi, bj, best = i, j, a
			}
		}
	}
	if best == 0 {
		return nil, nil, false
	}
	u, v = make([]float64, fh), make([]float64, fw)
	for i := range u {
		u[i] = float64(f[i*fw+bj])
	}
	for j := range v {
		v[j] = float64(f[bi*fw+j]) / float64(f[bi*fw+bj])
	}
	for i := 0; i < fh; i++ {
		for j := 0; j < fw; j++ {
			// Rank one up to float32 rounding of the products, no more.
			if math.Abs(u[i]*v[j]-float64(f[i*fw+j])) > 1e-7*best {
				return nil, nil, false
			}
		}
	}
	return u, v, true
}

// fill is newUpfirdnAxis into a's existing storage, so pooled jobs do not
// allocate the tables again.
func (a *upfirdnAxis) fill(in, out, up, down, p0, taps int, flip bool) {
	a.start, a.in, a.tap = append(a.start[:0], 0), a.in[:0], a.tap[:0]
	for o := 0; o < out; o++ {
		base := o*down - p0
		for k := ((-base)%up + up) % up; k < taps; k += up {
			i := (base + k) / up
			if i < 0 || i >= in {
				continue
			}
			t := taps - 1 - k
			if flip {
				t = k
			}
			a.in = append(a.in, i)
			a.tap = append(a.tap, t)
		}
		a.start = append(a.start, len(a.in))
	}
}

type upfirdnJob struct {
	c          Upfirdn2dConfig
	x, y       []float32
	outH, outW int
	rows, cols upfirdnAxis
	u, v       []float64
	plain      plainRun // the columns a 4-tap filter without resampling reads in a row
	pairs      pairRun  // the columns of a 4-tap filter with up = 2 away from the edges
	joinEnd    []int    // per output row of 4 entries, the end of the rows joined with it
}

// plainRun is a run of outputs [lo, hi) of an axis whose entries are four
// consecutive inputs, starting at in0 for lo and step further for each next
// output, with the same four taps: the interior of a 4-tap filter with
// up = 1, which firRows4 computes from four shifted rows for down = 1 (step
// 1) and firStep2 for down = 2.
type plainRun struct {
	lo, hi, in0, step int
	taps              [4]int
}

// joinFirRows: false gives every row of either pass its own call (tests
// compare the joined rows with that).
var joinFirRows = true

// usePlainRuns: false sends every column through the entry-by-entry loop
// (tests compare the plain and pair runs with it).
var usePlainRuns = true

// plainRun finds the longest such run of a (hi == lo: none).
func (a *upfirdnAxis) plainRun() plainRun {
	fits := func(o int) bool {
		e := a.start[o]
		if a.start[o+1]-e != 4 {
			return false
		}
		for t := 1; t < 4; t++ {
			if a.in[e+t] != a.in[e]+t {
				return false
			}
		}
		return true
	}
	var best plainRun
	out := len(a.start) - 1
	for o := 0; o < out; {
		if !fits(o) {
			o++
			continue
		}
		e := a.start[o]
		r := plainRun{lo: o, hi: o + 1, in0: a.in[e], step: 1, taps: [4]int{a.tap[e], a.tap[e+1], a.tap[e+2], a.tap[e+3]}}
		if o+1 < out && fits(o+1) && a.in[a.start[o+1]] == r.in0+2 {
			r.step = 2
		}
		for r.hi < out && fits(r.hi) {
			f := a.start[r.hi]
			if a.in[f] != r.in0+r.step*(r.hi-r.lo) || [4]int{a.tap[f], a.tap[f+1], a.tap[f+2], a.tap[f+3]} != r.taps {
				break
			}
			r.hi++
		}
		if r.hi-r.lo > best.hi-best.lo {
			best = r
		}
		o = r.hi
	}
	return best
}

// pairRun is a run of outputs [lo, hi) of an axis, up = 2 with a 4-tap
// filter: output lo+2k+p (phase p of 0, 1) has two entries, inputs in0+k and
// in0+k+1, with taps taps[2p], taps[2p+1]; firPairs computes it.
type pairRun struct {
	lo, hi, in0 int
	taps        [4]int
}

// pairRun finds the longest such run of a (hi == lo: none).
func (a *upfirdnAxis) pairRun() pairRun {
	out := len(a.start) - 1
	// fits: output o has the entries of phase p of a run whose inputs
	// start at in0.
	fits := func(o, p, in0 int, taps *[4]int) bool {
		e := a.start[o]
		if a.start[o+1]-e != 2 || a.in[e] != in0 || a.in[e+1] != in0+1 {
			return false
		}
		if taps != nil {
			return a.tap[e] == taps[2*p] && a.tap[e+1] == taps[2*p+1]
		}
		return true
	}
	var best pairRun
	for o := 0; o+1 < out; o++ {
		e := a.start[o]
		if a.start[o+1]-e != 2 || !fits(o, 0, a.in[e], nil) || !fits(o+1, 1, a.in[e], nil) {
			continue
		}
		f := a.start[o+1]
		r := pairRun{lo: o, hi: o + 2, in0: a.in[e], taps: [4]int{a.tap[e], a.tap[e+1], a.tap[f], a.tap[f+1]}}
		for r.hi < out && fits(r.hi, (r.hi-r.lo)%2, r.in0+(r.hi-r.lo)/2, &r.taps) {
			r.hi++
		}
		if r.hi-r.lo > best.hi-best.lo {
			best = r
		}
		o = r.hi - 1
	}
	return best
}

var (
	upfirdnJobs = sync.Pool{New: func() any { return new(upfirdnJob) }}
	upfirdnBufs bufferStack
)

func (j *upfirdnJob) runRange(lo, hi int) {
	c, outH, outW := j.c, j.outH, j.outW
	inPlane, outPlane := c.InH*c.InW, outH*outW
	buf := upfirdnBufs.get(c.InH*outW + len(j.u) + len(j.v) + len(j.cols.in))
	tmp := buf.data[:c.InH*outW]
	u := buf.data[c.InH*outW : c.InH*outW+len(j.u)]
	v := buf.data[c.InH*outW+len(j.u) : c.InH*outW+len(j.u)+len(j.v)]
	for i, t := range j.u {
		u[i] = float32(t)
	}
	for i, t := range j.v {
		v[i] = float32(t)
	}
	cs, cin := j.cols.start, j.cols.in
	cw := buf.data[len(buf.data)-len(cin):] // each entry's weight, one indirection less
	for e, t := range j.cols.tap {
		cw[e] = v[t]
	}
	rs, rin, rtap := j.rows.start, j.rows.in, j.rows.tap
	pl, pr := j.plain, j.pairs
	var pw, prw [4]float32
	for t, k := range pl.taps {
		pw[t] = v[k]
	}
	for t, k := range pr.taps {
		prw[t] = v[k]
	}
	runLo, runHi := pl.lo, pl.hi // the columns a run computes (at most one run is set)
	if pr.hi > pr.lo {
		runLo, runHi = pr.lo, pr.hi
	}
	row := func(e int) []float32 { return tmp[rin[e]*outW : (rin[e]+1)*outW] } // entry e's row of the horizontal pass
	for p := lo; p < hi; p++ {
		xp, yp := j.x[p*inPlane:(p+1)*inPlane], j.y[p*outPlane:(p+1)*outPlane]
		// The columns of the run as shifted rows: every row in one call
		// for down 1, row by row otherwise.
		if pl.hi > pl.lo && pl.step == 1 && joinFirRows {
			firShiftedRows(tmp[pl.lo:], outW, xp[pl.in0:], c.InW, pl.hi-pl.lo, c.InH, pw)
		} else {
			for iy := 0; iy < c.InH; iy++ {
				xr, tr := xp[iy*c.InW:(iy+1)*c.InW], tmp[iy*outW:(iy+1)*outW]
				switch {
				case pr.hi > pr.lo:
					firPairs(tr[pr.lo:pr.hi], xr[pr.in0:], prw)
				case pl.hi == pl.lo:
				case pl.step == 1:
					firRows4(tr[pl.lo:pl.hi], xr[pl.in0:], xr[pl.in0+1:], xr[pl.in0+2:], xr[pl.in0+3:], pw)
				default:
					firStep2(tr[pl.lo:pl.hi], xr[pl.in0:pl.in0+2*(pl.hi-pl.lo)+2], pw)
				}
			}
		}
		// The columns outside the run, one column down all rows at a time
		// (its few entries stay in registers).
		for ox := 0; ox < outW; ox++ {
			if ox == runLo && runHi > runLo {
				ox = runHi - 1
				continue
			}
			firColumn(tmp[ox:], outW, xp, c.InW, c.InH, cin[cs[ox]:cs[ox+1]], cw[cs[ox]:cs[ox+1]])
		}
		for oy := 0; oy < outH; oy++ {
			yr := yp[oy*outW : (oy+1)*outW]
			e0, e1 := rs[oy], rs[oy+1]
			if e0 == e1 {
				clear(yr)
				continue
			}
			w0, t0 := u[rtap[e0]], row(e0)
			switch e1 - e0 {
			case 2: // up=2 with 4 taps: every row is two rows of tmp
				firRows2(yr, t0, row(e0+1), w0, u[rtap[e0+1]])
				continue
			case 4: // 4 taps without resampling, or down 2, away from the edges
				// The next rows that read the next row of each tap with the
				// same weights (down 1) go in the same call: y and tmp rows
				// are both outW apart, so they are one longer row.
				end := j.joinEnd[oy]
				n := (end - oy) * outW
				at := func(e int) []float32 { return tmp[rin[e]*outW:][:n] }
				firRows4(yp[oy*outW:][:n], at(e0), at(e0+1), at(e0+2), at(e0+3), [4]float32{w0, u[rtap[e0+1]], u[rtap[e0+2]], u[rtap[e0+3]]})
				oy = end - 1
				continue
			}
			for ox := range yr {
				yr[ox] = t0[ox] * w0
			}
			for e := e0 + 1; e < e1; e++ {
				w := u[rtap[e]]
				te := tmp[rin[e]*outW : (rin[e]+1)*outW]
				for ox := range yr {
					yr[ox] += te[ox] * w
				}
			}
		}
	}
	upfirdnBufs.put(buf)
}

// firColumn computes one column of the horizontal pass for rows rows:
// dst[r·dstStride] = Σ_e x[r·inW + in[e]]·w[e], summed over the entries in
// order from zero, each product rounded before the add; a two-entry column
// (up = 2) is the sum of its two products. The counts the StyleGAN2 filters
// give (2 and 3) keep their entries in registers.
func firColumn(dst []float32, dstStride int, x []float32, inW, rows int, in []int, w []float32) {
	if rows == 0 {
		return
	}
	_ = dst[(rows-1)*dstStride]
	switch len(in) {
	case 2:
		i0, i1, w0, w1 := in[0], in[1], w[0], w[1]
		for r := 0; r < rows; r++ {
			xr := x[r*inW : (r+1)*inW]
			dst[r*dstStride] = float32(xr[i0]*w0) + float32(xr[i1]*w1)
		}
	case 3:
		i0, i1, i2, w0, w1, w2 := in[0], in[1], in[2], w[0], w[1], w[2]
		for r := 0; r < rows; r++ {
			xr := x[r*inW : (r+1)*inW]
			var acc float32
			acc += float32(xr[i0] * w0)
			acc += float32(xr[i1] * w1)
			acc += float32(xr[i2] * w2)
			dst[r*dstStride] = acc
		}
	default:
		for r := 0; r < rows; r++ {
			xr := x[r*inW : (r+1)*inW]
			var acc float32
			for e, i := range in {
				acc += float32(xr[i] * w[e])
			}
			dst[r*dstStride] = acc
		}
	}
}

// firStep2 is the horizontal pass of a 4-tap filter with down = 2 over a
// plain run: out[o] = Σ_t in[2o + t]·w[t], summed in tap order from zero as
// the entry-by-entry loop does (products rounded apart, as there), so the
// bits are that loop's.
func firStep2(out, in []float32, w [4]float32) {
	in = in[:2*len(out)+2]
	for o := range out {
		x := in[2*o : 2*o+4 : 2*o+4]
		var acc float32
		acc += float32(x[0] * w[0])
		acc += float32(x[1] * w[1])
		acc += float32(x[2] * w[2])
		acc += float32(x[3] * w[3])
		out[o] = acc
	}
}
