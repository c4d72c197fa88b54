package cpu

// ceilDiv rounds a/b up for b > 0 and any sign of a (Go's / truncates).
func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}

// validOutputs returns [lo, hi): the output positions o whose input tap
// o*stride - pad + tap lies inside [0, in). Computing the range once per
// kernel tap keeps bounds checks out of the innermost loops.
func validOutputs(tap, stride, pad, in, out int) (lo, hi int) {
	first := pad - tap // o*stride >= first
	last := in - 1 + pad - tap
	lo = max(0, ceilDiv(first, stride))
	if last < 0 {
		return lo, lo
	}
	hi = min(out, last/stride+1)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Im2col unfolds one sample's group of channels, x[xOff:] laid out [C, H, W]
// with C = g.Cin/g.Groups, into col [C*KH*KW, OH*OW]: row (c, ky, kx) holds the
// input value each output position multiplies with that weight tap (zero where
// the tap falls in the padding).
func Im2col(g ConvGeom, x []float32, xOff int, col []float32) {
	ohw := g.OH * g.OW
	var yBuf, xBuf [16][2]int
	ys, xs := g.tapRanges(yBuf[:0], xBuf[:0])
	row := 0
	for c := 0; c < g.Cin/g.Groups; c++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				g.unfoldTapIn(x, xOff+c*g.H*g.W, ky, kx, ys[ky], xs[kx], col[row*ohw:(row+1)*ohw])
				row++
			}
		}
	}
}

// unfoldTap writes col's row for tap (ky, kx) of the input plane at
// x[plane:] into dst (OH*OW floats).
func (g ConvGeom) unfoldTap(x []float32, plane, ky, kx int, dst []float32) {
	var ys, xs [2]int
	ys[0], ys[1] = validOutputs(ky*g.DH, g.SH, g.PH, g.H, g.OH)
	xs[0], xs[1] = validOutputs(kx*g.DW, g.SW, g.PW, g.W, g.OW)
	g.unfoldTapIn(x, plane, ky, kx, ys, xs, dst)
}

