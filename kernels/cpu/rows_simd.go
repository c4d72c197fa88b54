package cpu

import (
	"math"
	"sync"
)

// rowKernels are one instruction set's vector row kernels for softmax,
// log-softmax and layer norm (rows_amd64_gen.go). Each takes rows of any
// length, tails included, and does not check bounds: the Go side slices
// first. Against the float64 references:
//
//   - softmax: exp in float32 (about 1 ulp, of the exact x - max), its sum in
//     float64 lanes, then exp · float32(1/sum): a few float32 ulp;
//   - log-softmax: the same sum, then the reference's float64 x - max - log sum;
//   - layer norm: all in float64 lanes, the output pass in the reference's
//     order, so only the order of the float64 sums differs.
//
// Special values follow the references: a NaN in a row gives a NaN row, as
// does a row of -Inf (0/0) or a +Inf; -Inf elements otherwise give 0.
type rowKernels struct {
	softmax   func(dst, src *float32, rows, cols int)
	maxExpSum func(src *float32, n int) (m float32, s float64)
	logShift  func(dst, src *float32, n int, shift float64)
	layerNorm func(dst, src, w, b, mean, rstd *float32, rows, cols int, eps float32)
	exp       func(dst, src *float32, n int) // e^x for x <= 0, for tests
}

// Work per element of the vector kernels in ParallelFor's units (scalar
// operations): rows are split between workers once a call has a few tens
// of thousands of elements.
const (
	softmaxVecCost   = 2
	layerNormVecCost = 1
)

type rowOp int

const (
	rowSoftmax rowOp = iota
	rowLogSoftmax
	rowLayerNorm
)

// rowJob is one call split by rows between the workers; pooled so the split
// does not allocate.
type rowJob struct {
	k              *rowKernels
	op             rowOp
	cols           int
	eps            float32
	dst, src, w, b []float32
	mean, rstd     []float32
}

var rowJobs = sync.Pool{New: func() any { return new(rowJob) }}

func (j *rowJob) runRange(lo, hi int) {
	c := j.cols
	dst, src := j.dst[lo*c:hi*c], j.src[lo*c:hi*c]
	switch j.op {
	case rowSoftmax:
		j.k.softmax(&dst[0], &src[0], hi-lo, c)
	case rowLogSoftmax:
		for r := 0; r < hi-lo; r++ {
			in := src[r*c : (r+1)*c]
			m, s := j.k.maxExpSum(&in[0], c)
			j.k.logShift(&dst[r*c], &in[0], c, float64(m)+math.Log(s))
		}
	case rowLayerNorm:
		var w, b *float32
		if j.w != nil {
			w = &j.w[0]
		}
		if j.b != nil {
			b = &j.b[0]
		}
		j.k.layerNorm(&dst[0], &src[0], w, b, &j.mean[lo], &j.rstd[lo], hi-lo, c, j.eps)
	}
}

func (k *rowKernels) run(j *rowJob, rows, cost int) {
	j.k = k
	parallelRange(rows, cost, j)
	*j = rowJob{}
	rowJobs.Put(j)
}

// softmaxRows is a SoftmaxRows kernel.
func (k *rowKernels) softmaxRows(rows, cols int, dst, src []float32) {
	if rows <= 0 || cols <= 0 {
		return
	}
	j := rowJobs.Get().(*rowJob)
	j.op, j.cols = rowSoftmax, cols
	j.dst, j.src = dst[:rows*cols], src[:rows*cols]
	k.run(j, rows, cols*softmaxVecCost)
}

// logSoftmaxRows is a LogSoftmaxRows kernel.
func (k *rowKernels) logSoftmaxRows(rows, cols int, dst, src []float32) {
	if rows <= 0 || cols <= 0 {
		return
	}
	j := rowJobs.Get().(*rowJob)
	j.op, j.cols = rowLogSoftmax, cols
	j.dst, j.src = dst[:rows*cols], src[:rows*cols]
	k.run(j, rows, cols*softmaxVecCost)
}

// layerNormRows is a LayerNormRows kernel.
func (k *rowKernels) layerNormRows(rows, cols int, eps float32, dst, src, weight, bias, mean, rstd []float32) {
	if rows <= 0 || cols <= 0 {
		LayerNormRowsRef(rows, cols, eps, dst, src, weight, bias, mean, rstd)
		return
	}
	j := rowJobs.Get().(*rowJob)
	j.op, j.cols, j.eps = rowLayerNorm, cols, eps
	j.dst, j.src = dst[:rows*cols], src[:rows*cols]
	j.mean, j.rstd = mean[:rows], rstd[:rows]
	if weight != nil {
		j.w = weight[:cols]
	}
	if bias != nil {
		j.b = bias[:cols]
	}
	k.run(j, rows, cols*layerNormVecCost)
}
