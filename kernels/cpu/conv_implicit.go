package cpu

// Implicit im2col. The input is copied once into a zero-padded layout in
// which the col row of every tap (c, ky, kx) is a contiguous run: with unit
// strides, a padded plane [Hp, Wp] per channel, the outputs laid on the same
// row pitch (a "wide" output row: OW real columns, then a few that read past
// the row's end and are dropped), tap (c, ky, kx) starting at c·Hp·Wp +
// ky·DH·Wp + kx·DW. With strides SH x SW (the weight gradient's case) each
// channel is split into SH·SW phase planes, phase (a, b) holding the padded
// input's rows a, a+SH, ... and columns b, b+SW, ...: a tap then reads one
// phase plane at unit stride. The GEMM reads its B rows there through a
// table of offsets, and the col buffer, written and read once per call
// (19 MB for the demo's 32x32 layers at batch 16, 40% of the forward), is
// never made. Every real output is the same dot product, in the same order
// and blocking, as on the im2col path: the results are bit for bit those of
// the im2col schedule of conv_gemm.go.

// convImplicit switches the implicit paths; tests turn it off to compare.
var convImplicit = true

// implicitIm2col reports whether a convolution's forward takes the implicit
// path: unit strides, and at most one dropped column for four real ones (a
// 3x3 kernel with padding 1 from 8x8 outputs up), since every dropped column
// costs as much arithmetic as a real one. Strided forwards keep im2col:
// their taps' rows spread over the phase planes and the micro-kernel's B
// loads wait on them (n16 c32 65x65 stride 2: 5.0 ms with im2col, 5.7
// implicit).
func (g ConvGeom) implicitIm2col() bool {
	if !convImplicit || g.SH != 1 || g.SW != 1 || g.identityCol() {
		return false
	}
	l := g.implicitLayout()
	return (l.wq-g.OW)*4 <= g.OW
}

// implicitLayout is the phase planes and wide output of one call.
type implicitLayout struct {
	phases int // SH·SW phase planes per channel
	hq, wq int // one phase plane: as many rows and columns as the taps read
	plane  int // phases·hq·wq: one channel
	wide   int // OH·wq: one wide output plane
	slack  int // floats past the last channel the last tap's dropped columns read
}

func (g ConvGeom) implicitLayout() implicitLayout {
	l := implicitLayout{phases: g.SH * g.SW,
		hq: g.OH + (g.KH-1)*g.DH/g.SH, wq: g.OW + (g.KW-1)*g.DW/g.SW}
	l.plane, l.wide, l.slack = l.phases*l.hq*l.wq, g.OH*l.wq, (g.KW-1)*g.DW/g.SW
	return l
}

// tapOffsets returns the offset of each col row (c, ky, kx) of one group in
// the phase planes, in the order of the weight's columns.
func (g ConvGeom) tapOffsets(l implicitLayout, dst []int) []int {
	dst = dst[:0]
	for c := 0; c < g.Cin/g.Groups; c++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				y, x := ky*g.DH, kx*g.DW
				phase := y%g.SH*g.SW + x%g.SW
				dst = append(dst, c*l.plane+phase*l.hq*l.wq+y/g.SH*l.wq+x/g.SW)
			}
		}
	}
	return dst
}

// padJob copies channels [lo, hi) of x into the phase planes: entry (i, j)
// of phase (a, b) is x at row i·SH + a − PH, column j·SW + b − PW, or zero
// in the padding.
type padJob struct {
	g    ConvGeom
	l    implicitLayout
	x    []float32
	xOff int
	xp   []float32
}

