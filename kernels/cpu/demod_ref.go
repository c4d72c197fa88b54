package cpu

import "math"

// DemodRef computes StyleGAN2's demodulation coefficients in one pass:
// d[n,o] = 1/√(Σ_i s[n,i]² · Σ_k w[o,i,k]² + eps) for weight [O,I,KK] and
// styles [N,I], without forming the per-sample weights (N·O·I·KK values).
// The per-filter sums of squares are computed once, then each (n,o) is a
// dot product over I, accumulated in float64.
func DemodRef(n, o, in, kk int, weight, styles []float32, eps float32, d []float32) {
	wsq := make([]float64, o*in)
	for oc := 0; oc < o; oc++ {
		for ic := 0; ic < in; ic++ {
			var s float64
			for _, v := range weight[(oc*in+ic)*kk : (oc*in+ic+1)*kk] {
				s += float64(v) * float64(v)
			}
			wsq[oc*in+ic] = s
		}
	}
	ParallelFor(n, o*in, func(lo, hi int) {
		ssq := make([]float64, in)
		for b := lo; b < hi; b++ {
			for ic, v := range styles[b*in : (b+1)*in] {
				ssq[ic] = float64(v) * float64(v)
			}
			for oc := 0; oc < o; oc++ {
				var s float64
				for ic, w := range wsq[oc*in : (oc+1)*in] {
					s += ssq[ic] * w
				}
				d[b*o+oc] = float32(1 / math.Sqrt(s+float64(eps)))
			}
		}
	})
}

// Demod is the dispatch point of the demodulation kernel.
var Demod = DemodRef
