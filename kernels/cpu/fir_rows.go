package cpu

// Weighted sums of whole rows, the inner loops of the separable upfirdn2d:
// its vertical pass (each output row a sum of 2 or 4 rows of the horizontal
// pass) and, for a plain 4-tap filter, its horizontal pass (4 copies of an
// input row shifted by one). The SIMD variants replace these vars.
var (
	firRows2 = firRows2Generic
	firRows4 = firRows4Generic
)

// firRows2Generic sets dst[i] = w0·a[i] + w1·b[i] for i < len(dst).
func firRows2Generic(dst, a, b []float32, w0, w1 float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i]*w0 + b[i]*w1
	}
}

// firRows4Generic sets dst[i] = w[0]·a[i] + w[1]·b[i] + w[2]·c[i] + w[3]·d[i]
// for i < len(dst).
func firRows4Generic(dst, a, b, c, d []float32, w [4]float32) {
	a, b, c, d = a[:len(dst)], b[:len(dst)], c[:len(dst)], d[:len(dst)]
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	for i := range dst {
		dst[i] = a[i]*w0 + b[i]*w1 + c[i]*w2 + d[i]*w3
	}
}
