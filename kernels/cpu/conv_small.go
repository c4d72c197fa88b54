package cpu

// Convolutions under convGemmMinFlops run the references' schedule (samples
// in parallel, a GEMM each), whose GEMMs pack W (forward) or Wᵀ (input
// gradient) again for every sample: at the demo's 32 channels and 8x8 to
// 32x32 planes that packing is a sixth of the input gradient's product.
// Here the weight of each group is packed once per call and every sample's
// product reads it; the products, and so the bits, are the references'.

// smallConvShareW: pack the weight once per call in the small
// convolutions' schedule; a var so tests can compare.
var smallConvShareW = true

// packConvWeights packs, for each group, W [og, k] (transposed: Wᵀ [k, og])
// into one buffer, returned with the packed operands; the caller puts buf.
func packConvWeights(g ConvGeom, w []float32, transposed bool) (buf *packBuffer, pas []PackedA) {
	og, k := g.Cout/g.Groups, g.colRows()
	m, depth, aRow, aCol := og, k, k, 1
	if transposed {
		m, depth, aRow, aCol = k, og, 1, k
	}
	size := packedASize(m, depth)
	buf = convBufs.get(g.Groups * size)
	pas = make([]PackedA, g.Groups)
	for gi := range pas {
		pas[gi].data = buf.data[gi*size : (gi+1)*size]
		pas[gi].pack(m, depth, w, gi*og*k, aRow, aCol)
	}
	return buf, pas
}

// conv2dForwardSmall is Conv2dForwardRef with W packed once per group
// (and, for implicitIm2col geometry, each sample's taps read from its padded
// input rather than an Im2col buffer). Strided forwards whose output rows
// are whole column panels take the implicit path here too: a sample's taps
// from its phase planes, y's rows written directly, beat writing its col
// (16x32x33x33 stride 2, one core: 1551 -> 1298 us), where over a batch of
// samples the GEMM schedule's packed col stays ahead (conv_implicit.go).
func conv2dForwardSmall(g ConvGeom, x, w, bias, y []float32) {
	wbuf, pas := packConvWeights(g, w, false)
	defer convBufs.put(wbuf)
	if g.implicitIm2col() || (convImplicit && !g.identityCol() && g.directRows()) {
		conv2dForwardSmallImplicit(g, x, bias, y, pas)
		return
	}
	conv2dForwardSamples(g, x, w, bias, y, pas)
}

// conv2dForwardSmallImplicit is conv2dForwardImplicit's computation a
// sample at a time, the samples in parallel as in the reference: each
// worker pads its sample; the product of each group writes y's rows
// directly (directRows) or the wide output planes, whose real columns plus
// the bias then go to y. Every real output is the im2col path's dot product
// (conv_implicit.go), so the bits are the reference's.
func conv2dForwardSmallImplicit(g ConvGeom, x, bias, y []float32, pas []PackedA) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, hw, ohw := g.colRows(), g.H*g.W, g.OH*g.OW
	l := g.implicitLayout()
	rows := g.tapOffsets(l, make([]int, 0, k))
	direct := g.directRows()
	slack, wideFloats := l.slack, g.Cout*l.wide
	if direct { // every output position is real: no column reads past a plane
		slack, wideFloats = 0, 0
	}
	ParallelFor(g.N, g.flopsPerSample(), func(lo, hi int) {
		xpBuf := convBufs.get(g.Cin*l.plane + slack)
		wideBuf := convBufs.get(wideFloats)
		defer convBufs.put(xpBuf)
		defer convBufs.put(wideBuf)
		// The slack holds whatever the buffer held: only dropped columns
		// read it.
		xp, wide := xpBuf.data[:g.Cin*l.plane+slack], wideBuf.data[:wideFloats]
		for n := lo; n < hi; n++ {
			(&padJob{g: g, l: l, x: x, xOff: n * g.Cin * hw, xp: xp}).runRange(0, g.Cin)
			yOff := n * g.Cout * ohw
			for gi := range pas {
				if direct {
					activeGemm.gemmGridRows(1, g.OH, og, g.OW, k, 1, &pas[gi], nil, 0, 0, 0,
						xp, gi*cg*l.plane, rows, 0, l.wq, 0, y, yOff+gi*og*ohw, ohw, 0, g.OW)
				} else {
					activeGemm.gemmGridRows(1, 1, og, l.wide, k, 1, &pas[gi], nil, 0, 0, 0,
						xp, gi*cg*l.plane, rows, 0, 0, 0, wide, gi*og*l.wide, l.wide, 0, 0)
				}
			}
			switch {
			case !direct:
				(&narrowJob{g: g, l: l, wide: wide, y: y, yOff: yOff, bias: bias, plane: n * g.Cout}).runRange(0, g.Cout)
			case bias != nil:
				(&biasJob{g: g, y: y, yOff: yOff, bias: bias, plane: n * g.Cout}).runRange(0, g.Cout)
			}
		}
	})
}

// conv2dInputGradSmall is Conv2dInputGradRef with Wᵀ packed once per group.
func conv2dInputGradSmall(g ConvGeom, gy, w, gx []float32) {
	wbuf, pas := packConvWeights(g, w, true)
	defer convBufs.put(wbuf)
	conv2dInputGradSamples(g, gy, w, gx, pas)
}

// conv2dWeightGradSmall is Conv2dWeightGradRef (the same chunks of samples
// and sums, sumSampleChunks) with each
// sample's colᵀ packed straight from its zero-padded input through offset
// tables (gemmRowsCols, as conv2dWeightGradImplicit does), not written by
// Im2col and then transposed by the packing: the same values reach the
// same products, so the bits are the reference's.
func conv2dWeightGradSmall(g ConvGeom, x, gy, gw []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	l := g.implicitLayout()
	taps := g.tapOffsets(l, make([]int, 0, k))
	outs, runs := g.outputOffsets(l)
	g.sumSampleChunks(gw, func(lo, hi int, acc []float32) {
		// No slack: every output position is real, so the taps read
		// inside the planes (conv2dWeightGradImplicit's buffer likewise).
		xpBuf := convBufs.get(g.Cin * l.plane)
		defer convBufs.put(xpBuf)
		xp := xpBuf.data[:g.Cin*l.plane]
		for n := lo; n < hi; n++ {
			beta := float32(1)
			if n == lo {
				beta = 0
			}
			(&padJob{g: g, l: l, x: x, xOff: n * g.Cin * hw, xp: xp}).runRange(0, g.Cin)
			for gi := 0; gi < g.Groups; gi++ {
				activeGemm.gemmRowsCols(og, k, ohw, 1, gy, (n*g.Cout+gi*og)*ohw, ohw, 1,
					xp, gi*cg*l.plane, outs, runs, taps, beta, acc, gi*og*k, k)
			}
		}
	})
}
