package cpu

// Weighted sums of whole rows, the inner loops of the separable upfirdn2d:
// its vertical pass (each output row a sum of 2 or 4 rows of the horizontal
// pass) and, for a plain 4-tap filter, its horizontal pass (4 copies of an
// input row shifted by one). The SIMD variants replace these vars. The
// generic kernels round each product apart (the conversions keep the compiler
// from fusing them), so their bits do not depend on GOAMD64.
var (
	firRows2 = firRows2Generic
	firRows4 = firRows4Generic
	firPairs = firPairsGeneric
)

// firShiftedRows is firRows4 on rows rows of n outputs, each from four
// copies of its source row shifted by one: dst[r·dstPitch + i] =
// Σ_t w[t]·src[r·srcPitch + i + t], every row computed as firRows4 computes
// it alone (the horizontal pass of a plain 4-tap filter, all its rows in
// one call).
var firShiftedRows = firShiftedRowsGeneric

func firShiftedRowsGeneric(dst []float32, dstPitch int, src []float32, srcPitch, n, rows int, w [4]float32) {
	for r := 0; r < rows; r++ {
		s := src[r*srcPitch:]
		firRows4Generic(dst[r*dstPitch:r*dstPitch+n], s, s[1:], s[2:], s[3:], w)
	}
}

// firRows4Block is the multiple of lengths whose every element firRows4
// computes the same way (in its vector body: the SIMD kernels fuse the
// multiply-adds there and not in their tails). Rows of such a length can be
// joined into one call without changing a bit.
var firRows4Block = 1

// firRows2Generic sets dst[i] = w0·a[i] + w1·b[i] for i < len(dst).
func firRows2Generic(dst, a, b []float32, w0, w1 float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = float32(a[i]*w0) + float32(b[i]*w1)
	}
}

// firRows4Generic sets dst[i] = w[0]·a[i] + w[1]·b[i] + w[2]·c[i] + w[3]·d[i]
// for i < len(dst).
func firRows4Generic(dst, a, b, c, d []float32, w [4]float32) {
	a, b, c, d = a[:len(dst)], b[:len(dst)], c[:len(dst)], d[:len(dst)]
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	for i := range dst {
		dst[i] = float32(a[i]*w0) + float32(b[i]*w1) + float32(c[i]*w2) + float32(d[i]*w3)
	}
}

// firPairsGeneric is the horizontal pass of up = 2 with a 4-tap filter over a
// pair run (upfirdnAxis.pairRun): output 2k+p reads in[k] and in[k+1] with
// taps w[2p], w[2p+1]. Each product is rounded before the add, as the
// entry-by-entry loop computes a two-entry column (the conversions keep the
// compiler from fusing them).
func firPairsGeneric(out, in []float32, w [4]float32) {
	pairs := len(out) / 2
	if len(out) == 0 {
		return
	}
	in = in[:(len(out)+1)/2+1]
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	for k := 0; k < pairs; k++ {
		a, b := in[k], in[k+1]
		o := out[2*k : 2*k+2 : 2*k+2]
		o[0] = float32(a*w0) + float32(b*w1)
		o[1] = float32(a*w2) + float32(b*w3)
	}
	if len(out)%2 == 1 {
		out[len(out)-1] = float32(in[pairs]*w0) + float32(in[pairs+1]*w1)
	}
}
