//go:build amd64

package cpu

// Adam and EMA updates in YMM registers (adam_amd64.s): eight float32 lanes
// for the moments, two times four float64 lanes for the step. The float64
// square root and division dominate, and 512-bit registers would not divide
// faster on the machines at hand, so the AVX-512 variant uses these too.

//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, c *AdamCoefs, clean bool)

//go:noescape
func emaAVX2(avg, src *float32, n int, beta float32)

func adamUpdateAVX2(w, g, m, v []float32, c AdamCoefs) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	n := len(w) &^ 7
	if n > 0 {
		adamAVX2(&w[0], &g[0], &m[0], &v[0], n, &c, c.InfTo > 0)
	}
	AdamUpdateRef(w[n:], g[n:], m[n:], v[n:], c)
}

func emaUpdateAVX2(avg, src []float32, beta float32) {
	src = src[:len(avg)]
	n := len(avg) &^ 7
	if n > 0 {
		emaAVX2(&avg[0], &src[0], n, beta)
	}
	EMAUpdateRef(avg[n:], src[n:], beta)
}
