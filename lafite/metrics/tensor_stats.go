package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/lafite-go/lafite/tensor"
)

// statsChunk is how many rows TensorStats converts to float64 at a time.
const statsChunk = 2048

// TensorStats is ComputeStats of the rows of an [N, D] tensor without
// copying all of them to float64 at once: two passes (the mean, then the
// centred products) over chunks of rows, so the statistics of a large
// dataset's features (118k x 512) take the covariance's memory, not eight
// times the features'.
func TensorStats(x *tensor.Tensor) (Stats, error) {
	if x.Dim() != 2 {
		return Stats{}, fmt.Errorf("metrics: features of shape %v, want [N, D]", x.Shape())
	}
	n, d := x.Size(0), x.Size(1)
	if n < 2 || d == 0 {
		return Stats{}, fmt.Errorf("metrics: %d samples of dimension %d, need at least 2 of dimension 1 or more", n, d)
	}
	data := x.To(tensor.CPU).Contiguous().Data()
	mean := make([]float64, d)
	for i := range n {
		for j, v := range data[i*d : (i+1)*d] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Stats{}, fmt.Errorf("metrics: sample %d feature %d is %v", i, j, v)
			}
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	sum := mat.NewSymDense(d, nil)
	var part mat.SymDense
	chunk := mat.NewDense(min(statsChunk, n), d, nil)
	for lo := 0; lo < n; lo += statsChunk {
		rows := min(statsChunk, n-lo)
		c := chunk.Slice(0, rows, 0, d).(*mat.Dense)
		for r := range rows {
			for j, v := range data[(lo+r)*d : (lo+r+1)*d] {
				c.Set(r, j, float64(v)-mean[j])
			}
		}
		part.SymOuterK(1, c.T()) // cᵀc
		sum.AddSym(sum, &part)
	}
	sum.ScaleSym(1/float64(n-1), sum)
	return Stats{Mean: mean, Cov: sum, N: n}, nil
}
