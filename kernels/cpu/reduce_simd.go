package cpu

import "sync"

// Row sums of the SIMD variants: float32 values widened and accumulated in
// float64 like ReduceRowsRef, in vector lanes and fixed chunks instead of one
// running sum, so results can differ from it by float64 rounding (not visible
// after rounding to float32 but for rare ties). Long rows are cut into chunks
// of fixed length, summed in parallel and combined in order: the result does
// not depend on the number of threads.

// sumChunk is the chunk length of long rows.
const sumChunk = 1 << 16

type sumKernel struct {
	block int                                   // elements per loop iteration
	accs  int                                   // doubles the loop leaves in acc
	sum   func(x *float32, n int, acc *float64) // n a multiple of block
	// lanes is sum's loop on its four registers of accs doubles kept in
	// memory (4·accs, register r at r·accs) and left uncombined: a sum in
	// pieces, each a multiple of block, combined by combineLanes, has the
	// bits of one sumRange over their concatenation.
	lanes func(x *float32, n int, lanes *float64)
}

// combineLanes is what sumRange makes of the loop's registers, for a range
// without a tail: (R0 + R1) + (R2 + R3) lane by lane, as the loop's end
// combines them, then the lanes added in order.
func (k *sumKernel) combineLanes(lanes *[32]float64) float64 {
	var s float64
	for i := 0; i < k.accs; i++ {
		s += (lanes[i] + lanes[k.accs+i]) + (lanes[2*k.accs+i] + lanes[3*k.accs+i])
	}
	return s
}

// sumRange is Σ x in float64: the vector loop on whole blocks, the rest in
// order. acc is scratch for the loop's lanes, passed in because a local array
// handed to the assembly through a func value would escape to the heap.
func (k *sumKernel) sumRange(x []float32, acc *[8]float64) float64 {
	m := len(x) / k.block * k.block
	*acc = [8]float64{}
	if m > 0 {
		k.sum(&x[0], m, &acc[0])
	}
	var s float64
	for _, v := range acc[:k.accs] {
		s += v
	}
	for _, v := range x[m:] {
		s += float64(v)
	}
	return s
}

type sumJob struct {
	k            *sumKernel
	cols, perRow int // row length, chunks per row
	src          []float32
	partial      []float64 // one per chunk
	lanes        [][8]float64
}

var sumJobs = sync.Pool{New: func() any { return new(sumJob) }}

func (j *sumJob) runRange(lo, hi int) {
	for t := lo; t < hi; t++ {
		r, c := t/j.perRow, t%j.perRow
		from := r*j.cols + c*sumChunk
		to := min(from+sumChunk, (r+1)*j.cols)
		j.partial[t] = j.k.sumRange(j.src[from:to], &j.lanes[t])
	}
}

// reduceRows is a ReduceRows kernel: sums vectorised, the rest by the reference.
func (k *sumKernel) reduceRows(op ReduceOp, rows, cols int, dst, src []float32) {
	if op != ReduceSum || cols < k.block {
		ReduceRowsRef(op, rows, cols, dst, src)
		return
	}
	j := sumJobs.Get().(*sumJob)
	j.k, j.cols, j.src = k, cols, src[:rows*cols]
	j.perRow = ceilDiv(cols, sumChunk)
	tasks := rows * j.perRow
	if cap(j.partial) < tasks {
		j.partial = make([]float64, tasks)
		j.lanes = make([][8]float64, tasks)
	}
	j.partial, j.lanes = j.partial[:tasks], j.lanes[:tasks]
	parallelRange(tasks, min(cols, sumChunk)/4, j)
	dst = dst[:rows]
	for r := range dst {
		var s float64
		for _, v := range j.partial[r*j.perRow : (r+1)*j.perRow] {
			s += v
		}
		dst[r] = float32(s)
	}
	j.src = nil
	sumJobs.Put(j)
}

// sumOuterInner is a SumOuterInner kernel: runs of the inner axis summed
// with the vector loop.
func (k *sumKernel) sumOuterInner(outer, mid, inner int, dst, src []float32) {
	sumOuterInner(k, outer, mid, inner, dst, src)
}
