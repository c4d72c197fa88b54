package cpu

import (
	"math"
	"sync"
)

// DemodRef computes StyleGAN2's demodulation coefficients in one pass:
// d[n,o] = 1/√(Σ_i s[n,i]² · Σ_k w[o,i,k]² + eps) for weight [O,I,KK] and
// styles [N,I], without forming the per-sample weights (N·O·I·KK values).
// The per-filter sums of squares are computed once, then each (n,o) is a
// dot product over I, accumulated in float64.
//
// Every sum runs in its own order (k, then i, from zero); the work is split
// over filters and samples, and four sums of squares, and four filters' dot
// products, run side by side (independent chains instead of one float64 add
// after another), which changes no bits.
func DemodRef(n, o, in, kk int, weight, styles []float32, eps float32, d []float32) {
	// The table of per-filter sums of squares (2 MB at 512x512) is reused
	// across calls rather than allocated, zeroed and collected each time;
	// every entry is written before it is read.
	table := demodTables.Get().(*[]float64)
	defer demodTables.Put(table)
	if cap(*table) < o*in {
		*table = make([]float64, o*in)
	}
	wsq := (*table)[:o*in]
	ParallelFor(o, in*kk, func(lo, hi int) {
		e, end := lo*in, hi*in // filters' rows (o, i), kk values each
		for ; e+4 <= end; e += 4 {
			r := weight[e*kk : (e+4)*kk]
			var s0, s1, s2, s3 float64
			for k := 0; k < kk; k++ {
				v0, v1, v2, v3 := float64(r[k]), float64(r[kk+k]), float64(r[2*kk+k]), float64(r[3*kk+k])
				s0 += v0 * v0
				s1 += v1 * v1
				s2 += v2 * v2
				s3 += v3 * v3
			}
			wsq[e], wsq[e+1], wsq[e+2], wsq[e+3] = s0, s1, s2, s3
		}
		for ; e < end; e++ {
			var s float64
			for _, v := range weight[e*kk : (e+1)*kk] {
				s += float64(v) * float64(v)
			}
			wsq[e] = s
		}
	})
	coef := func(s float64) float32 { return float32(1 / math.Sqrt(s+float64(eps))) }
	ParallelFor(n, o*in, func(lo, hi int) {
		ssq := make([]float64, in)
		for b := lo; b < hi; b++ {
			for ic, v := range styles[b*in : (b+1)*in] {
				ssq[ic] = float64(v) * float64(v)
			}
			oc := 0
			for ; oc+4 <= o; oc += 4 {
				w0, w1 := wsq[oc*in:(oc+1)*in], wsq[(oc+1)*in:(oc+2)*in]
				w2, w3 := wsq[(oc+2)*in:(oc+3)*in], wsq[(oc+3)*in:(oc+4)*in]
				var s0, s1, s2, s3 float64
				for ic, q := range ssq {
					s0 += q * w0[ic]
					s1 += q * w1[ic]
					s2 += q * w2[ic]
					s3 += q * w3[ic]
				}
				d[b*o+oc], d[b*o+oc+1], d[b*o+oc+2], d[b*o+oc+3] = coef(s0), coef(s1), coef(s2), coef(s3)
			}
			for ; oc < o; oc++ {
				var s float64
				for ic, w := range wsq[oc*in : (oc+1)*in] {
					s += ssq[ic] * w
				}
				d[b*o+oc] = coef(s)
			}
		}
	})
}

var demodTables = sync.Pool{New: func() any { return new([]float64) }}

// Demod is the dispatch point of the demodulation kernel.
var Demod = DemodRef
