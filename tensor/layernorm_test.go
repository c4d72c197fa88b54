package tensor

import (
	"math"
	"testing"
)

// naiveLayerNorm normalises rows of length cols in float64.
func naiveLayerNorm(x, w, b []float32, cols int, eps float64) (y, mean, rstd []float64) {
	rows := len(x) / cols
	y = make([]float64, len(x))
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		var s, ss float64
		for _, v := range row {
			s += float64(v)
		}
		mu := s / float64(cols)
		for _, v := range row {
			ss += (float64(v) - mu) * (float64(v) - mu)
		}
		rs := 1 / math.Sqrt(ss/float64(cols)+eps)
		mean, rstd = append(mean, mu), append(rstd, rs)
		for j, v := range row {
			o := (float64(v) - mu) * rs
			if w != nil {
				o *= float64(w[j])
			}
			if b != nil {
				o += float64(b[j])
			}
			y[r*cols+j] = o
		}
	}
	return y, mean, rstd
}

func TestLayerNormMatchesNaive(t *testing.T) {
	rng := NewRNG(5)
	// An offset of 100 checks that the variance is not taken as E[x²]-E[x]².
	x := AddScalar(rng.Normal(3, 5, 7), 100)
	for _, c := range []struct {
		normDims int
		affine   bool
	}{{1, true}, {1, false}, {2, true}, {2, false}, {3, true}} {
		normShape := x.Shape()[3-c.normDims:]
		var w, b *Tensor
		var wd, bd []float32
		if c.affine {
			w, b = rng.Normal(normShape...), rng.Normal(normShape...)
			wd, bd = w.ToSlice(), b.ToSlice()
		}
		y, mean, rstd := LayerNorm(x, w, b, c.normDims, 1e-5)
		cols := numel(normShape)
		wy, wm, wr := naiveLayerNorm(x.ToSlice(), wd, bd, cols, 1e-5)
		closeTo(t, "y", y.ToSlice(), wy, 2e-6)
		closeTo(t, "mean", mean.ToSlice(), wm, 1e-7)
		closeTo(t, "rstd", rstd.ToSlice(), wr, 1e-6)
		statShape := x.Shape()
		for i := 3 - c.normDims; i < 3; i++ {
			statShape[i] = 1
		}
		if !SameShape(mean.Shape(), statShape) || !SameShape(rstd.Shape(), statShape) {
			t.Fatalf("normDims %d: stats of shape %v, %v; want %v", c.normDims, mean.Shape(), rstd.Shape(), statShape)
		}
	}
	// Enough rows to be split across goroutines.
	big := rng.Normal(2000, 33)
	by, _, _ := LayerNorm(big, nil, nil, 1, 1e-5)
	bw, _, _ := naiveLayerNorm(big.ToSlice(), nil, nil, 33, 1e-5)
	closeTo(t, "y of many rows", by.ToSlice(), bw, 2e-6)
	// Non-contiguous input.
	xt := x.Transpose(0, 1)
	y, _, _ := LayerNorm(xt, nil, nil, 1, 1e-5)
	wy, _, _ := naiveLayerNorm(xt.ToSlice(), nil, nil, 7, 1e-5)
	closeTo(t, "y of a transposed view", y.ToSlice(), wy, 2e-6)
}

func TestLayerNormRejectsBadArguments(t *testing.T) {
	x := Ones(2, 3, 4)
	expectPanic(t, "normDims", func() { LayerNorm(x, nil, nil, 0, 1e-5) })
	expectPanic(t, "normDims", func() { LayerNorm(x, nil, nil, 4, 1e-5) })
	expectPanic(t, "w has shape", func() { LayerNorm(x, Ones(3), nil, 1, 1e-5) })
	expectPanic(t, "b has shape", func() { LayerNorm(x, nil, Ones(4, 3), 2, 1e-5) })
}
