//go:build amd64

package cpu

//go:noescape
func fir2AVX2(dst, a, b *float32, w0, w1 float32, n int)

//go:noescape
func fir4AVX2(dst, a, b, c, d *float32, w *[4]float32, n int)

// firRows2AVX2 is firRows2 with AVX2 and FMA: the multiples of 8 in
// assembly, the rest in Go (which rounds the product and the sum apart, the
// assembly once, in its FMA).
func firRows2AVX2(dst, a, b []float32, w0, w1 float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	if body := n &^ 7; body > 0 {
		fir2AVX2(&dst[0], &a[0], &b[0], w0, w1, body)
	}
	for i := n &^ 7; i < n; i++ {
		dst[i] = a[i]*w0 + b[i]*w1
	}
}

// firRows4AVX2 is firRows4 with AVX2 and FMA (tail in Go, as firRows2AVX2).
func firRows4AVX2(dst, a, b, c, d []float32, w [4]float32) {
	n := len(dst)
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	if body := n &^ 7; body > 0 {
		fir4AVX2(&dst[0], &a[0], &b[0], &c[0], &d[0], &w, body)
	}
	for i := n &^ 7; i < n; i++ {
		dst[i] = a[i]*w[0] + b[i]*w[1] + c[i]*w[2] + d[i]*w[3]
	}
}
