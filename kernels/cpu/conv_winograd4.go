package cpu

// The transforms of Winograd F(4x4, 3x3) (conv_winograd.go holds the
// driver, shared with F(2x2, 3x3)): each 4x4 block of output comes from a
// 6x6 block of input through 36 products per (input, output) channel pair,
// where direct convolution takes 144. Interpolation points 0, ±1, ±2, ∞:
//
//	Bᵀ = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0  4 -4 -1 1 0;
//	      0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0  4  0 -5 0 1]
//	G  = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//	Aᵀ = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
//
// The larger constants cost accuracy: about 3x the direct sum's rounding
// error at 512 input channels (as for the GPU's F(4x4,3x3), measured there
// in float32 against float64 sums), where F(2x2) stays at the direct sum's.

// winogradBT4 applies Bᵀ to the six values r0..r5 (a column of rows, or a
// row of a tile).
func winogradBT4(r0, r1, r2, r3, r4, r5 float32) (t0, t1, t2, t3, t4, t5 float32) {
	t0 = 4*r0 - 5*r2 + r4
	t1 = r3 + r4 - 4*(r1+r2)
	t2 = r4 - r3 + 4*(r1-r2)
	t3 = r4 - r2 + 2*(r3-r1)
	t4 = r4 - r2 - 2*(r3-r1)
	t5 = 4*r1 - 5*r3 + r5
	return
}

// winogradAT4 applies Aᵀ to six values.
func winogradAT4(m0, m1, m2, m3, m4, m5 float32) (s0, s1, s2, s3 float32) {
	s0 = m0 + m1 + m2 + m3 + m4
	s1 = m1 - m2 + 2*(m3-m4)
	s2 = m1 + m2 + 4*(m3+m4)
	s3 = m1 - m2 + 8*(m3-m4) + m5
	return
}

// winogradA4 applies A (Aᵀ's adjoint) to four values: the output gradient's
// transform for the weight gradient.
func winogradA4(v0, v1, v2, v3 float32) (e0, e1, e2, e3, e4, e5 float32) {
	e0 = v0
	e1 = v0 + v1 + v2 + v3
	e2 = v0 - v1 + v2 - v3
	e3 = v0 + 2*v1 + 4*v2 + 8*v3
	e4 = v0 - 2*v1 + 4*v2 - 8*v3
	e5 = v3
	return
}

type input4Job winograd

// runRange transforms planes [lo,hi) of the chunk, a row of tiles at a
// time (winograd.inputRows): Bᵀ d on whole (zero-padded) input rows, then
// the column half on every tile of the row, so each of the 36 output planes
// receives one contiguous run per tile row.
func (j *input4Job) runRange(lo, hi int) {
	plane := j.cin * j.ns * j.th * j.tw
	v := j.v[:36*plane]
	tw := j.tw
	width := 4*tw + 2 // columns -pw .. 4tw+1-pw: every tile of the row
	buf, r, t := tileRowBuffers(6, width)
	defer convBufs.put(buf)
	(*winograd)(j).inputRows(lo, hi, r, func(base int) {
		r0, r1, r2, r3, r4, r5 := r[0], r[1][:width], r[2][:width], r[3][:width], r[4][:width], r[5][:width]
		t0, t1, t2, t3, t4, t5 := t[0][:width], t[1][:width], t[2][:width], t[3][:width], t[4][:width], t[5][:width]
		for q := range r0 {
			t0[q], t1[q], t2[q], t3[q], t4[q], t5[q] = winogradBT4(r0[q], r1[q], r2[q], r3[q], r4[q], r5[q])
		}
		for i, ti := range t {
			at := func(jj int) []float32 { return v[(6*i+jj)*plane+base : (6*i+jj)*plane+base+tw] }
			d0, d1, d2, d3, d4, d5 := at(0), at(1), at(2), at(3), at(4), at(5)
			d1, d2, d3, d4, d5 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)], d4[:len(d0)], d5[:len(d0)]
			for tx := range d0 {
				e := (*[6]float32)(ti[4*tx:]) // the tile's six columns: one bounds check
				d0[tx], d1[tx], d2[tx], d3[tx], d4[tx], d5[tx] = winogradBT4(e[0], e[1], e[2], e[3], e[4], e[5])
			}
		}
	})
}

type output4Job winograd

