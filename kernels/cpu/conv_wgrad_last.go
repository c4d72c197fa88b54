package cpu

// The weight gradient of a unit-stride convolution from a channels-last copy
// of the padded input. gw = Σ_n gy_n·colᵀ_n needs colᵀ_n as the GEMM's B:
// rows the output positions p, columns the taps (c, ky, kx). Channels-first,
// a B micro-panel's 16 columns are 16 taps scattered over the planes, so
// every sample's colᵀ (Cin·KH·KW x OH·OW values, 295k at the demo's
// 32x32x32) went through a transposing pack (19% of the 32x32 weight
// gradient's time). Channels-last, the padded input [hq, wq, Cin] holds the
// channels of each position together: for one (ky, kx), the columns c of
// row p are contiguous at (p's pixel + the tap's pixel)·Cin + c. The product
// then runs as a grid of KH x KW products of Cin columns (gemmGridRows),
// reading B in place through the positions' offsets, and the only copy is
// the input's transpose into the padded layout (37k values at 32x32x32). Its
// columns come out in (ky, kx, c) order, permuted to the weight's (c, ky,
// kx) at the end. Each element is the same products summed in the same
// order and blocking (the depth is still OH·OW), so the bits are those of
// the channels-first path.

// convChannelsLast switches the channels-last weight gradient within the
// implicit paths (convImplicit switches them all); tests and benchmarks
// turn it off to compare with the channels-first planes.
var convChannelsLast = true

// channelsLastWeightGrad reports whether the weight gradient takes this
// path: unit strides, where a tap's offset is affine in (ky, kx).
func (g ConvGeom) channelsLastWeightGrad() bool {
	return convChannelsLast && g.implicitWeightGrad() && g.SH == 1 && g.SW == 1
}

// padLastJob copies rows [lo, hi) of samples' channels-last padded planes
// (row r = sample r/hq's padded row r%hq): entry (i, j, c) is x at channel
// c, row i − PH, column j − PW, or zero in the padding.
type padLastJob struct {
	g    ConvGeom
	l    implicitLayout
	x    []float32
	xOff int // sample 0's first value in x
	xp   []float32
}

func (j *padLastJob) runRange(lo, hi int) {
	g, l := j.g, j.l
	hw, cin := g.H*g.W, g.Cin
	jLo := min(l.wq, max(0, g.PW))
	jHi := max(jLo, min(l.wq, g.W+g.PW))
	for r := lo; r < hi; r++ {
		s, i := r/l.hq, r%l.hq
		dst := j.xp[r*l.wq*cin:][:l.wq*cin]
		iy := i - g.PH
		if iy < 0 || iy >= g.H || jLo == jHi {
			clear(dst)
			continue
		}
		clear(dst[:jLo*cin])
		clear(dst[jHi*cin:])
		src := j.x[j.xOff+s*cin*hw+iy*g.W+jLo-g.PW:]
		transposeRows(dst[jLo*cin:][:(jHi-jLo)*cin], cin, src, hw, jHi-jLo, cin)
	}
}

// transposeRows writes dst[p·dstStride + l] = src[l·srcStride + p] for p < n
// and l < lanes: eight lanes by eight columns at a time where the variant
// has the 8x8 transposes (a scalar loop's stores are a cache line apart; it
// ran at 4 ns a value).
func transposeRows(dst []float32, dstStride int, src []float32, srcStride, n, lanes int) {
	if n == 0 || lanes == 0 {
		return
	}
	_ = src[(lanes-1)*srcStride+n-1] // the last read
	_ = dst[(n-1)*dstStride+lanes-1] // and write, checked here
	blocks := 0
	if transpose8x8 != nil {
		blocks = n / 8
	}
	l := 0
	for ; blocks > 0 && l+8 <= lanes; l += 8 {
		transpose8x8(&dst[l], dstStride, &src[l*srcStride], srcStride, blocks)
	}
	// What the transposes left: their lanes' columns past the last block,
	// and every column of the other lanes.
	for q := 0; q < lanes; q++ {
		from := 0
		if q < l {
			from = 8 * blocks
		}
		for p := from; p < n; p++ {
			dst[p*dstStride+q] = src[q*srcStride+p]
		}
	}
}

