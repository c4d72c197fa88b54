package cpu

import "math"

// LayerNormRowsRef normalises rows contiguous rows of length cols:
//
//	mean[r] = Σ_j x[r,j] / cols,  rstd[r] = 1/√(Σ_j (x[r,j]-mean[r])² / cols + eps),
//	dst[r,j] = (x[r,j] - mean[r]) · rstd[r] · weight[j] + bias[j].
//
// The variance is biased (divides by cols), as torch's layer_norm. weight and
// bias may be nil (scale 1, shift 0). Statistics use two passes in float64,
// which is exact enough that no Welford update is needed. mean and rstd are
// written for the backward pass; dst may alias src.
func LayerNormRowsRef(rows, cols int, eps float32, dst, src, weight, bias, mean, rstd []float32) {
	ParallelFor(rows, cols*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := src[r*cols : (r+1)*cols]
			out := dst[r*cols : (r+1)*cols]
			var s float64
			for _, v := range in {
				s += float64(v)
			}
			mu := s / float64(cols)
			var ss float64
			for _, v := range in {
				d := float64(v) - mu
				ss += d * d
			}
			rs := 1 / math.Sqrt(ss/float64(cols)+float64(eps))
			mean[r], rstd[r] = float32(mu), float32(rs)
			for j, v := range in {
				y := (float64(v) - mu) * rs
				if weight != nil {
					y *= float64(weight[j])
				}
				if bias != nil {
					y += float64(bias[j])
				}
				out[j] = float32(y)
			}
		}
	})
}

// LayerNormRows is the dispatch point for layer normalisation.
var LayerNormRows = LayerNormRowsRef
