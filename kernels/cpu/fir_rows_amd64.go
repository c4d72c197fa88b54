//go:build amd64

package cpu

//go:noescape
func fir2AVX2(dst, a, b *float32, w0, w1 float32, n int)

//go:noescape
func fir4AVX2(dst, a, b, c, d *float32, w *[4]float32, n int)

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
