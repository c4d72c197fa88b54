package cpu

// Implicit im2col for stride-1 convolutions. With the input copied once into
// a zero-padded plane [Hp, Wp] per channel and the outputs laid on the same
// row pitch Wp (a "wide" output row: OW real columns, then Wp - OW that read
// past the row's end and are dropped), the col row of tap (c, ky, kx) is a
// contiguous run of the padded input, starting c·Hp·Wp + ky·DH·Wp + kx·DW:
// the GEMM reads its B rows there through a table of offsets, and the col
// buffer, written and read once per call (19 MB for the demo's 32x32 layers
// at batch 16, 40% of the forward), is never made. Every real output is the
// same dot product, in the same order and blocking, as on the im2col path:
// the results are bit for bit those of conv2dForwardGemm.

// convImplicit switches the implicit path; tests turn it off to compare.
var convImplicit = true

// implicitIm2col reports whether a convolution takes the implicit path:
// unit strides, and at most one dropped column for four real ones (a 3x3
// kernel with padding 1 from 8x8 planes up), since every dropped column
// costs as much arithmetic as a real one.
func (g ConvGeom) implicitIm2col() bool {
	if !convImplicit || g.SH != 1 || g.SW != 1 || g.PH < 0 || g.PW < 0 || g.identityCol() {
		return false
	}
	wp := g.W + 2*g.PW
	return (wp-g.OW)*4 <= g.OW && g.OH <= g.H+2*g.PH-(g.KH-1)*g.DH && g.OW <= wp-(g.KW-1)*g.DW
}

// implicitLayout is the padded input and wide output of one call.
type implicitLayout struct {
	hp, wp int // padded plane
	plane  int // hp·wp
	wide   int // OH·wp: one wide output plane
	slack  int // floats past the last plane the last tap's dropped columns read
}

func (g ConvGeom) implicitLayout() implicitLayout {
	l := implicitLayout{hp: g.H + 2*g.PH, wp: g.W + 2*g.PW}
	l.plane, l.wide, l.slack = l.hp*l.wp, g.OH*l.wp, (g.KW-1)*g.DW
	return l
}

// tapOffsets returns the offset of each col row (c, ky, kx) of one group in
// the padded input, in the order of the weight's columns.
func (g ConvGeom) tapOffsets(l implicitLayout, dst []int) []int {
	dst = dst[:0]
	for c := 0; c < g.Cin/g.Groups; c++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				dst = append(dst, c*l.plane+ky*g.DH*l.wp+kx*g.DW)
			}
		}
	}
	return dst
}

// padJob copies planes [lo, hi) of x into the zero-padded layout.
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
	for pl := lo; pl < hi; pl++ {
		dst := j.xp[pl*l.plane : (pl+1)*l.plane]
		src := j.x[j.xOff+pl*hw : j.xOff+(pl+1)*hw]
		clear(dst[:g.PH*l.wp])
		clear(dst[(g.PH+g.H)*l.wp:])
		for y := 0; y < g.H; y++ {
			row := dst[(g.PH+y)*l.wp : (g.PH+y+1)*l.wp]
			clear(row[:g.PW])
			copy(row[g.PW:g.PW+g.W], src[y*g.W:(y+1)*g.W])
			clear(row[g.PW+g.W:])
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
			d, s := dst[oy*g.OW:(oy+1)*g.OW], src[oy*l.wp:oy*l.wp+g.OW]
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

// implicitBatchFloats bounds the padded input and wide output of one batch
// of samples (in floats). A var so tests can force several batches.
var implicitBatchFloats = 8 << 20

// conv2dForwardImplicit is conv2dForwardGemm for implicitIm2col geometry.
func conv2dForwardImplicit(g ConvGeom, x, w, bias, y []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, hw, ohw := g.colRows(), g.H*g.W, g.OH*g.OW
	l := g.implicitLayout()
	perSample := g.Cin*l.plane + g.Cout*l.wide
	sb := max(1, min(g.N, implicitBatchFloats/perSample))
	rows := g.tapOffsets(l, make([]int, 0, k))
	xpBuf := convBufs.get(sb*g.Cin*l.plane + l.slack)
	wideBuf := convBufs.get(sb * g.Cout * l.wide)
	defer convBufs.put(xpBuf)
	defer convBufs.put(wideBuf)
	// The slack, and a last batch's unused tail, hold whatever the buffers
	// held: only dropped columns read them, and a column of the product
	// depends on no other column.
	xp, wide := xpBuf.data, wideBuf.data
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		pad := &padJob{g: g, l: l, x: x, xOff: n0 * g.Cin * hw, xp: xp}
		parallelRange(nb*g.Cin, l.plane, pad)
		for gi := 0; gi < g.Groups; gi++ {
			activeGemm.gemmBatchedRows(nb, og, l.wide, k, 1, w, gi*og*k, k, 1,
				xp, gi*cg*l.plane, rows, g.Cin*l.plane,
				0, wide, gi*og*l.wide, l.wide, g.Cout*l.wide)
		}
		out := &narrowJob{g: g, l: l, wide: wide, y: y, yOff: n0 * g.Cout * ohw, bias: bias, plane: n0 * g.Cout}
		parallelRange(nb*g.Cout, ohw, out)
	}
}

// The weight gradient, gw = Σ_n gy_n·colᵀ_n, reads colᵀ from the padded
// input the same way: element (q, p) of colᵀ_n is the padded input at
// outputOffsets[q] + tapOffsets[p], packed for the GEMM by 8x8 transposes
// straight from there (the im2col path wrote col, then transposed it).
// The packed panels hold the same values, so the bits are those of the
// im2col path. Unit column stride only: the transposes need runs of
// adjacent output positions.

// implicitWeightGrad reports whether the weight gradient takes this path.
func (g ConvGeom) implicitWeightGrad() bool {
	return convImplicit && g.SW == 1 && g.PH >= 0 && g.PW >= 0 && !g.identityCol()
}

// outputOffsets returns, for each output position (oy, ox), the offset in
// the padded plane of its window's top-left tap, and the run of positions
// from it to the end of its row, whose offsets follow one apart.
func (g ConvGeom) outputOffsets(l implicitLayout) (offs, runs []int) {
	offs, runs = make([]int, 0, g.OH*g.OW), make([]int, 0, g.OH*g.OW)
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			offs, runs = append(offs, oy*g.SH*l.wp+ox), append(runs, g.OW-ox)
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
