package cpu

import "sync"

// The scalar unary ops (exp, log, tanh, sigmoid, the GELUs, ...) evaluate in
// float64 per element, tens of nanoseconds each: long rows are split between
// the workers. Each element is computed by UnaryRef itself, so results are
// identical to it.

// unaryParallelElems is the row length from which splitting pays for the
// float64 transcendental ops.
const unaryParallelElems = 1 << 13

type unaryJob struct {
	op     UnaryOp
	p      float32
	n      int
	dst, x []float32
	d, ds  int
	a, as  int
}

var unaryJobs = sync.Pool{New: func() any { return new(unaryJob) }}

func (j *unaryJob) runRange(lo, hi int) {
	UnaryRef(j.op, j.p, hi-lo, j.dst, j.d+lo*j.ds, j.ds, j.x, j.a+lo*j.as, j.as)
}

// unaryParallelRef is UnaryRef split between the workers for long rows.
func unaryParallelRef(op UnaryOp, p float32, n int, dst []float32, d, ds int, x []float32, a, as int) {
	if n < unaryParallelElems {
		UnaryRef(op, p, n, dst, d, ds, x, a, as)
		return
	}
	j := unaryJobs.Get().(*unaryJob)
	*j = unaryJob{op: op, p: p, n: n, dst: dst, x: x, d: d, ds: ds, a: a, as: as}
	// A transcendental element costs about as much as 16 scalar operations.
	parallelRange(n, 16, j)
	*j = unaryJob{}
	unaryJobs.Put(j)
}
