package cpu

import (
	"runtime"
	"sync"
)

// vecKernels are the vector loops of one instruction set for the elementwise
// kernels (see elementwise_amd64_gen.go), plus its bias_act rows and row sums.
// Each loop handles a multiple of block elements, all strides 1; everything
// else (the tail, strided or broadcast rows they do not cover, other ops) goes
// to the scalar reference (the float64 unary ops split between workers). The
// ops covered are IEEE-exact in float32, so results equal the reference's bit
// for bit (NaN payloads aside), except QuickGelu, whose vector kernel is
// float32 and a few ulp from the float64 reference (TestQuickGeluVariants).
type vecKernels struct {
	block int                                                // one vector: the loops take any multiple
	vv    [OpDiv + 1]func(dst, a, b *float32, n int)         // dst = a op b, Add..Div
	vs    [OpDiv + 1]func(dst, a *float32, s float32, n int) // dst = a op s
	sv    [OpDiv + 1]func(dst, a *float32, s float32, n int) // dst = s op a (Sub, Div)
	relu  func(dst, a *float32, n int)
	lrelu func(dst, a *float32, slope float32, n int)
	// qgelu is QuickGelu, any n (tails masked), not bit-exact: float32
	// exp and division, a few ulp from the float64 reference (rows_amd64_gen.go).
	qgelu func(dst, a *float32, n int)

	biasAct biasActKernels
	sum     sumKernel
}

// vecForm is which vector loop a row maps to.
type vecForm int

const (
	formNone vecForm = iota
	formVV
	formVS
	formSV
	formRelu
	formLrelu
	formQuickGelu
)

// Rows longer than this are split between the workers: at a few GB/s per
// core, 64K elements take tens of microseconds, well above the hand-off cost.
const vecParallelElems = 1 << 16

// vecJob is one row of an elementwise kernel, kept in a pool so splitting it
// between workers does not allocate.
type vecJob struct {
	k         *vecKernels
	form      vecForm
	op        BinaryOp
	s         float32
	n, chunk  int
	dst, a, b []float32 // each starting at the row's first element
}

var vecJobs = sync.Pool{New: func() any { return new(vecJob) }}

func (j *vecJob) runRange(lo, hi int) {
	for c := lo; c < hi; c++ {
		from, to := c*j.chunk, min((c+1)*j.chunk, j.n)
		j.run(from, to)
	}
}

// run does elements [from,to): the vector loop on whole blocks, the
// reference on the rest.
func (j *vecJob) run(from, to int) {
	if j.form == formQuickGelu {
		if to > from {
			j.k.qgelu(&j.dst[from], &j.a[from], to-from)
		}
		return
	}
	m := (to - from) / j.k.block * j.k.block
	if m > 0 {
		d, a := &j.dst[from], &j.a[from]
		switch j.form {
		case formVV:
			j.k.vv[j.op](d, a, &j.b[from], m)
		case formVS:
			j.k.vs[j.op](d, a, j.s, m)
		case formSV:
			j.k.sv[j.op](d, a, j.s, m)
		case formRelu:
			j.k.relu(d, a, m)
		case formLrelu:
			j.k.lrelu(d, a, j.s, m)
		}
	}
	if from += m; from == to {
		return
	}
	n, dst, a := to-from, j.dst[from:to], j.a[from:to]
	switch j.form {
	case formVV:
		BinaryRef(j.op, n, dst, 0, 1, a, 0, 1, j.b[from:to], 0, 1)
	case formVS:
		BinaryRef(j.op, n, dst, 0, 1, a, 0, 1, []float32{j.s}, 0, 0)
	case formSV:
		BinaryRef(j.op, n, dst, 0, 1, []float32{j.s}, 0, 0, a, 0, 1)
	case formRelu:
		UnaryRef(OpRelu, 0, n, dst, 0, 1, a, 0, 1)
	case formLrelu:
		UnaryRef(OpLeakyRelu, j.s, n, dst, 0, 1, a, 0, 1)
	}
}

// addInto is addIntoScalar with the vector add on whole blocks.
func (k *vecKernels) addInto(dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	m := n / k.block * k.block
	if m > 0 {
		k.vv[OpAdd](&dst[0], &dst[0], &src[0], m)
	}
	addIntoScalar(dst[m:], src[m:])
}

// do runs the row, in parallel when it is long. The slices are bounds-checked
// here, once, because the assembly does not check.
func (k *vecKernels) do(form vecForm, op BinaryOp, s float32, n int, dst, a, b []float32) {
	j := vecJobs.Get().(*vecJob)
	j.k, j.form, j.op, j.s, j.n = k, form, op, s, n
	j.dst, j.a = dst[:n:n], a[:n:n]
	if b != nil {
		j.b = b[:n:n]
	}
	if n < vecParallelElems {
		j.run(0, n)
	} else {
		// Whole cache lines a chunk, so that workers never share one.
		j.chunk = roundUp(ceilDiv(n, runtime.GOMAXPROCS(0)*chunksPerWorker), max(k.block, 16))
		parallelRange(ceilDiv(n, j.chunk), minGrain, j)
	}
	j.dst, j.a, j.b = nil, nil, nil
	vecJobs.Put(j)
}

// binary is a Binary kernel: vector loops for contiguous rows of Add, Sub,
// Mul, Div, with either operand possibly a broadcast scalar.
func (k *vecKernels) binary(op BinaryOp, n int, dst []float32, d, ds int, a []float32, ao, as int, b []float32, bo, bs int) {
	if n >= k.block && ds == 1 && op <= OpDiv && op >= OpAdd {
		switch {
		case as == 1 && bs == 1:
			k.do(formVV, op, 0, n, dst[d:], a[ao:], b[bo:])
			return
		case as == 1 && bs == 0:
			k.do(formVS, op, b[bo], n, dst[d:], a[ao:], nil)
			return
		case as == 0 && bs == 1:
			if op == OpAdd || op == OpMul {
				k.do(formVS, op, a[ao], n, dst[d:], b[bo:], nil)
			} else {
				k.do(formSV, op, a[ao], n, dst[d:], b[bo:], nil)
			}
			return
		}
	}
	BinaryRef(op, n, dst, d, ds, a, ao, as, b, bo, bs)
}

// unary is a Unary kernel: vector loops for contiguous rows of the
// arithmetic unary ops.
func (k *vecKernels) unary(op UnaryOp, p float32, n int, dst []float32, d, ds int, x []float32, a, as int) {
	if n >= k.block && ds == 1 && as == 1 {
		dst, x := dst[d:], x[a:]
		switch op {
		case OpAddScalar:
			k.do(formVS, OpAdd, p, n, dst, x, nil)
			return
		case OpMulScalar:
			k.do(formVS, OpMul, p, n, dst, x, nil)
			return
		case OpRsubScalar:
			k.do(formSV, OpSub, p, n, dst, x, nil)
			return
		case OpNeg: // x·(−1) is −x exactly, signed zeros included
			k.do(formVS, OpMul, -1, n, dst, x, nil)
			return
		case OpSquare:
			k.do(formVV, OpMul, 0, n, dst, x, x)
			return
		case OpRelu:
			k.do(formRelu, 0, 0, n, dst, x, nil)
			return
		case OpLeakyRelu:
			k.do(formLrelu, 0, p, n, dst, x, nil)
			return
		case OpQuickGelu:
			k.do(formQuickGelu, 0, 0, n, dst, x, nil)
			return
		}
	}
	unaryParallelRef(op, p, n, dst, d, ds, x, a, as)
}
