//go:build amd64

package cpu

//go:noescape
func fir2AVX2(dst, a, b *float32, w0, w1 float32, n int)

//go:noescape
func fir4AVX2(dst, a, b, c, d *float32, w *[4]float32, n int)

//go:noescape
func fir4ShiftedAVX2(dst *float32, dstPitch int, src *float32, srcPitch int, w *[4]float32, n, rows int)

//go:noescape
func firPairsAVX2asm(dst, src *float32, w *[4]float32, n int)

// firRows2AVX2 is firRows2 with AVX2 and FMA: the multiples of 8 in
// assembly, the rest by the generic kernel (which rounds the products and
// the sums apart, the assembly once per FMA).
func firRows2AVX2(dst, a, b []float32, w0, w1 float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	body := n &^ 7
	if body > 0 {
		fir2AVX2(&dst[0], &a[0], &b[0], w0, w1, body)
	}
	firRows2Generic(dst[body:], a[body:], b[body:], w0, w1)
}

// firRows4AVX2 is firRows4 with AVX2 and FMA (tail as firRows2AVX2's).
func firRows4AVX2(dst, a, b, c, d []float32, w [4]float32) {
	n := len(dst)
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	body := n &^ 7
	if body > 0 {
		fir4AVX2(&dst[0], &a[0], &b[0], &c[0], &d[0], &w, body)
	}
	firRows4Generic(dst[body:], a[body:], b[body:], c[body:], d[body:], w)
}

// firPairsAVX2 is firPairs with AVX2, products rounded apart as the generic
// kernel's (so bit for bit the same): 8 pairs a step and then 4 in
// assembly, the rest by the generic kernel.
func firPairsAVX2(out, in []float32, w [4]float32) {
	pairs := len(out) / 2
	body := pairs &^ 3
	if body > 0 {
		_ = in[body]      // the assembly reads in[0..body]
		_ = out[2*body-1] // and writes out[0..2·body)
		firPairsAVX2asm(&out[0], &in[0], &w, body)
	}
	firPairsGeneric(out[2*body:], in[body:], w)
}

// firShiftedRowsAVX2 is firShiftedRows with firRows4AVX2's split of each
// row: its multiples of 8 fused in assembly and the rest as the generic
// kernel computes it, all the rows in one call down to a multiple of 4 (a
// last 4 in the assembly too), the last 1-3 of each row by the generic
// kernel.
func firShiftedRowsAVX2(dst []float32, dstPitch int, src []float32, srcPitch, n, rows int, w [4]float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	body := n &^ 3
	if body > 0 {
		_ = dst[(rows-1)*dstPitch+n-1] // the last write
		_ = src[(rows-1)*srcPitch+n+2] // and read, checked here
		fir4ShiftedAVX2(&dst[0], dstPitch, &src[0], srcPitch, &w, body, rows)
	}
	if body < n {
		for r := 0; r < rows; r++ {
			s := src[r*srcPitch+body:]
			firRows4Generic(dst[r*dstPitch+body:r*dstPitch+n], s, s[1:], s[2:], s[3:], w)
		}
	}
}
