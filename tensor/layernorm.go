package tensor

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// LayerNorm normalises x over its trailing normDims dimensions:
// y = (x - mean) · rstd · w + b with rstd = 1/√(biased variance + eps).
// w and b have the shape of those trailing dims and may be nil. mean and rstd
// are returned for the backward pass with x's shape, the normalised dims set
// to 1 (so they broadcast against x), as torch's native_layer_norm.
func LayerNorm(x, w, b *Tensor, normDims int, eps float32) (y, mean, rstd *Tensor) {
	if dispatchCUDA("LayerNorm", x, w, b) {
		return cudaLayerNorm(x, w, b, normDims, eps)
	}
	n := x.Dim()
	if normDims < 1 || normDims > n {
		panic(fmt.Sprintf("tensor.LayerNorm: normDims %d out of range for x of shape %v", normDims, x.shape))
	}
	lead := n - normDims
	normShape := x.shape[lead:]
	wd, bd := affineData("w", w, normShape), affineData("b", b, normShape)
	cols := numel(normShape)
	statShape := cloneInts(x.shape)
	for i := lead; i < n; i++ {
		statShape[i] = 1
	}
	src := x.Contiguous()
	y = Empty(x.shape...)
	mean, rstd = Empty(statShape...), Empty(statShape...)
	if cols == 0 { // statistics of nothing, as torch: 0/0
		nan := float32(math.NaN())
		return y, Full(nan, statShape...), Full(nan, statShape...)
	}
	cpu.LayerNormRows(x.Numel()/cols, cols, eps, y.storage.data, src.Data(), wd, bd,
		mean.storage.data, rstd.storage.data)
	return y, mean, rstd
}

// affineData returns the contiguous elements of a LayerNorm weight or bias
// (nil stays nil) after checking its shape against the normalised dims.
func affineData(name string, t *Tensor, normShape []int) []float32 {
	if t == nil {
		return nil
	}
	if !SameShape(t.shape, normShape) {
		panic(fmt.Sprintf("tensor.LayerNorm: %s has shape %v, want the normalised shape %v", name, t.shape, normShape))
	}
	return t.Contiguous().Data()
}