// runRange transforms back planes [lo,hi) of the chunk, a row of tiles at
// a time (winograd.outputRows), reading one contiguous run of each of the
// 36 product planes: Aᵀ M on every tile of the row (six columns of four),
// then each of the four rows times A; a tile's rows and columns past the
// output's edge are dropped. Loops run along the row of tiles, so that
// their slices are bounds-checked once.
func (j *output4Job) runRange(lo, hi int) {
	plane := j.cout * j.ns * j.th * j.tw
	mm := j.m[:36*plane]
	tw := j.tw
	buf := convBufs.get(24 * tw)
	defer convBufs.put(buf)
	var sr [4][6][]float32 // (Aᵀ M)[r][q] for every tile of the row
	for r := range sr {
		for q := range sr[r] {
			sr[r][q] = buf.data[(6*r+q)*tw : (6*r+q+1)*tw]
		}
	}
	full := j.ow / 4 // tiles whose four columns are all inside
	(*winograd)(j).outputRows(lo, hi, func(y []float32, b float32, ty, o int) {
		for q := range 6 {
			m0, m1, m2 := mm[q*plane+o:q*plane+o+tw], mm[(6+q)*plane+o:(6+q)*plane+o+tw], mm[(12+q)*plane+o:(12+q)*plane+o+tw]
			m3, m4, m5 := mm[(18+q)*plane+o:(18+q)*plane+o+tw], mm[(24+q)*plane+o:(24+q)*plane+o+tw], mm[(30+q)*plane+o:(30+q)*plane+o+tw]
			s0, s1, s2, s3 := sr[0][q][:tw], sr[1][q][:tw], sr[2][q][:tw], sr[3][q][:tw]
			for tx := range m0 {
				s0[tx], s1[tx], s2[tx], s3[tx] = winogradAT4(m0[tx], m1[tx], m2[tx], m3[tx], m4[tx], m5[tx])
			}
		}
		for r := range min(4, j.oh-4*ty) {
			row := y[(4*ty+r)*j.ow : (4*ty+r+1)*j.ow]
			e0, e1, e2, e3, e4, e5 := sr[r][0][:tw], sr[r][1][:tw], sr[r][2][:tw], sr[r][3][:tw], sr[r][4][:tw], sr[r][5][:tw]
			for tx := range full {
				o0, o1, o2, o3 := winogradAT4(e0[tx], e1[tx], e2[tx], e3[tx], e4[tx], e5[tx])
				dst := row[4*tx : 4*tx+4]
				dst[0], dst[1], dst[2], dst[3] = o0+b, o1+b, o2+b, o3+b
			}
			if full < tw {
				var out [4]float32
				out[0], out[1], out[2], out[3] = winogradAT4(e0[full], e1[full], e2[full], e3[full], e4[full], e5[full])
				for k := range row[4*full:] {
					row[4*full+k] = out[k] + b
				}
			}
		}
	})
}

type gradOutput4Job winograd

// runRange writes E = A ȳ Aᵀ (the adjoint of the output transform) for
// planes [lo,hi) of the chunk's output gradient (winograd.gradTiles); the
// rows and columns of a tile past the output's edge count as zero.
func (j *gradOutput4Job) runRange(lo, hi int) {
	plane := j.cout * j.ns * j.th * j.tw
	(*winograd)(j).gradTiles(lo, hi, func(gy []float32, r0, c0, o int) {
		var g [4][4]float32
		for r := 0; r < 4 && r0+r < j.oh; r++ {
			for k := 0; k < 4 && c0+k < j.ow; k++ {
				g[r][k] = gy[(r0+r)*j.ow+c0+k]
			}
		}
		// A ȳ: six rows of four, then each row times Aᵀ.
		var rows [6][4]float32
		for k := range 4 {
			rows[0][k], rows[1][k], rows[2][k], rows[3][k], rows[4][k], rows[5][k] = winogradA4(g[0][k], g[1][k], g[2][k], g[3][k])
		}
		for i, rw := range rows {
			e0, e1, e2, e3, e4, e5 := winogradA4(rw[0], rw[1], rw[2], rw[3])
			j.m[(6*i)*plane+o] = e0
			j.m[(6*i+1)*plane+o] = e1
			j.m[(6*i+2)*plane+o] = e2
			j.m[(6*i+3)*plane+o] = e3
			j.m[(6*i+4)*plane+o] = e4
			j.m[(6*i+5)*plane+o] = e5
		}
	})
}