// unfoldTapIn is unfoldTap given the tap's valid output rows ys and
// columns xs ([lo, hi), validOutputs).
func (g ConvGeom) unfoldTapIn(x []float32, plane, ky, kx int, ys, xs [2]int, dst []float32) {
	yLo, yHi, xLo, xHi := ys[0], ys[1], xs[0], xs[1]
	if yLo >= yHi || xLo >= xHi {
		clear(dst)
		return
	}
	if g.flatTaps() {
		from, to, delta := g.tapRun(plane, ky, kx, yLo, yHi, xLo, xHi)
		clear(dst[:from])
		copy(dst[from:to], x[from+delta:to+delta])
		clear(dst[to:])
		g.clearRowEnds(dst, yLo, yHi, xLo, xHi)
		return
	}
	clear(dst[:yLo*g.OW])
	clear(dst[yHi*g.OW:])
	if xLo > 0 || xHi < g.OW {
		for oy := yLo; oy < yHi; oy++ {
			clear(dst[oy*g.OW : oy*g.OW+xLo])
			clear(dst[oy*g.OW+xHi : (oy+1)*g.OW])
		}
	}
	if g.SW == 2 {
		// All the tap's rows in one call; the vector gather may
		// read one entry past a row's last.
		start := plane + (yLo*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW + 2*xLo
		gatherStride2Rows(dst[yLo*g.OW+xLo:], g.OW, x[start:], g.SH*g.W, xHi-xLo, yHi-yLo)
		return
	}
	for oy := yLo; oy < yHi; oy++ {
		d := dst[oy*g.OW : (oy+1)*g.OW]
		src := plane + (oy*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW
		if g.SW == 1 {
			copy(d[xLo:xHi], x[src+xLo:src+xHi])
			continue
		}
		in, out := x[src+xLo*g.SW:src+(xHi-1)*g.SW+1], d[xLo:xHi]
		for i := range out {
			out[i] = in[i*g.SW]
		}
	}
}

// Col2im is the adjoint of Im2col: it adds every entry of col back onto the
// input position it was read from, accumulating into x[xOff:] (which the
// caller zeroes first). col is the caller's scratch: its entries that fall in
// the padding may be overwritten with zeros.
func Col2im(g ConvGeom, col []float32, x []float32, xOff int) {
	cg := g.Cin / g.Groups
	ohw := g.OH * g.OW
	flat := g.flatTaps()
	var yBuf, xBuf [16][2]int
	ys, xs := g.tapRanges(yBuf[:0], xBuf[:0])
	row := 0
	for c := 0; c < cg; c++ {
		plane := xOff + c*g.H*g.W
		planeEnd := plane + g.H*g.W
		for ky := 0; ky < g.KH; ky++ {
			yLo, yHi := ys[ky][0], ys[ky][1]
			for kx := 0; kx < g.KW; kx++ {
				xLo, xHi := xs[kx][0], xs[kx][1]
				src := col[row*ohw : (row+1)*ohw]
				row++
				if yLo >= yHi || xLo >= xHi {
					continue
				}
				if flat {
					// The padding's entries become zeros, so that the whole
					// run can be added at once: they land on real inputs of
					// the neighbouring rows, which x + 0 leaves bit for bit
					// as they were (x starts at +0 and never becomes -0).
					from, to, delta := g.tapRun(plane, ky, kx, yLo, yHi, xLo, xHi)
					g.clearRowEnds(src, yLo, yHi, xLo, xHi)
					addInto(x[from+delta:to+delta], src[from:to])
					continue
				}
				if g.SW == 2 {
					// All the tap's rows in one call, in order. The vector add
					// rewrites the odd entries it spans, up to one past a
					// row's last: kept inside this plane, which no other
					// worker touches.
					start := plane + (yLo*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW + 2*xLo
					scatterAddStride2Rows(x[start:planeEnd], g.SH*g.W, src[yLo*g.OW+xLo:], g.OW, xHi-xLo, yHi-yLo)
					continue
				}
				for oy := yLo; oy < yHi; oy++ {
					s := src[oy*g.OW : (oy+1)*g.OW]
					dst := plane + (oy*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW
					if g.SW == 1 {
						addInto(x[dst+xLo:dst+xHi], s[xLo:xHi])
						continue
					}
					out, in := x[dst+xLo*g.SW:dst+(xHi-1)*g.SW+1], s[xLo:xHi]
					for i, v := range in {
						out[i*g.SW] += v
					}
				}
			}
		}
	}
}

// tapRanges appends to ys and xs the valid output rows and columns
// (validOutputs) of each kernel row and column: the same for every
// channel, so Im2col and Col2im compute them once a call (four integer
// divisions a tap; on the stack up to 16 taps a side, the callers'
// buffers).
func (g ConvGeom) tapRanges(ys, xs [][2]int) ([][2]int, [][2]int) {
	for ky := 0; ky < g.KH; ky++ {
		lo, hi := validOutputs(ky*g.DH, g.SH, g.PH, g.H, g.OH)
		ys = append(ys, [2]int{lo, hi})
	}
	for kx := 0; kx < g.KW; kx++ {
		lo, hi := validOutputs(kx*g.DW, g.SW, g.PW, g.W, g.OW)
		xs = append(xs, [2]int{lo, hi})
	}
	return ys, xs
}

// flatTaps reports whether each tap's valid outputs map to its inputs by one
// constant offset, rows included: unit strides and as many output columns as
// input columns (a 3x3 kernel with padding 1, the common case). A tap's run
// from its first valid output to its last then moves as one block, which
// pays on small planes where a call per row of 4 to 32 elements dominated.
func (g ConvGeom) flatTaps() bool { return g.SH == 1 && g.SW == 1 && g.OW == g.W }

// tapRun is, for flatTaps geometry, the run [from, to) of output positions
// from tap (ky, kx)'s first valid output to its last, and delta, the offset
// of the input each reads (in x, for the plane at offset plane) from its
// output position. The run's columns outside [xLo, xHi) read the ends of the
// neighbouring rows: every position in it lies inside the plane.
func (g ConvGeom) tapRun(plane, ky, kx, yLo, yHi, xLo, xHi int) (from, to, delta int) {
	return yLo*g.OW + xLo, (yHi-1)*g.OW + xHi, plane + (ky*g.DH-g.PH)*g.W + kx*g.DW - g.PW
}

// clearRowEnds zeroes the columns outside [xLo, xHi) of rows [yLo, yHi) of a
// tap's [OH, OW] row of col.
func (g ConvGeom) clearRowEnds(tap []float32, yLo, yHi, xLo, xHi int) {
	if xLo == 0 && xHi == g.OW {
		return
	}
	// Element stores: the ends are a column or two, too short for clear's
	// call; a 3x3 kernel with padding 1 has one column on one side.
	switch {
	case xLo == 1 && xHi == g.OW:
		for i := yLo * g.OW; i < yHi*g.OW; i += g.OW {
			tap[i] = 0
		}
		return
	case xLo == 0 && xHi == g.OW-1:
		for i := (yLo+1)*g.OW - 1; i < yHi*g.OW; i += g.OW {
			tap[i] = 0
		}
		return
	}
	for oy := yLo; oy < yHi; oy++ {
		r := tap[oy*g.OW : (oy+1)*g.OW]
		for i := range r[:xLo] {
			r[i] = 0
		}
		for i := xHi; i < len(r); i++ {
			r[i] = 0
		}
	}
}

// gatherStride2Scalar sets dst[i] = src[2i] for every i of dst.
func gatherStride2Scalar(dst, src []float32) {
	for i := range dst {
		dst[i] = src[2*i]
	}
}

// gatherStride2Rows gathers rows rows of n values at stride 2:
// dst[r·dstPitch + i] = src[r·srcPitch + 2i]. A row's src may run past its
// last entry: the vector kernels read (and drop) one entry more for a last
// block of eight. One call per tap of a stride-2 Im2col instead of one per
// output row, whose call overhead was most of the gather (16 values a row at
// the demo's 16x16 outputs).
var gatherStride2Rows = gatherStride2RowsScalar

func gatherStride2RowsScalar(dst []float32, dstPitch int, src []float32, srcPitch, n, rows int) {
	for r := 0; r < rows; r++ {
		gatherStride2Scalar(dst[r*dstPitch:r*dstPitch+n], src[r*srcPitch:])
	}
}

// scatterAddStride2Scalar adds v[i] onto dst[2i].
func scatterAddStride2Scalar(dst, v []float32) {
	for i, x := range v {
		dst[2*i] += x
	}
}

// scatterAddStride2Rows adds rows rows of n values at stride 2:
// dst[r·dstPitch + 2i] += v[r·vPitch + i], rows in order (Col2im's). A row's
// dst may run past 2(n-1): the vector kernels rewrite the odd entries of the
// blocks they span as themselves + 0, the same bits, since Col2im's x never
// holds -0 (it starts at +0, and a sum is -0 only when both terms are).
var scatterAddStride2Rows = scatterAddStride2RowsScalar

func scatterAddStride2RowsScalar(dst []float32, dstPitch int, v []float32, vPitch, n, rows int) {
	for r := 0; r < rows; r++ {
		scatterAddStride2Scalar(dst[r*dstPitch:], v[r*vPitch:r*vPitch+n])
	}
}

// addInto adds src onto dst[:len(src)]: the variant's vector add on whole
// blocks (vecKernels.addInto), this loop on the rest. Both do the same float32
// additions, so the result is the loop's bit for bit.
var addInto = addIntoScalar

func addIntoScalar(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}