func (j *padJob) runRange(lo, hi int) {
	g, l := j.g, j.l
	hw := g.H * g.W
	for ch := lo; ch < hi; ch++ {
		src := j.x[j.xOff+ch*hw : j.xOff+(ch+1)*hw]
		for a := 0; a < g.SH; a++ {
			for b := 0; b < g.SW; b++ {
				dst := j.xp[ch*l.plane+(a*g.SW+b)*l.hq*l.wq:][:l.hq*l.wq]
				// Rows i and columns j of the phase with an input row and
				// column: [iLo, iHi) x [jLo, jHi).
				iLo := min(l.hq, max(0, ceilDiv(g.PH-a, g.SH)))
				iHi := max(iLo, min(l.hq, ceilDiv(g.H+g.PH-a, g.SH)))
				jLo := min(l.wq, max(0, ceilDiv(g.PW-b, g.SW)))
				jHi := max(jLo, min(l.wq, ceilDiv(g.W+g.PW-b, g.SW)))
				// One clear of the plane, then the rows: the padding is a
				// column or two, too short for a call to clear each.
				clear(dst)
				if iLo == iHi || jLo == jHi {
					continue
				}
				n := jHi - jLo
				first := func(i int) int { return (i*g.SH+a-g.PH)*g.W + jLo*g.SW + b - g.PW } // row i's first input
				if g.SW == 2 {
					gatherStride2Rows(dst[iLo*l.wq+jLo:], l.wq, src[first(iLo):], g.SH*g.W, n, iHi-iLo)
					continue
				}
				for i := iLo; i < iHi; i++ {
					row, in := dst[i*l.wq+jLo:][:n], src[first(i):]
					if g.SW == 1 {
						copy(row, in)
						continue
					}
					for k := range row {
						row[k] = in[k*g.SW]
					}
				}
			}
		}
	}
}

// narrowJob copies the real columns of wide output planes [lo, hi) into y,
// adding the bias as the im2col path does after its GEMM.
type narrowJob struct {
	g     ConvGeom
	l     implicitLayout
	wide  []float32
	y     []float32
	yOff  int
	bias  []float32
	plane int // index of the first plane (sample·Cout) for the bias
}

func (j *narrowJob) runRange(lo, hi int) {
	g, l := j.g, j.l
	ohw := g.OH * g.OW
	for pl := lo; pl < hi; pl++ {
		src := j.wide[pl*l.wide : (pl+1)*l.wide]
		dst := j.y[j.yOff+pl*ohw : j.yOff+(pl+1)*ohw]
		for oy := 0; oy < g.OH; oy++ {
			d, s := dst[oy*g.OW:(oy+1)*g.OW], src[oy*l.wq:oy*l.wq+g.OW]
			if j.bias == nil {
				copy(d, s)
				continue
			}
			bv := j.bias[(j.plane+pl)%g.Cout]
			for i := range d {
				d[i] = s[i] + bv
			}
		}
	}
}

// convDirectRows: the implicit forward writes y's rows straight from the
// product where it can (directRows); a var so tests can compare.
var convDirectRows = true

// directRows reports whether every output row is a whole number of the
// kernel's column panels, so the product can write y's rows directly
// (gemmGridRows, a product per output row) rather than the padded width's
// wide rows that narrowJob copies out.
func (g ConvGeom) directRows() bool { return convDirectRows && g.OW%activeGemm.nr == 0 }

// biasJob adds bias[c] to y's planes [lo, hi) (of Cout each sample),
// after a product that wrote them directly: the same sum narrowJob forms.
type biasJob struct {
	g     ConvGeom
	y     []float32
	yOff  int
	bias  []float32
	plane int // index of the first plane (sample·Cout)
}

func (j *biasJob) runRange(lo, hi int) {
	ohw := j.g.OH * j.g.OW
	for pl := lo; pl < hi; pl++ {
		bv := j.bias[(j.plane+pl)%j.g.Cout]
		d := j.y[j.yOff+pl*ohw : j.yOff+(pl+1)*ohw]
		for i := range d {
			d[i] += bv
		}
	}
}

// implicitBatchFloats bounds the padded input and wide output of one batch
// of samples (in floats). A var so tests can force several batches.
var implicitBatchFloats = 8 << 20

