//go:build amd64

package cpu

//go:generate go run rows_amd64_gen.go

// Row kernels of rows_amd64.s; see rowKernels for the contract.

//go:noescape
func softmaxRowsAVX2(dst, src *float32, rows, cols int)

//go:noescape
func maxExpSumAVX2(src *float32, n int) (m float32, s float64)

//go:noescape
func logShiftAVX2(dst, src *float32, n int, shift float64)

//go:noescape
func layerNormRowsAVX2(dst, src, w, b, mean, rstd *float32, rows, cols int, eps float32)

//go:noescape
func expRowAVX2(dst, src *float32, n int)

//go:noescape
func quickGeluAVX2(dst, src *float32, n int)

//go:noescape
func softmaxRowsAVX512(dst, src *float32, rows, cols int)

//go:noescape
func maxExpSumAVX512(src *float32, n int) (m float32, s float64)

//go:noescape
func logShiftAVX512(dst, src *float32, n int, shift float64)

//go:noescape
func layerNormRowsAVX512(dst, src, w, b, mean, rstd *float32, rows, cols int, eps float32)

//go:noescape
func expRowAVX512(dst, src *float32, n int)

//go:noescape
func quickGeluAVX512(dst, src *float32, n int)

var (
	avx2Rows = &rowKernels{
		softmax:   softmaxRowsAVX2,
		maxExpSum: maxExpSumAVX2,
		logShift:  logShiftAVX2,
		layerNorm: layerNormRowsAVX2,
		exp:       expRowAVX2,
	}
	avx512Rows = &rowKernels{
		softmax:   softmaxRowsAVX512,
		maxExpSum: maxExpSumAVX512,
		logShift:  logShiftAVX512,
		layerNorm: layerNormRowsAVX512,
		exp:       expRowAVX512,
	}
)