// weightGradLastSample sets acc = beta·acc + gy_n·colᵀ_n for sample n, whose
// channels-last padded planes are xp, acc in (ky, kx, c) column order; rows
// are the output positions' offsets (outputOffsetsLast).
func (g ConvGeom) weightGradLastSample(l implicitLayout, xp []float32, rows []int, gy []float32, n int, beta float32, acc []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw := g.colRows(), g.OH*g.OW
	for gi := 0; gi < g.Groups; gi++ {
		activeGemm.gemmGridRows(g.KH, g.KW, og, cg, ohw, 1, nil, gy, (n*g.Cout+gi*og)*ohw, ohw, 1,
			xp, gi*cg, rows, g.DH*l.wq*g.Cin, g.DW*g.Cin,
			beta, acc, gi*og*k, k, g.KW*cg, cg)
	}
}

// outputOffsetsLast returns each output position's offset in a
// channels-last padded plane.
func (g ConvGeom) outputOffsetsLast(l implicitLayout) []int {
	offs := make([]int, 0, g.OH*g.OW)
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			offs = append(offs, (oy*l.wq+ox)*g.Cin)
		}
	}
	return offs
}

// permuteTapsLast writes gw (rows of (c, ky, kx) columns) from acc (rows of
// (ky, kx, c) columns).
func (g ConvGeom) permuteTapsLast(acc, gw []float32) {
	cg, taps := g.Cin/g.Groups, g.KH*g.KW
	k := cg * taps
	for o := 0; o < g.Cout; o++ {
		src, dst := acc[o*k:][:k], gw[o*k:][:k]
		for t := 0; t < taps; t++ {
			for c, v := range src[t*cg : (t+1)*cg] {
				dst[c*taps+t] = v
			}
		}
	}
}

// conv2dWeightGradLast is conv2dWeightGradImplicit for
// channelsLastWeightGrad geometry: samples in batches padded together, then
// in order, each accumulated by the GEMM (beta = 1 after the first).
func conv2dWeightGradLast(g ConvGeom, x, gy, gw []float32) {
	if g.N == 0 {
		clear(gw)
		return
	}
	l := g.implicitLayout()
	plane := l.hq * l.wq * g.Cin
	sb := max(1, min(g.N, implicitBatchFloats/plane))
	rows := g.outputOffsetsLast(l)
	xpBuf, accBuf := convBufs.get(sb*plane), convBufs.get(len(gw))
	defer convBufs.put(xpBuf)
	defer convBufs.put(accBuf)
	xp, acc := xpBuf.data, accBuf.data[:len(gw)]
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		parallelRange(nb*l.hq, l.wq*g.Cin, &padLastJob{g: g, l: l, x: x, xOff: n0 * g.Cin * g.H * g.W, xp: xp})
		for s := 0; s < nb; s++ {
			beta := float32(1)
			if n0+s == 0 {
				beta = 0
			}
			g.weightGradLastSample(l, xp[s*plane:][:plane], rows, gy, n0+s, beta, acc)
		}
	}
	g.permuteTapsLast(acc, gw)
}

// conv2dWeightGradSmallLast is conv2dWeightGradSmall (the reference's chunks
// of samples and sums) through the channels-last planes.
func conv2dWeightGradSmallLast(g ConvGeom, x, gy, gw []float32) {
	l := g.implicitLayout()
	plane := l.hq * l.wq * g.Cin
	rows := g.outputOffsetsLast(l)
	accBuf := convBufs.get(len(gw))
	defer convBufs.put(accBuf)
	acc := accBuf.data[:len(gw)]
	g.sumSampleChunks(acc, func(lo, hi int, part []float32) {
		xpBuf := convBufs.get(plane)
		defer convBufs.put(xpBuf)
		xp := xpBuf.data[:plane]
		for n := lo; n < hi; n++ {
			beta := float32(1)
			if n == lo {
				beta = 0
			}
			(&padLastJob{g: g, l: l, x: x, xOff: n * g.Cin * g.H * g.W, xp: xp}).runRange(0, l.hq)
			g.weightGradLastSample(l, xp, rows, gy, n, beta, part)
		}
	})
	if g.N > 0 {
		g.permuteTapsLast(acc, gw)
	} else {
		clear(gw)
	}
}
