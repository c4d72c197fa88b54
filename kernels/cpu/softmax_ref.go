package cpu

import "math"

// softmaxCost is the rough scalar work per element (an exp and two passes),
// used to decide whether rows are worth spreading across goroutines.
const softmaxCost = 24

// rowMax is the largest element of row; NaN propagates so that a NaN input
// gives a NaN row, as in torch. An empty row gives -Inf.
func rowMax(row []float32) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		x := float64(v)
		if x > m || x != x {
			m = x
			if x != x {
				break
			}
		}
	}
	return m
}

// SoftmaxRowsRef writes dst[r,j] = exp(src[r,j] - max_r) / Σ_j exp(src[r,j] - max_r)
// for rows contiguous rows of length cols. Subtracting the row maximum keeps
// exp from overflowing; exps and the sum are taken in float64. dst may alias
// src. A row that is entirely -Inf gives NaN (0/0), as in torch.
func SoftmaxRowsRef(rows, cols int, dst, src []float32) {
	ParallelFor(rows, cols*softmaxCost, func(lo, hi int) {
		e := make([]float64, cols)
		for r := lo; r < hi; r++ {
			in := src[r*cols : (r+1)*cols]
			out := dst[r*cols : (r+1)*cols]
			m := rowMax(in)
			var s float64
			for j, v := range in {
				e[j] = math.Exp(float64(v) - m)
				s += e[j]
			}
			inv := 1 / s
			for j := range out {
				out[j] = float32(e[j] * inv)
			}
		}
	})
}

// LogSoftmaxRowsRef writes dst[r,j] = src[r,j] - max_r - log Σ_j exp(src[r,j] - max_r),
// computed in float64 with the same max subtraction as SoftmaxRowsRef. dst may
// alias src.
func LogSoftmaxRowsRef(rows, cols int, dst, src []float32) {
	ParallelFor(rows, cols*softmaxCost, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := src[r*cols : (r+1)*cols]
			out := dst[r*cols : (r+1)*cols]
			m := rowMax(in)
			var s float64
			for _, v := range in {
				s += math.Exp(float64(v) - m)
			}
			shift := m + math.Log(s)
			for j, v := range in {
				out[j] = float32(float64(v) - shift)
			}
		}
	})
}

// SoftmaxRows and LogSoftmaxRows are the dispatch points for row softmax.
var (
	SoftmaxRows    = SoftmaxRowsRef
	LogSoftmaxRows = LogSoftmaxRowsRef
)