// conv2dForwardImplicit is conv2dForwardGemm for implicitIm2col geometry.
func conv2dForwardImplicit(g ConvGeom, x, w, bias, y []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, hw, ohw := g.colRows(), g.H*g.W, g.OH*g.OW
	l := g.implicitLayout()
	direct := g.directRows()
	wideFloats := g.Cout * l.wide
	if direct {
		wideFloats = 0
	}
	perSample := g.Cin*l.plane + wideFloats
	sb := max(1, min(g.N, implicitBatchFloats/perSample))
	rows := g.tapOffsets(l, make([]int, 0, k))
	xpBuf := convBufs.get(sb*g.Cin*l.plane + l.slack)
	wideBuf := convBufs.get(sb * wideFloats)
	defer convBufs.put(xpBuf)
	defer convBufs.put(wideBuf)
	// The slack, and a last batch's unused tail, hold whatever the buffers
	// held: only dropped columns read them, and a column of the product
	// depends on no other column.
	xp := xpBuf.data
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		pad := &padJob{g: g, l: l, x: x, xOff: n0 * g.Cin * hw, xp: xp}
		parallelRange(nb*g.Cin, l.plane, pad)
		if direct {
			for gi := 0; gi < g.Groups; gi++ {
				activeGemm.gemmGridRows(nb, g.OH, og, g.OW, k, 1, nil, w, gi*og*k, k, 1,
					xp, gi*cg*l.plane, rows, g.Cin*l.plane, l.wq,
					0, y, (n0*g.Cout+gi*og)*ohw, ohw, g.Cout*ohw, g.OW)
			}
			if bias != nil {
				parallelRange(nb*g.Cout, ohw, &biasJob{g: g, y: y, yOff: n0 * g.Cout * ohw, bias: bias, plane: n0 * g.Cout})
			}
			continue
		}
		wide := wideBuf.data
		for gi := 0; gi < g.Groups; gi++ {
			activeGemm.gemmBatchedRows(nb, og, l.wide, k, 1, w, gi*og*k, k, 1,
				xp, gi*cg*l.plane, rows, g.Cin*l.plane,
				0, wide, gi*og*l.wide, l.wide, g.Cout*l.wide)
		}
		out := &narrowJob{g: g, l: l, wide: wide, y: y, yOff: n0 * g.Cout * ohw, bias: bias, plane: n0 * g.Cout}
		parallelRange(nb*g.Cout, ohw, out)
	}
}

// The weight gradient, gw = Σ_n gy_n·colᵀ_n, reads colᵀ from the phase
// planes the same way: element (q, p) of colᵀ_n is there at
// outputOffsets[q] + tapOffsets[p], packed for the GEMM by 8x8 transposes
// straight from there (the im2col path wrote col, then transposed it).
// The packed panels hold the same values, so the bits are those of the
// im2col path. Any geometry: the output positions of a row are adjacent in
// every phase plane, so the transposes always have runs.

// implicitWeightGrad reports whether the weight gradient takes this path.
func (g ConvGeom) implicitWeightGrad() bool { return convImplicit && !g.identityCol() }

// outputOffsets returns, for each output position (oy, ox), its offset in
// a phase plane, and the run of positions from it to the end of its row,
// whose offsets follow one apart.
func (g ConvGeom) outputOffsets(l implicitLayout) (offs, runs []int) {
	offs, runs = make([]int, 0, g.OH*g.OW), make([]int, 0, g.OH*g.OW)
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			offs, runs = append(offs, oy*l.wq+ox), append(runs, g.OW-ox)
		}
	}
	return offs, runs
}

// conv2dWeightGradImplicit is conv2dWeightGradGemm for implicitWeightGrad
// geometry: samples in order, each accumulated by the GEMM (beta = 1 after
// the first).
func conv2dWeightGradImplicit(g ConvGeom, x, gy, gw []float32) {
	if g.N == 0 {
		clear(gw)
		return
	}
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, hw, ohw := g.colRows(), g.H*g.W, g.OH*g.OW
	l := g.implicitLayout()
	sb := max(1, min(g.N, implicitBatchFloats/(g.Cin*l.plane)))
	taps := g.tapOffsets(l, make([]int, 0, k))
	outs, runs := g.outputOffsets(l)
	xpBuf := convBufs.get(sb * g.Cin * l.plane)
	defer convBufs.put(xpBuf)
	xp := xpBuf.data
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		parallelRange(nb*g.Cin, l.plane, &padJob{g: g, l: l, x: x, xOff: n0 * g.Cin * hw, xp: xp})
		for s := 0; s < nb; s++ {
			n := n0 + s
			beta := float32(1)
			if n == 0 {
				beta = 0
			}
			for gi := 0; gi < g.Groups; gi++ {
				activeGemm.gemmRowsCols(og, k, ohw, 1, gy, (n*g.Cout+gi*og)*ohw, ohw, 1,
					xp, (s*g.Cin+gi*cg)*l.plane, outs, runs, taps, beta, gw, gi*og*k, k)
			}
		}
	}
}
